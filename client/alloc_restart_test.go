// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/structs"
)

// TestRestartAllocLifecycle checks `alloc restart` of an allocation with
// a completed prestart task t0, a running main task t1 and a poststop task
// t2 that has not run: without a task only t1 restarts (Nomad's default),
// and -all-tasks, which would have to run t0 again, is refused with an
// error naming it, restarting nothing.
func TestRestartAllocLifecycle(t *testing.T) {
	tc := newTestClient(t, time.Minute, nil)
	a := clienttest.Alloc(structs.JobTypeService, map[string]any{"run_for": "10ms"}, map[string]any{}, map[string]any{})
	a.Job.TaskGroups[0].Tasks[0].Lifecycle = &structs.TaskLifecycle{Hook: structs.TaskLifecycleHookPrestart}
	a.Job.TaskGroups[0].Tasks[2].Lifecycle = &structs.TaskLifecycle{Hook: structs.TaskLifecycleHookPoststop}
	a.NodeID = tc.NodeID()
	tc.servers.AddAlloc(a)

	starts := func(want map[string]int) func() error {
		return func() error {
			got := map[string]int{}
			for _, c := range tc.driver.Started() {
				got[c.Name]++
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("starts %v, want %v", got, want)
			}
			if st, _ := tc.TaskState(a.ID, "t1"); st == nil || st.State != structs.TaskStateRunning {
				return errors.New("t1 not running")
			}
			return nil
		}
	}
	clienttest.WaitFor(t, waitLong, starts(map[string]int{"t0": 1, "t1": 1}))

	tests := []struct {
		name     string
		task     string
		allTasks bool
		want     map[string]int // starts per task afterwards
		wantErr  error
		wantMsg  string
	}{
		{name: "running tasks only", want: map[string]int{"t0": 1, "t1": 2}},
		{name: "all tasks refused", allTasks: true, want: map[string]int{"t0": 1, "t1": 2},
			wantErr: ErrRestartCompletedTask, wantMsg: `task "t0" (prestart) completed`},
		{name: "completed task by name", task: "t0", want: map[string]int{"t0": 1, "t1": 2}, wantErr: taskrunner.ErrTaskNotRunning},
		{name: "poststop task by name", task: "t2", want: map[string]int{"t0": 1, "t1": 2}, wantErr: taskrunner.ErrTaskNotRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tc.RestartAlloc(context.Background(), a.ID, tt.task, tt.allTasks)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("RestartAlloc error %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("RestartAlloc error %q does not say %q", err, tt.wantMsg)
			}
			clienttest.WaitFor(t, waitLong, starts(tt.want))
		})
	}
}
