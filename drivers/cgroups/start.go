// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package cgroups

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/droverhq/drover/drivers/osthread"
)

// StartCommand starts cmd (as cmd.Start does) with its process born inside
// the group, so that nothing it forks, however quickly, escapes the group.
// Moving the process in after it started would leave a window in which a
// task that daemonizes at once leaves a grandchild outside.
//
//   - v2: the kernel places the child itself (clone3 with
//     CLONE_INTO_CGROUP, Linux 5.7 or later).
//   - v1: only the forking thread joins the group (v1 moves single threads
//     through the "tasks" file), a locked OS thread that is thrown away
//     afterwards, so the plugin's other threads never enter the group and
//     the child inherits the thread's cgroups.
func (g *Group) StartCommand(cmd *exec.Cmd) error {
	if g.Version == V2 {
		return g.startV2(cmd)
	}
	return osthread.RunThrowaway(func() error {
		tid := strconv.Itoa(unix.Gettid())
		for _, dir := range g.Dirs {
			if err := writeFile(dir, "tasks", tid); err != nil {
				return fmt.Errorf("move starting thread into cgroup: %w", err)
			}
		}
		return cmd.Start()
	})
}

func (g *Group) startV2(cmd *exec.Cmd) error {
	dir := g.Dirs[unifiedKey]
	f, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup: %w", err)
	}
	defer f.Close()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = int(f.Fd())
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start in cgroup %s: %w", dir, err)
	}
	return nil
}
