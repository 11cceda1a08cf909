// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package exec

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/droverhq/drover/drivers/exec/cgroup"
	"github.com/droverhq/drover/drivers/supervise"
	"github.com/droverhq/drover/plugins"
)

// task is one supervised exec task.
type task struct {
	cfg    *plugins.TaskConfig
	proc   *supervise.Process
	group  *cgroup.Group
	logger hclog.Logger

	done     chan struct{} // closed once result is set
	result   *plugins.ExitResult
	exitedAt time.Time
}

// newTask starts watching proc: when it exits, its result is completed
// with whether the kernel OOM killed anything in its cgroup.
func newTask(cfg *plugins.TaskConfig, proc *supervise.Process, group *cgroup.Group, logger hclog.Logger) *task {
	t := &task{cfg: cfg, proc: proc, group: group, logger: logger, done: make(chan struct{})}
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
	t.result, t.exitedAt = res, at
	close(t.done)
}

// exit returns a copy of the task's result and when it exited, or nil
// while it runs.
func (t *task) exit() (*plugins.ExitResult, time.Time) {
	select {
	case <-t.done:
		r := *t.result
		return &r, t.exitedAt
	default:
		return nil, time.Time{}
	}
}

func (t *task) wait(ctx context.Context) (*plugins.ExitResult, error) {
	select {
	case <-t.done:
		r, _ := t.exit()
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// parseSignal maps a signal name ("SIGINT", or "INT") to the signal; empty
// means SIGTERM.
func parseSignal(name string) (syscall.Signal, error) {
	if name == "" {
		return syscall.SIGTERM, nil
	}
	upper := strings.ToUpper(name)
	if !strings.HasPrefix(upper, "SIG") {
		upper = "SIG" + upper
	}
	sig := unix.SignalNum(upper)
	if sig == 0 {
		return 0, fmt.Errorf("unknown signal %q", name)
	}
	return sig, nil
}
