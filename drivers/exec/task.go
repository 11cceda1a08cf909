// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package exec

import (
	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/drivers/cgroups"
	"github.com/droverhq/drover/drivers/supervise"
	"github.com/droverhq/drover/drivers/tasktable"
	"github.com/droverhq/drover/plugins"
)

// task is one supervised exec task. Its exit is the process's, completed
// with whether the kernel OOM killed anything in its cgroup.
type task struct {
	tasktable.Outcome

	cfg    *plugins.TaskConfig
	proc   *supervise.Process
	group  *cgroups.Group
	logger hclog.Logger
}

// newTask starts watching proc for its exit.
func newTask(cfg *plugins.TaskConfig, proc *supervise.Process, group *cgroups.Group, logger hclog.Logger) *task {
	t := &task{cfg: cfg, proc: proc, group: group, logger: logger}
	go t.watch()
	return t
}

func (t *task) watch() {
	<-t.proc.Done()
	res, at := t.proc.Exit()
	oom, err := t.group.OOMKilled()
	if err != nil {
		t.logger.Warn("cannot tell whether the task was OOM killed", "error", err)
	}
	res.OOMKilled = oom
	if oom {
		t.logger.Info("task was OOM killed", "memory_mb", t.cfg.MemoryMB, "memory_max_mb", t.cfg.MemoryMaxMB)
	}
	t.Set(res, at)
}
