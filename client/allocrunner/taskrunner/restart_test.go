// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/droverhq/drover/client/allocdir"
	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/structs"
)

func TestRestartOnRequest(t *testing.T) {
	driver := clienttest.NewDriver()
	alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{})
	task := alloc.Job.TaskGroups[0].Tasks[0]
	task.KillTimeout = 3 * time.Second
	// One policy attempt only: were user restarts counted, the second
	// would fail the task.
	alloc.Job.TaskGroups[0].RestartPolicy = &structs.RestartPolicy{
		Attempts: 1, Interval: time.Hour, Delay: time.Hour, Mode: structs.RestartPolicyModeFail,
	}
	tr := New(Config{Alloc: alloc, Task: task, AllocDir: allocdir.New(t.TempDir(), alloc.ID), Driver: driver})
	go tr.Run()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.Kill(ctx, nil)
	})
	waitStarts := func(n int) {
		t.Helper()
		clienttest.WaitFor(t, 5*time.Second, func() error {
			if got := len(driver.Started()); got != n || tr.State().State != structs.TaskStateRunning {
				return fmt.Errorf("%d starts, state %s; want %d starts, running", got, tr.State().State, n)
			}
			return nil
		})
	}
	waitStarts(1)
	for i := 2; i <= 3; i++ {
		before := tr.req.TaskID
		if err := tr.Restart(context.Background(), ReasonUserRequested); err != nil {
			t.Fatalf("restart %d: %v", i-1, err)
		}
		waitStarts(i)
		stops := driver.Stops()
		if last := stops[len(stops)-1]; last.TaskID != before || last.Timeout != 3*time.Second {
			t.Fatalf("stop call %+v, want task %s with the kill timeout", last, before)
		}
	}
	if tr.restarts.count != 0 {
		t.Fatalf("restart policy counted %d attempts for user restarts", tr.restarts.count)
	}
	st := tr.State()
	if st.Failed || st.Restarts != 2 {
		t.Fatalf("state: failed %v, restarts %d", st.Failed, st.Restarts)
	}
	var signaled int
	for _, ev := range st.Events {
		if ev.Type == structs.TaskRestartSignal {
			signaled++
			if ev.DisplayMessage != ReasonUserRequested {
				t.Errorf("Restart Signaled display message %q", ev.DisplayMessage)
			}
		}
	}
	if signaled != 2 {
		t.Fatalf("%d %q events, want 2", signaled, structs.TaskRestartSignal)
	}
}

func TestRestartNotRunning(t *testing.T) {
	tr := startRunner(t, clienttest.NewDriver())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Kill(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.Restart(context.Background(), ReasonUserRequested); !errors.Is(err, ErrTaskNotRunning) {
		t.Fatalf("Restart of a dead task: %v", err)
	}
	if st := tr.State(); st.State != structs.TaskStateDead {
		t.Fatalf("dead task came back: %s", st.State)
	}
}
