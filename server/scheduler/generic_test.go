// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"errors"
	"slices"
	"testing"

	"github.com/droverhq/drover/structs"
	"github.com/hashicorp/go-hclog"
)

func TestNewRejectsUnsupportedTypes(t *testing.T) {
	s := newMemState()
	p := &recordingPlanner{state: s}
	for _, typ := range []string{"", "bogus"} {
		if _, err := New(typ, hclog.NewNullLogger(), s, p); err == nil {
			t.Errorf("New(%q) succeeded, want error", typ)
		}
	}
	for _, typ := range []string{structs.JobTypeService, structs.JobTypeBatch, structs.JobTypeSystem, structs.JobTypeSysbatch} {
		if _, err := New(typ, nil, s, p); err != nil {
			t.Errorf("New(%q): %v", typ, err)
		}
	}
}

func TestPlacesCount(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"n1", "n2", "n3"} {
		h.state.upsertNode(testNode(id, 4000, 8192))
	}
	job := testJob("web", 5, 500, 256)
	h.state.upsertJob(job)
	snapIndex := h.state.index

	eval := h.mustProcess(job)
	if eval.Status != structs.EvalStatusComplete || eval.QueuedAllocations["web"] != 0 || len(eval.FailedTGAllocs) != 0 {
		t.Fatalf("eval = %+v", eval)
	}
	if len(h.planner.plans) != 1 {
		t.Fatalf("submitted %d plans, want 1", len(h.planner.plans))
	}
	plan := h.planner.plans[0]
	if plan.EvalID != eval.ID || plan.Job != job || plan.Priority != 50 || plan.SnapshotIndex != snapIndex {
		t.Errorf("plan header = %+v", plan)
	}
	live := h.state.liveAllocs("web")
	if got, want := allocNames(live), names("web", 0, 1, 2, 3, 4); !slices.Equal(got, want) {
		t.Fatalf("names = %v, want %v", got, want)
	}
	a := live[0]
	if a.EvalID != eval.ID || a.JobID != "web" || a.Job != job || a.TaskGroup != "web" || a.Namespace != "default" ||
		a.DesiredStatus != structs.AllocDesiredStatusRun || a.ClientStatus != structs.AllocClientStatusPending ||
		a.NodeName != "name-"+a.NodeID || a.CreateTime == 0 || a.Metrics == nil || a.Metrics.NodesEvaluated != 3 {
		t.Errorf("alloc = %+v", a)
	}
	if got := a.AllocatedResources.Comparable(); got != (structs.ComparableResources{CPU: 500, MemoryMB: 256, DiskMB: 100}) {
		t.Errorf("allocated = %+v", got)
	}
	// Processing again changes nothing.
	h.mustProcess(job)
	if len(h.planner.plans) != 1 {
		t.Errorf("second eval submitted a plan for a converged job")
	}
}

func TestBinPackingPrefersFullerNode(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("empty", 4000, 8192))
	h.state.upsertNode(testNode("busy", 4000, 8192))
	other := testJob("other", 1, 3000, 6000)
	h.addAlloc(other, "busy", 0, structs.AllocClientStatusRunning)

	job := testJob("web", 1, 500, 1024)
	h.state.upsertJob(job)
	h.mustProcess(job)
	live := h.state.liveAllocs("web")
	if len(live) != 1 || live[0].NodeID != "busy" {
		t.Fatalf("placed on %v, want busy", live[0].NodeID)
	}
	if live[0].Metrics.Scores.Map()["busy.binpack"] <= 0 {
		t.Errorf("scores = %v", live[0].Metrics.Scores.Map())
	}
}

func TestAntiAffinitySpreadsSmallGroups(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("a", 4000, 8192))
	h.state.upsertNode(testNode("b", 4000, 8192))
	job := testJob("web", 2, 100, 128)
	h.state.upsertJob(job)
	h.mustProcess(job)
	live := h.state.liveAllocs("web")
	if len(live) != 2 || live[0].NodeID == live[1].NodeID {
		t.Fatalf("both allocations on one node: %s %s", live[0].NodeID, live[1].NodeID)
	}
}

func TestRecentFailurePenalty(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("a", 4000, 8192))
	h.state.upsertNode(testNode("b", 4000, 8192))
	job := testJob("web", 2, 100, 128)
	h.state.upsertJob(job)
	// web[0] failed on a (held for rescheduling); web[1] must avoid a.
	h.addAlloc(job, "a", 0, structs.AllocClientStatusFailed)
	job.TaskGroups[0].Count = 2
	h.mustProcess(job)
	live := h.state.liveAllocs("web")
	if len(live) != 1 || live[0].NodeID != "b" || live[0].Name != "web.web[1]" {
		t.Fatalf("live = %v on %v", allocNames(live), live[0].NodeID)
	}
}

func TestExhaustedResourcesBlockEval(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("n1", 1000, 8192))
	h.state.upsertNode(testNode("n2", 1000, 8192))
	job := testJob("web", 5, 600, 256) // one per node fits
	h.state.upsertJob(job)

	eval := h.mustProcess(job)
	if eval.Status != structs.EvalStatusComplete {
		t.Fatalf("status = %s", eval.Status)
	}
	if eval.QueuedAllocations["web"] != 3 {
		t.Errorf("queued = %v, want web:3", eval.QueuedAllocations)
	}
	m := eval.FailedTGAllocs["web"]
	if m == nil || m.NodesExhausted != 2 || m.DimensionExhausted["cpu"] != 2 || m.CoalescedFailures != 2 || m.NodesEvaluated != 2 {
		t.Fatalf("failed metric = %+v", m)
	}
	if len(h.planner.created) != 1 {
		t.Fatalf("created %d evals, want 1 blocked", len(h.planner.created))
	}
	b := h.planner.created[0]
	if b.Status != structs.EvalStatusBlocked || b.TriggeredBy != structs.EvalTriggerQueuedAllocs || b.PreviousEval != eval.ID || eval.BlockedEval != b.ID || b.JobID != "web" {
		t.Errorf("blocked eval = %+v, eval.BlockedEval = %s", b, eval.BlockedEval)
	}
	if got := len(h.state.liveAllocs("web")); got != 2 {
		t.Errorf("placed %d, want 2", got)
	}
}

func TestNoNodesFailsWithMetric(t *testing.T) {
	h := newHarness(t)
	job := testJob("web", 2, 100, 100)
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	if m := eval.FailedTGAllocs["web"]; m == nil || m.NodesEvaluated != 0 || m.CoalescedFailures != 1 {
		t.Fatalf("failed = %+v", eval.FailedTGAllocs)
	}
	if eval.BlockedEval == "" {
		t.Error("no blocked eval")
	}
}

func TestScaleUpAndDown(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"n1", "n2"} {
		h.state.upsertNode(testNode(id, 8000, 16384))
	}
	job := testJob("web", 3, 100, 100)
	h.state.upsertJob(job)
	h.mustProcess(job)

	up := newVersion(job, func(j *structs.Job) { j.TaskGroups[0].Count = 5 })
	h.state.upsertJob(up)
	h.mustProcess(up)
	live := h.state.liveAllocs("web")
	if got, want := allocNames(live), names("web", 0, 1, 2, 3, 4); !slices.Equal(got, want) {
		t.Fatalf("after scale up: %v, want %v", got, want)
	}
	// Only count changed: the three old allocations were updated in place.
	plan := h.planner.plans[len(h.planner.plans)-1]
	if len(plan.NodeUpdate) != 0 {
		t.Errorf("scale up stopped allocations: %v", plan.NodeUpdate)
	}

	down := newVersion(up, func(j *structs.Job) { j.TaskGroups[0].Count = 2 })
	h.state.upsertJob(down)
	h.mustProcess(down)
	if got, want := allocNames(h.state.liveAllocs("web")), names("web", 0, 1); !slices.Equal(got, want) {
		t.Fatalf("after scale down: %v, want %v", got, want)
	}
	plan = h.planner.plans[len(h.planner.plans)-1]
	var stopped []*structs.Allocation
	for _, allocs := range plan.NodeUpdate {
		stopped = append(stopped, allocs...)
	}
	if len(stopped) != 3 {
		t.Fatalf("stopped %d, want 3", len(stopped))
	}
	for _, a := range stopped {
		if a.DesiredStatus != structs.AllocDesiredStatusStop || a.DesiredDescription != descNotNeeded {
			t.Errorf("stop = %s %q", a.DesiredStatus, a.DesiredDescription)
		}
	}
}

func TestRemovedGroupStops(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("n1", 8000, 16384))
	job := testJob("web", 2, 100, 100)
	h.state.upsertJob(job)
	h.mustProcess(job)
	renamed := newVersion(job, func(j *structs.Job) { j.TaskGroups[0].Name = "api" })
	h.state.upsertJob(renamed)
	h.mustProcess(renamed)
	live := h.state.liveAllocs("web")
	if got := allocNames(live); !slices.Equal(got, []string{"web.api[0]", "web.api[1]"}) {
		t.Fatalf("live = %v", got)
	}
}

func TestJobStopAndPurge(t *testing.T) {
	for _, purge := range []bool{false, true} {
		h := newHarness(t)
		h.state.upsertNode(testNode("n1", 8000, 16384))
		job := testJob("web", 3, 100, 100)
		h.state.upsertJob(job)
		h.mustProcess(job)
		// A finished allocation is left alone.
		done := h.state.liveAllocs("web")[0].Copy()
		done.ClientStatus = structs.AllocClientStatusFailed
		h.state.upsertAlloc(done)

		if purge {
			h.state.deleteJob(job)
		} else {
			h.state.upsertJob(newVersion(job, func(j *structs.Job) { j.Stop = true }))
		}
		eval := h.mustProcess(job)
		if eval.Status != structs.EvalStatusComplete {
			t.Fatalf("purge=%v: status %s", purge, eval.Status)
		}
		if live := h.state.liveAllocs("web"); len(live) != 0 {
			t.Fatalf("purge=%v: %d still live", purge, len(live))
		}
		plan := h.planner.plans[len(h.planner.plans)-1]
		if plan.Job != nil || len(plan.NodeUpdate["n1"]) != 2 {
			t.Errorf("purge=%v: plan job %v, stops %d", purge, plan.Job, len(plan.NodeUpdate["n1"]))
		}
		for _, a := range plan.NodeUpdate["n1"] {
			if a.DesiredDescription != descNotNeeded {
				t.Errorf("description %q", a.DesiredDescription)
			}
		}
	}
}

func TestUpdates(t *testing.T) {
	cases := []struct {
		name        string
		edit        func(*structs.Job)
		destructive bool
	}{
		{"priority only", func(j *structs.Job) { j.Priority = 70 }, false},
		{"kill timeout", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].KillTimeout = 9 }, false},
		{"driver", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Driver = "raw_exec" }, true},
		{"config", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Config["args"] = []any{"10"} }, true},
		{"env", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Env = map[string]string{"A": "1"} }, true},
		{"resources", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Resources.MemoryMB = 200 }, true},
		{"user", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].User = "nobody" }, true},
		{"task meta", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Meta = map[string]string{"x": "y"} }, true},
		{"job meta", func(j *structs.Job) { j.Meta = map[string]string{"x": "y"} }, true},
		{"task constraint", func(j *structs.Job) {
			j.TaskGroups[0].Tasks[0].Constraints = []*structs.Constraint{{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "="}}
		}, true},
		{"job constraint now unmet", func(j *structs.Job) {
			j.Constraints = []*structs.Constraint{{LTarget: "${attr.kernel.name}", RTarget: "windows", Operand: "="}}
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			n := testNode("n1", 8000, 16384)
			n.Drivers["raw_exec"] = &structs.DriverInfo{Detected: true, Healthy: true}
			h.state.upsertNode(n)
			job := testJob("web", 2, 100, 100)
			h.state.upsertJob(job)
			h.mustProcess(job)
			before := h.state.liveAllocs("web")

			next := newVersion(job, tc.edit)
			h.state.upsertJob(next)
			h.mustProcess(next)
			plan := h.planner.plans[len(h.planner.plans)-1]
			after := h.state.liveAllocs("web")
			if got, want := allocNames(after), names("web", 0, 1); tc.name != "job constraint now unmet" && !slices.Equal(got, want) {
				t.Fatalf("names = %v", got)
			}
			for _, a := range after {
				if a.Job != next {
					t.Errorf("%s runs the old job", a.Name)
				}
			}
			stops := len(plan.NodeUpdate["n1"])
			if tc.destructive {
				if stops != 2 {
					t.Fatalf("stops = %d, want 2", stops)
				}
				for _, s := range plan.NodeUpdate["n1"] {
					if s.DesiredDescription != descUpdating {
						t.Errorf("description %q", s.DesiredDescription)
					}
				}
				for _, a := range plan.NodeAllocation["n1"] {
					if a.PreviousAllocation == "" {
						t.Errorf("replacement %s has no PreviousAllocation", a.Name)
					}
				}
				return
			}
			if stops != 0 {
				t.Fatalf("in-place update stopped %d", stops)
			}
			for i, a := range after {
				if a.ID != before[i].ID {
					t.Errorf("in-place update replaced %s", a.Name)
				}
			}
		})
	}
}

func TestBatchCompletedNotReplaced(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("n1", 8000, 16384))
	job := testJob("b", 3, 100, 100)
	job.Type = structs.JobTypeBatch
	h.state.upsertJob(job)
	h.mustProcess(job)
	live := h.state.liveAllocs("b")
	for _, a := range live[:2] {
		c := a.Copy()
		c.ClientStatus = structs.AllocClientStatusComplete
		h.state.upsertAlloc(c)
	}
	plans := len(h.planner.plans)
	eval := h.mustProcess(job)
	if len(h.planner.plans) != plans || eval.QueuedAllocations["web"] != 0 {
		t.Fatalf("completed batch allocations were replaced (plans %d→%d)", plans, len(h.planner.plans))
	}
	// Raising the count places only the new index.
	up := newVersion(job, func(j *structs.Job) { j.TaskGroups[0].Count = 4 })
	h.state.upsertJob(up)
	h.mustProcess(up)
	if got := allocNames(h.state.liveAllocs("b")); !slices.Equal(got, []string{"b.web[2]", "b.web[3]"}) {
		t.Fatalf("live = %v", got)
	}
	// A service allocation that completed is replaced.
	svc := testJob("s", 1, 100, 100)
	h.state.upsertJob(svc)
	h.addAlloc(svc, "n1", 0, structs.AllocClientStatusComplete)
	h.mustProcess(svc)
	if got := allocNames(h.state.liveAllocs("s")); !slices.Equal(got, []string{"s.web[0]"}) {
		t.Fatalf("service live = %v", got)
	}
}

func TestFailedAllocsAwaitRescheduling(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("n1", 8000, 16384))
	job := testJob("web", 2, 100, 100) // no reschedule policy: failures stay
	h.state.upsertJob(job)
	failed := h.addAlloc(job, "n1", 0, structs.AllocClientStatusFailed)
	lost := h.addAlloc(job, "n1", 1, structs.AllocClientStatusLost)
	rec := reconcile(job, mustAllocs(t, h.state, "web"), false, nil)
	if got := len(rec.groups[0].awaitingReschedule); got != 2 {
		t.Errorf("awaitingReschedule = %d, want 2", got)
	}
	h.mustProcess(job)
	live := h.state.liveAllocs("web")
	if len(live) != 1 || live[0].Name != lost.Name || live[0].PreviousAllocation != lost.ID {
		t.Fatalf("want only the lost allocation replaced, live = %v", allocNames(live))
	}
	for _, a := range live {
		if a.PreviousAllocation == failed.ID {
			t.Fatalf("failed allocation replaced without a reschedule policy")
		}
	}
}

func mustAllocs(t *testing.T, s *memState, job string) []*structs.Allocation {
	t.Helper()
	allocs, err := s.AllocsByJob(structs.DefaultNamespace, job)
	if err != nil {
		t.Fatal(err)
	}
	return allocs
}

func TestPartialRejectionRetries(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("n1", 4000, 8192))
	h.state.upsertNode(testNode("n2", 4000, 8192))
	// The first submission refuses n1's placements.
	h.planner.rejectNodes = func(sub int) map[string]bool {
		if sub == 1 {
			return map[string]bool{"n1": true}
		}
		return nil
	}
	job := testJob("web", 4, 100, 100)
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	if eval.Status != structs.EvalStatusComplete {
		t.Fatalf("status = %s", eval.Status)
	}
	if len(h.planner.plans) != 2 {
		t.Fatalf("plans = %d, want 2", len(h.planner.plans))
	}
	first, second := 0, 0
	for _, allocs := range h.planner.plans[0].NodeAllocation {
		first += len(allocs)
	}
	for _, allocs := range h.planner.plans[1].NodeAllocation {
		second += len(allocs)
	}
	committed := first - len(h.planner.plans[0].NodeAllocation["n1"])
	if second != first-committed {
		t.Errorf("retry placed %d, want only the %d missing", second, first-committed)
	}
	if got := allocNames(h.state.liveAllocs("web")); !slices.Equal(got, names("web", 0, 1, 2, 3)) {
		t.Fatalf("live = %v", got)
	}
}

func TestMaxPlanAttempts(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("n1", 4000, 8192))
	h.planner.rejectNodes = func(int) map[string]bool { return map[string]bool{"n1": true} }
	job := testJob("web", 2, 100, 100)
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	if len(h.planner.plans) != maxPlanAttempts {
		t.Errorf("plans = %d, want %d", len(h.planner.plans), maxPlanAttempts)
	}
	if eval.Status != structs.EvalStatusFailed || eval.StatusDescription == "" || eval.QueuedAllocations["web"] != 2 {
		t.Fatalf("eval = %+v", eval)
	}
	if len(h.planner.created) != 1 {
		t.Fatalf("created %d evals", len(h.planner.created))
	}
	f := h.planner.created[0]
	if f.Status != structs.EvalStatusPending || f.TriggeredBy != structs.EvalTriggerMaxPlans || f.Wait != followUpWait || f.PreviousEval != eval.ID || eval.NextEval != f.ID {
		t.Errorf("follow-up = %+v", f)
	}
}

func TestUnknownOperatorFailsEval(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("n1", 4000, 8192))
	job := testJob("web", 1, 100, 100)
	job.Constraints = []*structs.Constraint{{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "~="}}
	h.state.upsertJob(job)
	_, err := h.process(job)
	if !errors.Is(err, ErrInvalidJob) {
		t.Fatalf("err = %v, want ErrInvalidJob", err)
	}
	eval := h.planner.lastEval(t)
	if eval.Status != structs.EvalStatusFailed || eval.StatusDescription == "" {
		t.Fatalf("eval = %+v", eval)
	}
	if len(h.planner.plans) != 0 {
		t.Error("a plan was submitted for an invalid job")
	}
}
