// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"fmt"
	"strconv"
	"time"

	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// The constructors below build task events with the DisplayMessage texts
// and Details keys Nomad's CLI and UI show, so `alloc status` reads the same.

// ReasonWithinPolicy is the restart reason of an ordinary restart.
const ReasonWithinPolicy = "Restart within policy"

func newEvent(typ, display string) *structs.TaskEvent {
	ev := structs.NewTaskEvent(typ)
	ev.DisplayMessage = display
	return ev
}

// EventReceived marks a task the client accepted.
func EventReceived() *structs.TaskEvent {
	return newEvent(structs.TaskReceived, "Task received by client")
}

// EventSetup reports a setup step (task dir, ...).
func EventSetup(msg string) *structs.TaskEvent {
	ev := newEvent(structs.TaskSetup, msg)
	ev.Message = msg
	ev.Details["message"] = msg
	return ev
}

// EventSetupFailure reports a prestart hook that failed.
func EventSetupFailure(err error) *structs.TaskEvent {
	ev := newEvent(structs.TaskSetupFailure, err.Error())
	ev.Message = err.Error()
	ev.Details["setup_error"] = err.Error()
	return ev
}

// EventDriverFailure reports a driver that could not start the task.
func EventDriverFailure(err error) *structs.TaskEvent {
	ev := newEvent(structs.TaskDriverFailure, err.Error())
	ev.DriverError = err.Error()
	ev.Details["driver_error"] = err.Error()
	return ev
}

// EventStarted marks a started task.
func EventStarted() *structs.TaskEvent {
	return newEvent(structs.TaskStarted, "Task started by client")
}

// EventTerminated reports how the task exited.
func EventTerminated(res *plugins.ExitResult) *structs.TaskEvent {
	msg := fmt.Sprintf("Exit Code: %d", res.ExitCode)
	if res.Signal != 0 {
		msg += fmt.Sprintf(", Signal: %d", res.Signal)
	}
	if res.Err != "" {
		msg += fmt.Sprintf(", Exit Message: %q", res.Err)
	}
	ev := newEvent(structs.TaskTerminated, msg)
	ev.ExitCode = res.ExitCode
	ev.Signal = res.Signal
	ev.Message = res.Err
	ev.Details["exit_code"] = strconv.Itoa(res.ExitCode)
	ev.Details["signal"] = strconv.Itoa(res.Signal)
	if res.Err != "" {
		ev.Details["exit_message"] = res.Err
	}
	if res.OOMKilled {
		ev.Details["oom_killed"] = "true"
	}
	return ev
}

// EventRestarting announces a restart after delay.
func EventRestarting(delay time.Duration, reason string) *structs.TaskEvent {
	msg := fmt.Sprintf("Task restarting in %v", delay)
	if reason != "" && reason != ReasonWithinPolicy {
		msg = reason + " - " + msg
	}
	ev := newEvent(structs.TaskRestarting, msg)
	ev.StartDelay = int64(delay)
	ev.RestartReason = reason
	ev.Details["start_delay"] = strconv.FormatInt(int64(delay), 10)
	ev.Details["restart_reason"] = reason
	return ev
}

// EventNotRestarting reports that the restart policy gave up; it fails the
// task.
func EventNotRestarting(reason string) *structs.TaskEvent {
	msg := reason
	if msg == "" {
		msg = "Task exceeded restart policy"
	}
	ev := newEvent(structs.TaskNotRestarting, msg)
	ev.RestartReason = reason
	ev.FailsTask = true
	ev.Details["restart_reason"] = reason
	ev.Details["fails_task"] = "true"
	return ev
}

// EventKilling announces a kill with its grace period.
func EventKilling(timeout time.Duration, reason string) *structs.TaskEvent {
	msg := fmt.Sprintf("Sent interrupt. Waiting %v before force killing", timeout)
	if reason != "" {
		msg = "Killing task: " + reason
	}
	ev := newEvent(structs.TaskKilling, msg)
	ev.KillTimeout = timeout
	ev.KillReason = reason
	ev.Details["kill_timeout"] = timeout.String()
	if reason != "" {
		ev.Details["kill_reason"] = reason
	}
	return ev
}

// EventKilled marks a task that a kill ended.
func EventKilled() *structs.TaskEvent {
	return newEvent(structs.TaskKilled, "Task successfully killed")
}

// EventSiblingFailed tells a task it is killed because sibling failed.
func EventSiblingFailed(sibling string) *structs.TaskEvent {
	ev := newEvent(structs.TaskSiblingFailed, fmt.Sprintf("Task's sibling %q failed", sibling))
	ev.Details["failed_sibling"] = sibling
	return ev
}

// EventLeaderDead tells a task it is killed because the group's leader
// task ended.
func EventLeaderDead() *structs.TaskEvent {
	return newEvent(structs.TaskLeaderDead, "Leader Task in Group dead")
}

// TaskMainDead is Nomad's event type for a sidecar (or poststart) task
// stopped because every main task of its group is dead.
const TaskMainDead = "Main Tasks Dead"

// EventMainDead tells a sidecar it is killed because the main tasks ended.
func EventMainDead() *structs.TaskEvent {
	return newEvent(TaskMainDead, "Main tasks in the group died")
}
