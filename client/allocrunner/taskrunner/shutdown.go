// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"fmt"
	"time"

	"github.com/droverhq/drover/structs"
)

// TaskWaitingShutdownDelay is Nomad's event type for a task waiting out
// its shutdown_delay before the kill signal.
const TaskWaitingShutdownDelay = "Waiting for shutdown delay"

// EventWaitingShutdownDelay announces the wait of a task's shutdown_delay.
func EventWaitingShutdownDelay(d time.Duration) *structs.TaskEvent {
	ev := newEvent(TaskWaitingShutdownDelay, fmt.Sprintf("Waiting for shutdown_delay of %v before killing the task.", d))
	ev.Details["shutdown_delay"] = d.String()
	return ev
}

// waitShutdownDelay waits the task's shutdown_delay before a running task
// is sent its kill signal: the time between taking the task out of
// service discovery and stopping it, for clients to move away. Drover
// registers no services yet, so the wait is all there is to do. The wait
// ends early if ctx (the caller's patience) or the task ends.
func (tr *TaskRunner) waitShutdownDelay(ctx context.Context) {
	d := tr.cfg.Task.ShutdownDelay
	if d <= 0 || tr.shutdownDelaySkipped() {
		return
	}
	tr.EmitEvent(EventWaitingShutdownDelay(d))
	tr.logger.Debug("waiting for shutdown delay", "delay", d)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	case <-tr.waitCh:
	case <-tr.detachCtx.Done():
	case <-tr.skipDelayCh:
	}
}

// SkipShutdownDelay has the task skip its shutdown_delay from now on,
// and cut short a wait in progress: the user stopped the allocation with
// `alloc stop -no-shutdown-delay` (?no_shutdown_delay=true), which the
// servers record in the allocation's DesiredTransition.
func (tr *TaskRunner) SkipShutdownDelay() {
	tr.skipDelayOnce.Do(func() { close(tr.skipDelayCh) })
}

func (tr *TaskRunner) shutdownDelaySkipped() bool {
	select {
	case <-tr.skipDelayCh:
		return true
	default:
		return false
	}
}
