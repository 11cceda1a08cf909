// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"reflect"
	"slices"
	"testing"

	"github.com/droverhq/drover/structs"
)

// TestPlanAllocsShareEqualParts: the placements of one plan keep one copy
// of equal resources and metric maps, different ones stay apart, and the
// request's own allocations are left as they came.
func TestPlanAllocsShareEqualParts(t *testing.T) {
	s := newStore(t)
	job := testJob("web")
	if err := s.UpsertJob(1, job, nil); err != nil {
		t.Fatal(err)
	}
	mk := func(cpu int64, dcs map[string]int) *structs.Allocation {
		return &structs.Allocation{ID: structs.GenerateUUID(), Namespace: "default", JobID: "web", NodeID: "n1", TaskGroup: "web",
			DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusPending, EvalID: "e1",
			AllocatedResources: &structs.AllocatedResources{Tasks: map[string]*structs.AllocatedTaskResources{"t": {Cpu: structs.AllocatedCpuResources{CpuShares: cpu}}}},
			Metrics:            &structs.AllocMetric{NodesEvaluated: 2, NodesAvailable: dcs, Scores: &structs.PlacementScores{NodeID: "n1", Binpack: float64(cpu)}},
		}
	}
	allocs := []*structs.Allocation{mk(100, map[string]int{"dc1": 2}), mk(100, map[string]int{"dc1": 2}), mk(200, map[string]int{"dc1": 3})}
	firstMetric := allocs[1].Metrics
	if err := s.ApplyPlanResults(2, &structs.ApplyPlanResultsRequest{Job: job, AllocsUpdated: allocs}); err != nil {
		t.Fatal(err)
	}
	if allocs[1].Metrics != firstMetric {
		t.Fatal("the request's allocation was modified")
	}
	snap := s.Snapshot()
	var stored []*structs.Allocation
	for _, a := range allocs {
		got, err := snap.AllocByID(a.ID)
		if err != nil || got == nil {
			t.Fatalf("alloc %s: %v %v", a.ID, got, err)
		}
		if !reflect.DeepEqual(got.AllocatedResources, a.AllocatedResources) || !reflect.DeepEqual(got.Metrics, a.Metrics) {
			t.Fatalf("stored alloc differs: %+v %+v", got.AllocatedResources, got.Metrics)
		}
		stored = append(stored, got)
	}
	same := func(a, b map[string]int) bool {
		return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
	}
	if stored[0].AllocatedResources != stored[1].AllocatedResources || !same(stored[0].Metrics.NodesAvailable, stored[1].Metrics.NodesAvailable) {
		t.Error("equal parts are not shared")
	}
	if stored[1].AllocatedResources == stored[2].AllocatedResources || same(stored[1].Metrics.NodesAvailable, stored[2].Metrics.NodesAvailable) {
		t.Error("different parts are shared")
	}
	if stored[0].Metrics.Scores.Binpack != 100 || stored[2].Metrics.Scores.Binpack != 200 {
		t.Error("scores mixed up")
	}
}

// TestAllocsByEval: an evaluation's allocations are found through its job,
// and by a scan once the evaluation itself is gone.
func TestAllocsByEval(t *testing.T) {
	s := newStore(t)
	job := testJob("web")
	if err := s.UpsertJob(1, job, nil); err != nil {
		t.Fatal(err)
	}
	other := testJob("other")
	if err := s.UpsertJob(2, other, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertEvals(3, []*structs.Evaluation{{ID: "e1", Namespace: "default", JobID: "web", Status: structs.EvalStatusComplete}}); err != nil {
		t.Fatal(err)
	}
	mk := func(jobID, evalID string) *structs.Allocation {
		return &structs.Allocation{ID: structs.GenerateUUID(), Namespace: "default", JobID: jobID, NodeID: "n1", TaskGroup: "web",
			DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusPending, EvalID: evalID}
	}
	a1, a2, a3, a4 := mk("web", "e1"), mk("web", "e1"), mk("web", "e2"), mk("other", "gone")
	for i, a := range []*structs.Allocation{a1, a2, a3, a4} {
		if err := s.ApplyPlanResults(uint64(4+i), &structs.ApplyPlanResultsRequest{AllocsUpdated: []*structs.Allocation{a}}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		eval string
		want []string
	}{
		{"e1", []string{a1.ID, a2.ID}},
		{"gone", []string{a4.ID}},
		{"none", nil},
	}
	for _, tc := range cases {
		got, err := s.Snapshot().AllocsByEval(tc.eval)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		slices.Sort(ids)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("eval %s: allocs %v, want %v", tc.eval, ids, want)
		}
	}
}
