// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package rawexec

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"

	"github.com/droverhq/drover/drivers/execio"
	"github.com/droverhq/drover/drivers/supervise"
	"github.com/droverhq/drover/drivers/taskstats"
	"github.com/droverhq/drover/plugins"
)

var _ plugins.TaskOperations = (*Driver)(nil)

// Capabilities: raw_exec signals and execs, and isolates nothing.
func (d *Driver) Capabilities() (*plugins.Capabilities, error) {
	return &plugins.Capabilities{
		SendSignals: true,
		Exec:        true,
		FSIsolation: plugins.FSIsolationNone,
	}, nil
}

// SignalTask signals the task's whole process group, as StopTask does.
func (d *Driver) SignalTask(taskID, signal string) error {
	t, sig, err := d.tasks.Signaled("signal", taskID, signal)
	if err != nil {
		return err
	}
	if err := t.proc.Signal(sig); err != nil {
		return fmt.Errorf("signal task %q: %w", taskID, err)
	}
	return nil
}

// TaskStats measures the task's cgroup (see taskstats.CgroupSampler) or,
// for a task without one, its process group from /proc: the task and
// every descendant that stayed in its group.
func (d *Driver) TaskStats(ctx context.Context, taskID string, interval time.Duration) (<-chan *plugins.TaskResourceUsage, error) {
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return nil, err
	}
	if t.group != nil {
		return taskstats.Stream(ctx, interval, t.Done(), taskstats.CgroupSampler(t.group), t.logger), nil
	}
	pgid := t.proc.State().PID
	var procs taskstats.Procs
	sample := func(at time.Time) (*plugins.TaskResourceUsage, error) {
		list, err := taskstats.GroupProcs(pgid)
		if err != nil {
			return nil, err
		}
		return procs.Sample(at, list), nil
	}
	return taskstats.Stream(ctx, interval, t.Done(), sample, t.logger), nil
}

// ExecTask runs cmd as the task would run: in its directory, with its
// environment, looked up in its local/ directory and PATH, and in its
// cgroup when it has one.
func (d *Driver) ExecTask(ctx context.Context, taskID string, cmd []string, tty bool,
	stdin io.Reader, stdout, stderr io.Writer, resize <-chan plugins.TerminalSize) (int, error) {
	if len(cmd) == 0 {
		return 0, fmt.Errorf("exec in task %q: no command", taskID)
	}
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return 0, err
	}
	path, err := resolveCommand(cmd[0], t.cfg.TaskDir, t.cfg.Env["PATH"])
	if err != nil {
		return 0, fmt.Errorf("exec in task %q: %w", taskID, err)
	}
	c := &exec.Cmd{Path: path, Args: cmd, Env: envList(t.cfg.Env), Dir: t.cfg.TaskDir}
	if t.cfg.User != "" {
		cred, err := supervise.Credential(t.cfg.User)
		if err != nil {
			return 0, fmt.Errorf("exec in task %q: %w", taskID, err)
		}
		c.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	d.logger.Debug("exec in task", "task_id", taskID, "command", path, "tty", tty)
	start := c.Start
	if t.group != nil {
		// Born in the task's cgroup, as the task was: its stats count the
		// command, and stopping the task kills whatever the command left
		// behind, a daemon that escaped its process group included.
		start = func() error { return t.group.StartCommand(c) }
	}
	code, err := execio.RunWithStart(ctx, c, start, tty, stdin, stdout, stderr, resize)
	if err != nil {
		return 0, fmt.Errorf("exec in task %q: %w", taskID, err)
	}
	return code, nil
}
