// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// TaskRestoreFailed is Nomad's event type for a task the client could not
// recover after an agent restart.
const TaskRestoreFailed = "Failed Restoring Task"

// EventRestoreFailed reports a task whose running attempt could not be
// recovered; the restart policy decides what happens next.
func EventRestoreFailed(err error) *structs.TaskEvent {
	ev := newEvent(TaskRestoreFailed, err.Error())
	ev.Message = err.Error()
	ev.Details["restore_error"] = err.Error()
	return ev
}

// restoredStart decides how a restored runner begins: recover reports
// that an attempt was running and must be recovered rather than started;
// done that the task had already finished for good, so there is nothing to
// run.
func (tr *TaskRunner) restoredStart() (recovering, done bool) {
	r := tr.cfg.Restore
	if r == nil {
		return false, false
	}
	st := tr.State()
	switch {
	case st.State == structs.TaskStateDead:
		return false, true
	case r.Handle != nil, st.State == structs.TaskStateRunning:
		return true, false
	}
	// Pending: between restarts or not started yet. Start it as usual.
	return false, false
}

// recoverOnce reattaches to the attempt an earlier agent started and waits
// for it. A task that cannot be recovered is reported as such and treated
// like one that failed to start.
func (tr *TaskRunner) recoverOnce() (*plugins.ExitResult, error) {
	h := tr.cfg.Restore.Handle
	var err error
	if h == nil || h.Config == nil || h.Config.ID == "" {
		err = errors.New("no driver handle was saved for the running task")
	} else {
		err = tr.cfg.Driver.RecoverTask(h)
	}
	if err != nil {
		err = fmt.Errorf("failed to recover task: %w", err)
		tr.logger.Error("task could not be recovered", "error", err)
		if tr.cfg.Store != nil {
			tr.cfg.Store.PutTaskHandle(tr.cfg.Alloc.ID, tr.cfg.Task.Name, nil)
		}
		tr.EmitEvent(EventRestoreFailed(err))
		return nil, err
	}
	tr.req.Config = h.Config
	id := h.Config.ID
	tr.attach(id)
	if tr.State().State != structs.TaskStateRunning {
		tr.setState(structs.TaskStateRunning, nil)
	}
	tr.logger.Info("task recovered", "task_id", id)
	return tr.wait(id), nil
}

// saveHandle persists the handle of an attempt the driver just started
// and waits, briefly, until it is durable: once the task is reported
// started, a restarted agent must be able to find it.
func (tr *TaskRunner) saveHandle(h *plugins.TaskHandle) {
	if tr.cfg.Store == nil || h == nil {
		return
	}
	tr.cfg.Store.PutTaskHandle(tr.cfg.Alloc.ID, tr.cfg.Task.Name, h)
	ctx, cancel := context.WithTimeout(context.Background(), handleSyncTimeout)
	defer cancel()
	if err := tr.cfg.Store.Sync(ctx); err != nil {
		tr.logger.Warn("task handle not yet saved: a restarted agent may not find this task", "error", err)
	}
}

// restore replays the restarts recorded in a restored task's events, so an
// agent restart does not reset the count the policy allows per interval.
// Restarts a user asked for (`alloc restart`) never counted against the
// policy, so they are not replayed either.
func (r *restartTracker) restore(events []*structs.TaskEvent) {
	for _, ev := range events {
		if ev.Type != structs.TaskRestarting || ev.RestartReason == ReasonUserRequested {
			continue
		}
		at := time.Unix(0, ev.Time)
		if r.start.IsZero() || at.Sub(r.start) > r.policy.Interval {
			r.start, r.count = at, 0
		}
		r.count++
	}
}
