// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/droverhq/drover/plugins"
)

// ErrExecUnsupported is returned by Exec when the task's driver cannot run
// commands inside its tasks.
var ErrExecUnsupported = errors.New("driver does not support exec")

// Exec runs cmd inside the task's running attempt through its driver
// (`alloc exec`): stdin is copied to the command and its output to stdout
// and stderr until it exits, and its exit code is returned. With tty the
// command gets a terminal, whose size changes arrive on resize (may be
// nil). Cancelling ctx kills the command.
func (tr *TaskRunner) Exec(ctx context.Context, cmd []string, tty bool, stdin io.Reader,
	stdout, stderr io.Writer, resize <-chan plugins.TerminalSize) (int, error) {
	if len(cmd) == 0 {
		return 0, fmt.Errorf("exec in task %q: no command", tr.cfg.Task.Name)
	}
	ops, ok := tr.cfg.Driver.(plugins.TaskOperations)
	if !ok {
		return 0, fmt.Errorf("exec in task %q: %w", tr.cfg.Task.Name, ErrExecUnsupported)
	}
	caps, err := ops.Capabilities()
	if err != nil {
		return 0, fmt.Errorf("exec in task %q: driver capabilities: %w", tr.cfg.Task.Name, err)
	}
	if caps == nil || !caps.Exec {
		return 0, fmt.Errorf("exec in task %q: %w", tr.cfg.Task.Name, ErrExecUnsupported)
	}
	tr.mu.Lock()
	id := tr.taskID
	tr.mu.Unlock()
	if id == "" {
		return 0, fmt.Errorf("exec in task %q: %w", tr.cfg.Task.Name, ErrTaskNotRunning)
	}
	tr.logger.Debug("exec in task", "command", cmd[0], "tty", tty)
	code, err := ops.ExecTask(ctx, id, cmd, tty, stdin, stdout, stderr, resize)
	if err != nil {
		return 0, fmt.Errorf("exec in task %q: %w", tr.cfg.Task.Name, err)
	}
	return code, nil
}
