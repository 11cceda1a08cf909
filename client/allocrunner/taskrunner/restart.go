// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"fmt"

	"github.com/droverhq/drover/structs"
)

// This file holds the user-requested restart (`alloc restart`): the running
// attempt is stopped with the task's kill signal and kill_timeout, and the
// Run loop starts the task again at once. Such a restart is the user's
// decision, not a failure, so it does not count against the restart policy.

// ReasonUserRequested is the restart reason of a restart a user asked for.
const ReasonUserRequested = "User requested restart"

// EventRestartSignaled is Nomad's "Restart Signaled" event: a restart was
// requested, with the reason.
func EventRestartSignaled(reason string) *structs.TaskEvent {
	ev := newEvent(structs.TaskRestartSignal, reason)
	ev.RestartReason = reason
	ev.Details["restart_reason"] = reason
	return ev
}

// Restart stops the running attempt and has the Run loop start the task
// again immediately, without consulting the restart policy. It returns
// once the attempt was stopped (within its kill_timeout) or ctx ends; the
// new attempt starts in the background. A task with no running attempt (not
// started yet, between attempts, dead or being killed) cannot be restarted:
// ErrTaskNotRunning.
func (tr *TaskRunner) Restart(ctx context.Context, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tr.mu.Lock()
	id := tr.taskID
	if id == "" || tr.killed {
		tr.mu.Unlock()
		return fmt.Errorf("restart task %q: %w", tr.cfg.Task.Name, ErrTaskNotRunning)
	}
	tr.restartRequested = true
	tr.mu.Unlock()

	tr.logger.Info("restarting task on request", "task_id", id, "reason", reason)
	tr.EmitEvent(EventRestartSignaled(reason))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.stopTask(id)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("restart task %q: %w", tr.cfg.Task.Name, ctx.Err())
	}
}

// takeRestartRequest reports (and clears) a pending user restart. The Run
// loop asks after every attempt: a requested restart skips the restart
// policy and starts the next attempt without delay.
func (tr *TaskRunner) takeRestartRequest() bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	requested := tr.restartRequested
	tr.restartRequested = false
	return requested && !tr.killed
}
