// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package supervise

import (
	"fmt"
	"os/exec"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"
)

// Hooks let a driver take part in StartCommand.
type Hooks struct {
	// Start, when not nil, starts cmd in place of cmd.Start. raw_exec
	// uses it to have the process born inside the task's cgroup.
	Start func(cmd *exec.Cmd) error
	// Started, when not nil, runs once the process exists and before
	// StartCommand returns. The exec driver uses it to put the process in
	// its cgroup and then let it go on (its init waits on a pipe until
	// then), so that nothing the task runs escapes its limits. If Started
	// fails, the process is killed and reaped and StartCommand returns
	// that error.
	Started func(pid int) error
}

// StartCommand starts cmd, which the caller has prepared (path, arguments,
// environment, directory, extra files, SysProcAttr such as namespace clone
// flags), supervised like Start: in its own process group (Setpgid is
// forced), its output going to logs.
func StartCommand(cmd *exec.Cmd, logs LogSpec, logger hclog.Logger, hooks Hooks) (*Process, error) {
	if cmd.Env == nil {
		cmd.Env = []string{} // nil would mean the plugin's own environment
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	start := hooks.Start
	if start == nil {
		start = (*exec.Cmd).Start
	}

	pipes, err := openOutputs(logs)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = pipes.stdoutW, pipes.stderrW
	if err := start(cmd); err != nil {
		pipes.closeAll()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	pipes.closeWriters() // the task holds its own copies now

	pid := cmd.Process.Pid
	if hooks.Started != nil {
		if err := hooks.Started(pid); err != nil {
			syscall.Kill(-pid, syscall.SIGKILL)
			cmd.Wait()
			pipes.closeAll()
			return nil, err
		}
	}
	st, err := processStartTime(pid)
	if err != nil {
		// The process may already have exited; it is still ours to reap.
		logger.Debug("no start time for new process", "pid", pid, "error", err)
	}
	p := &Process{
		logger:    logger.With("pid", pid),
		state:     State{PID: pid, StartTime: st},
		startedAt: time.Now(),
		child:     true,
		done:      make(chan struct{}),
	}
	p.copyLogs(pipes)
	go p.waitChild(cmd)
	return p, nil
}
