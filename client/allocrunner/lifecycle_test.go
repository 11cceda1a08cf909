// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package allocrunner

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/structs"
)

// lifecycleAlloc builds an allocation whose tasks t0, t1, ... have the
// given lifecycle blocks (nil: a main task) and mock configs.
func lifecycleAlloc(jobType string, tasks ...struct {
	lc  *structs.TaskLifecycle
	cfg map[string]any
}) *structs.Allocation {
	var cfgs []map[string]any
	for _, t := range tasks {
		cfgs = append(cfgs, t.cfg)
	}
	a := clienttest.Alloc(jobType, cfgs...)
	for i, t := range tasks {
		a.Job.TaskGroups[0].Tasks[i].Lifecycle = t.lc
	}
	return a
}

type lt = struct {
	lc  *structs.TaskLifecycle
	cfg map[string]any
}

var (
	prestart         = &structs.TaskLifecycle{Hook: structs.TaskLifecycleHookPrestart}
	prestartSidecar  = &structs.TaskLifecycle{Hook: structs.TaskLifecycleHookPrestart, Sidecar: true}
	poststartSidecar = &structs.TaskLifecycle{Hook: structs.TaskLifecycleHookPoststart, Sidecar: true}
	poststop         = &structs.TaskLifecycle{Hook: structs.TaskLifecycleHookPoststop}
)

func (h *harness) startedNames() []string {
	var out []string
	for _, c := range h.driver.Started() {
		out = append(out, c.Name)
	}
	return out
}

func (h *harness) waitDone(t *testing.T) {
	t.Helper()
	select {
	case <-h.ar.WaitCh():
	case <-time.After(10 * time.Second):
		t.Fatal("allocation did not finish")
	}
}

func TestPrestartCompletesBeforeMain(t *testing.T) {
	h := start(t, lifecycleAlloc(structs.JobTypeBatch,
		lt{prestart, map[string]any{"run_for": "50ms"}},
		lt{nil, map[string]any{"run_for": "10ms"}},
	))
	h.waitStatus(t, structs.AllocClientStatusComplete)
	h.waitDone(t)
	if got := h.startedNames(); fmt.Sprint(got) != "[t0 t1]" {
		t.Fatalf("start order %v", got)
	}
	pre, main := h.ar.TaskState("t0"), h.ar.TaskState("t1")
	if main.StartedAt.Before(pre.FinishedAt) {
		t.Fatalf("main started %v before prestart finished %v", main.StartedAt, pre.FinishedAt)
	}
	if pre.Failed || main.Failed || pre.Restarts != 0 {
		t.Fatalf("states %+v %+v", pre, main)
	}
}

func TestMainWaitsPendingAndIsCancelledOnStop(t *testing.T) {
	alloc := lifecycleAlloc(structs.JobTypeService,
		lt{prestart, map[string]any{}}, // never completes
		lt{nil, map[string]any{}},
	)
	h := start(t, alloc)
	clienttest.WaitFor(t, 5*time.Second, func() error {
		if st := h.ar.TaskState("t0"); st.State != structs.TaskStateRunning {
			return fmt.Errorf("prestart is %s", st.State)
		}
		return nil
	})
	if st := h.ar.TaskState("t1"); st.State != structs.TaskStatePending || hasEvent(st, structs.TaskStarted) != nil {
		t.Fatalf("main task is %s with events %v, want pending", st.State, eventTypes(st))
	}
	stopped := alloc.Copy()
	stopped.DesiredStatus = structs.AllocDesiredStatusStop
	h.ar.Update(stopped)
	h.waitStatus(t, structs.AllocClientStatusComplete)
	h.waitDone(t)
	if got := h.startedNames(); fmt.Sprint(got) != "[t0]" {
		t.Fatalf("started %v, main must never start", got)
	}
	if st := h.ar.TaskState("t1"); st.State != structs.TaskStateDead || st.Failed || hasEvent(st, structs.TaskKilled) == nil {
		t.Fatalf("main state %+v events %v", st, eventTypes(st))
	}
}

func TestServicePrestartSuccessIsNotRestarted(t *testing.T) {
	h := start(t, lifecycleAlloc(structs.JobTypeService,
		lt{prestart, map[string]any{"run_for": "10ms"}},
		lt{nil, map[string]any{}},
	))
	clienttest.WaitFor(t, 5*time.Second, func() error {
		if st := h.ar.TaskState("t1"); st.State != structs.TaskStateRunning {
			return fmt.Errorf("main is %s", st.State)
		}
		return nil
	})
	h.waitStatus(t, structs.AllocClientStatusRunning)
	if st := h.ar.TaskState("t0"); st.State != structs.TaskStateDead || st.Failed || st.Restarts != 0 {
		t.Fatalf("prestart state %+v", st)
	}
}

func TestSidecarRunsAlongsideAndStopsAfterMain(t *testing.T) {
	h := start(t, lifecycleAlloc(structs.JobTypeBatch,
		lt{prestartSidecar, map[string]any{}},
		lt{nil, map[string]any{"run_for": "50ms"}},
	))
	h.waitStatus(t, structs.AllocClientStatusComplete)
	h.waitDone(t)
	side, main := h.ar.TaskState("t0"), h.ar.TaskState("t1")
	if side.StartedAt.After(main.StartedAt) || side.FinishedAt.Before(main.FinishedAt) {
		t.Fatalf("sidecar ran %v..%v, main %v..%v", side.StartedAt, side.FinishedAt, main.StartedAt, main.FinishedAt)
	}
	ev := hasEvent(side, taskrunner.TaskMainDead)
	if ev == nil || ev.DisplayMessage != "Main tasks in the group died" {
		t.Fatalf("sidecar events %v", eventTypes(side))
	}
	if side.Failed || side.State != structs.TaskStateDead {
		t.Fatalf("sidecar state %+v", side)
	}
}

func TestPoststartAfterMainRunning(t *testing.T) {
	h := start(t, lifecycleAlloc(structs.JobTypeService,
		lt{poststartSidecar, map[string]any{}},
		lt{nil, map[string]any{}},
	))
	clienttest.WaitFor(t, 5*time.Second, func() error {
		if st := h.ar.TaskState("t0"); st.State != structs.TaskStateRunning {
			return fmt.Errorf("poststart is %s", st.State)
		}
		return nil
	})
	if got := h.startedNames(); fmt.Sprint(got) != "[t1 t0]" {
		t.Fatalf("start order %v, want main first", got)
	}
	if post, main := h.ar.TaskState("t0"), h.ar.TaskState("t1"); post.StartedAt.Before(main.StartedAt) {
		t.Fatalf("poststart %v before main %v", post.StartedAt, main.StartedAt)
	}
}

func TestPoststopRuns(t *testing.T) {
	t.Run("after main exits", func(t *testing.T) {
		h := start(t, lifecycleAlloc(structs.JobTypeBatch,
			lt{poststop, map[string]any{"run_for": "10ms"}},
			lt{nil, map[string]any{"run_for": "30ms"}},
		))
		h.waitStatus(t, structs.AllocClientStatusComplete)
		h.waitDone(t)
		post, main := h.ar.TaskState("t0"), h.ar.TaskState("t1")
		if hasEvent(post, structs.TaskStarted) == nil || post.StartedAt.Before(main.FinishedAt) {
			t.Fatalf("poststop started %v, main finished %v; events %v", post.StartedAt, main.FinishedAt, eventTypes(post))
		}
	})
	t.Run("after the allocation is stopped", func(t *testing.T) {
		alloc := lifecycleAlloc(structs.JobTypeService,
			lt{poststop, map[string]any{"run_for": "10ms"}},
			lt{nil, map[string]any{}},
		)
		h := start(t, alloc)
		h.waitStatus(t, structs.AllocClientStatusRunning)
		if got := h.startedNames(); fmt.Sprint(got) != "[t1]" {
			t.Fatalf("started %v before stop", got)
		}
		stopped := alloc.Copy()
		stopped.DesiredStatus = structs.AllocDesiredStatusStop
		h.ar.Update(stopped)
		h.waitDone(t)
		post := h.ar.TaskState("t0")
		if hasEvent(post, structs.TaskStarted) == nil || post.Failed || post.State != structs.TaskStateDead {
			t.Fatalf("poststop %+v events %v", post, eventTypes(post))
		}
		if h.ar.ClientStatus() != structs.AllocClientStatusComplete {
			t.Fatalf("status %s", h.ar.ClientStatus())
		}
	})
}

func TestFailedPrestartFailsAlloc(t *testing.T) {
	h := start(t, lifecycleAlloc(structs.JobTypeBatch,
		lt{prestart, map[string]any{"run_for": "5ms", "exit_code": 1}},
		lt{nil, map[string]any{}},
		lt{poststop, map[string]any{"run_for": "5ms"}},
	))
	h.waitStatus(t, structs.AllocClientStatusFailed)
	h.waitDone(t)
	started := h.startedNames()
	if slices.Contains(started, "t1") {
		t.Fatalf("main started after a failed prestart: %v", started)
	}
	if n := len(started); n != 4 || started[3] != "t2" {
		t.Fatalf("starts %v, want the prestart 3 times then the poststop", started)
	}
	pre, main := h.ar.TaskState("t0"), h.ar.TaskState("t1")
	if !pre.Failed || pre.Restarts != 2 {
		t.Fatalf("prestart %+v", pre)
	}
	if main.Failed || main.State != structs.TaskStateDead || hasEvent(main, structs.TaskSiblingFailed) == nil {
		t.Fatalf("main %+v events %v", main, eventTypes(main))
	}
}

func TestLeaderWithSidecar(t *testing.T) {
	alloc := lifecycleAlloc(structs.JobTypeBatch,
		lt{prestartSidecar, map[string]any{}},
		lt{nil, map[string]any{"run_for": "20ms"}},
		lt{nil, map[string]any{}},
	)
	alloc.Job.TaskGroups[0].Tasks[1].Leader = true
	h := start(t, alloc)
	h.waitStatus(t, structs.AllocClientStatusComplete)
	h.waitDone(t)
	for _, name := range []string{"t0", "t2"} {
		if st := h.ar.TaskState(name); hasEvent(st, structs.TaskLeaderDead) == nil || st.Failed {
			t.Fatalf("%s events %v", name, eventTypes(st))
		}
	}
}

// eventTime returns the time of the first event of type typ.
func eventTime(t *testing.T, st *structs.TaskState, typ string) time.Time {
	t.Helper()
	ev := hasEvent(st, typ)
	if ev == nil {
		t.Fatalf("no %q event in %v", typ, eventTypes(st))
	}
	return time.Unix(0, ev.Time)
}

func TestShutdownDelay(t *testing.T) {
	const delay = 150 * time.Millisecond
	t.Run("group", func(t *testing.T) {
		alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{})
		alloc.Job.TaskGroups[0].ShutdownDelay = delay
		h := start(t, alloc)
		h.waitStatus(t, structs.AllocClientStatusRunning)
		stopped := alloc.Copy()
		stopped.DesiredStatus = structs.AllocDesiredStatusStop
		asked := time.Now()
		h.ar.Update(stopped)
		h.waitDone(t)
		if k := eventTime(t, h.ar.TaskState("t0"), structs.TaskKilling); k.Sub(asked) < delay {
			t.Fatalf("killed %v after the stop, want at least %v", k.Sub(asked), delay)
		}
	})
	t.Run("task", func(t *testing.T) {
		alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{})
		alloc.Job.TaskGroups[0].Tasks[0].ShutdownDelay = delay
		h := start(t, alloc)
		h.waitStatus(t, structs.AllocClientStatusRunning)
		stopped := alloc.Copy()
		stopped.DesiredStatus = structs.AllocDesiredStatusStop
		h.ar.Update(stopped)
		h.waitDone(t)
		st := h.ar.TaskState("t0")
		waiting := eventTime(t, st, taskrunner.TaskWaitingShutdownDelay)
		if k := eventTime(t, st, structs.TaskKilling); k.Sub(waiting) < delay {
			t.Fatalf("kill signal %v after the wait began, want at least %v", k.Sub(waiting), delay)
		}
		stops := h.driver.Stops()
		if len(stops) != 1 {
			t.Fatalf("stops %v", stops)
		}
	})
	t.Run("destroy cuts the group delay short", func(t *testing.T) {
		alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{})
		alloc.Job.TaskGroups[0].ShutdownDelay = time.Hour
		h := start(t, alloc)
		h.waitStatus(t, structs.AllocClientStatusRunning)
		stopped := alloc.Copy()
		stopped.DesiredStatus = structs.AllocDesiredStatusStop
		h.ar.Update(stopped)
		h.ar.Destroy()
		select {
		case <-h.ar.DestroyCh():
		case <-time.After(5 * time.Second):
			t.Fatal("destroy waited for the shutdown delay")
		}
	})
}
