// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"fmt"
	"io"

	"github.com/droverhq/drover/plugins"
)

// ExecAlloc runs cmd inside a task of an allocation this client runs
// (`alloc exec`, /v1/client/allocation/:id/exec), through the task's
// driver: stdin is copied to the command and its output to stdout and
// stderr until it exits. It returns the command's exit code; an error
// means the command could not run (unknown allocation or task, a task
// that is not running, a driver without exec) or its session broke.
// Cancelling ctx kills the command.
func (c *Client) ExecAlloc(ctx context.Context, allocID, task string, cmd []string, tty bool,
	stdin io.Reader, stdout, stderr io.Writer, resize <-chan plugins.TerminalSize) (int, error) {
	c.mu.Lock()
	ar, ok := c.allocs[allocID]
	c.mu.Unlock()
	if !ok {
		return 0, fmt.Errorf("exec in allocation %q: %w", allocID, ErrUnknownAlloc)
	}
	tr := ar.TaskRunner(task)
	if tr == nil {
		return 0, fmt.Errorf("exec in allocation %q: %w %q", allocID, ErrUnknownTask, task)
	}
	return tr.Exec(ctx, cmd, tty, stdin, stdout, stderr, resize)
}
