// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"errors"
	"fmt"

	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// ErrSignalsUnsupported is returned by Signal when the task's driver
// cannot send signals to its tasks.
var ErrSignalsUnsupported = errors.New("driver does not support signals")

// ErrTaskNotRunning is returned by Signal when the task has no running
// attempt to deliver the signal to.
var ErrTaskNotRunning = errors.New("task not running")

// Signal sends sig ("SIGHUP") to the task's running attempt through its
// driver, recording Nomad's "Signaling" event first so that `alloc status`
// shows who touched the task. ctx bounds only the wait for the caller;
// drivers deliver signals synchronously.
func (tr *TaskRunner) Signal(ctx context.Context, sig string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ops, ok := tr.cfg.Driver.(plugins.TaskOperations)
	if !ok {
		return ErrSignalsUnsupported
	}
	tr.mu.Lock()
	id := tr.taskID
	tr.mu.Unlock()
	if id == "" {
		return fmt.Errorf("signal task %q: %w", tr.cfg.Task.Name, ErrTaskNotRunning)
	}
	tr.EmitEvent(EventSignaling(sig, "User requested signal"))
	if err := ops.SignalTask(id, sig); err != nil {
		return fmt.Errorf("signal task %q: %w", tr.cfg.Task.Name, err)
	}
	return nil
}

// EventSignaling is Nomad's "Signaling" event: a signal was sent to the
// task on request, with the signal's name and the reason.
func EventSignaling(sig, reason string) *structs.TaskEvent {
	ev := newEvent(structs.TaskSignaling, fmt.Sprintf("Task being sent signal %s: %s", sig, reason))
	ev.Details["signal"] = sig
	ev.Details["reason"] = reason
	return ev
}
