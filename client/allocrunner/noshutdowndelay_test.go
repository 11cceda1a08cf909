// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package allocrunner

import (
	"testing"
	"time"

	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/structs"
)

// TestNoShutdownDelay checks `alloc stop -no-shutdown-delay`: an
// allocation stopped with DesiredTransition.NoShutdownDelay skips the
// group's and the tasks' shutdown_delay, also when the mark arrives while
// a delay is being waited.
func TestNoShutdownDelay(t *testing.T) {
	cases := []struct {
		name       string
		groupDelay time.Duration
		taskDelay  time.Duration
		// lateMark first stops without the mark, then sends it.
		lateMark bool
	}{
		{name: "group delay skipped", groupDelay: time.Hour},
		{name: "task delay skipped", taskDelay: time.Hour},
		{name: "both skipped", groupDelay: time.Hour, taskDelay: time.Hour},
		{name: "mark cuts a group delay short", groupDelay: time.Hour, lateMark: true},
		{name: "mark cuts a task delay short", taskDelay: time.Hour, lateMark: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{})
			alloc.Job.TaskGroups[0].ShutdownDelay = tc.groupDelay
			alloc.Job.TaskGroups[0].Tasks[0].ShutdownDelay = tc.taskDelay
			h := start(t, alloc)
			h.waitStatus(t, structs.AllocClientStatusRunning)
			stopped := alloc.Copy()
			stopped.DesiredStatus = structs.AllocDesiredStatusStop
			if tc.lateMark {
				h.ar.Update(stopped.Copy())
				if tc.taskDelay > 0 {
					waitEvent(t, h.ar, "t0", taskrunner.TaskWaitingShutdownDelay)
				}
			}
			yes := true
			stopped.DesiredTransition.NoShutdownDelay = &yes
			h.ar.Update(stopped)
			h.waitDone(t)
			st := h.ar.TaskState("t0")
			if hasEvent(st, structs.TaskKilling) == nil {
				t.Fatalf("task not killed: %v", eventTypes(st))
			}
			if !tc.lateMark && hasEvent(st, taskrunner.TaskWaitingShutdownDelay) != nil {
				t.Errorf("task waited its shutdown delay: %v", eventTypes(st))
			}
		})
	}
}

// waitEvent polls until task has an event of type typ.
func waitEvent(t *testing.T, ar *AllocRunner, task, typ string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for hasEvent(ar.TaskState(task), typ) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no %q event in %v", typ, eventTypes(ar.TaskState(task)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
