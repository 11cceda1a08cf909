// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"testing"

	"github.com/droverhq/drover/structs"
)

func usageAlloc(id, node string, cpu int64) *structs.Allocation {
	return &structs.Allocation{
		ID: id, Namespace: "default", JobID: "web", TaskGroup: "web", NodeID: node,
		DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusPending,
		AllocatedResources: &structs.AllocatedResources{
			Tasks:  map[string]*structs.AllocatedTaskResources{"t": {Cpu: structs.AllocatedCpuResources{CpuShares: cpu}, Memory: structs.AllocatedMemoryResources{MemoryMB: cpu / 10}}},
			Shared: structs.AllocatedSharedResources{DiskMB: 10},
		},
	}
}

// TestNodeUsageTracksAllocWrites checks that the per-node usage and
// allocation index follow placements, stops, client updates and a
// snapshot restore, and equal a recount of the allocations.
func TestNodeUsageTracksAllocWrites(t *testing.T) {
	s := newStore(t)
	job := testJob("web")
	if err := s.UpsertJob(5, job, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertNode(6, &structs.Node{ID: "n1"}); err != nil {
		t.Fatal(err)
	}
	type want struct {
		n1, n2     structs.ComparableResources
		n1ix, n2ix uint64
	}
	steps := []struct {
		name  string
		write func(index uint64) error
		want  want
	}{
		{"two placed on n1, one on n2", func(i uint64) error {
			return s.ApplyPlanResults(i, &structs.ApplyPlanResultsRequest{Job: job, AllocsUpdated: []*structs.Allocation{
				usageAlloc("a", "n1", 100), usageAlloc("b", "n1", 200), usageAlloc("c", "n2", 300),
			}})
		}, want{structs.ComparableResources{CPU: 300, MemoryMB: 30, DiskMB: 20}, structs.ComparableResources{CPU: 300, MemoryMB: 30, DiskMB: 10}, 10, 10}},
		{"running report changes neither", func(i uint64) error {
			return s.UpdateAllocsFromClient(i, &structs.AllocClientUpdate{Allocs: []*structs.Allocation{{ID: "a", ClientStatus: structs.AllocClientStatusRunning}}})
		}, want{structs.ComparableResources{CPU: 300, MemoryMB: 30, DiskMB: 20}, structs.ComparableResources{CPU: 300, MemoryMB: 30, DiskMB: 10}, 10, 10}},
		{"failed report frees a, index stays", func(i uint64) error {
			return s.UpdateAllocsFromClient(i, &structs.AllocClientUpdate{Allocs: []*structs.Allocation{{ID: "a", ClientStatus: structs.AllocClientStatusFailed}}})
		}, want{structs.ComparableResources{CPU: 200, MemoryMB: 20, DiskMB: 10}, structs.ComparableResources{CPU: 300, MemoryMB: 30, DiskMB: 10}, 10, 10}},
		{"stop of c frees n2 and moves its index", func(i uint64) error {
			return s.ApplyPlanResults(i, &structs.ApplyPlanResultsRequest{AllocsStopped: []*structs.Allocation{
				{ID: "c", DesiredStatus: structs.AllocDesiredStatusStop},
			}})
		}, want{structs.ComparableResources{CPU: 200, MemoryMB: 20, DiskMB: 10}, structs.ComparableResources{}, 10, 13}},
		{"in-place update of b to a bigger size", func(i uint64) error {
			return s.ApplyPlanResults(i, &structs.ApplyPlanResultsRequest{Job: job, AllocsUpdated: []*structs.Allocation{usageAlloc("b", "n1", 500)}})
		}, want{structs.ComparableResources{CPU: 500, MemoryMB: 50, DiskMB: 10}, structs.ComparableResources{}, 14, 13}},
	}
	check := func(t *testing.T, st *StateStore, w want) {
		t.Helper()
		snap := st.Snapshot()
		for _, c := range []struct {
			node  string
			usage structs.ComparableResources
			index uint64
		}{{"n1", w.n1, w.n1ix}, {"n2", w.n2, w.n2ix}} {
			got, err := snap.NodeUsage(c.node)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.usage {
				t.Errorf("%s usage = %+v, want %+v", c.node, got, c.usage)
			}
			var recount structs.ComparableResources
			allocs, _ := snap.AllocsByNode(c.node)
			for _, a := range allocs {
				if !a.TerminalStatus() {
					recount.Add(a.AllocatedResources.Comparable())
				}
			}
			if got != recount {
				t.Errorf("%s usage %+v differs from a recount %+v", c.node, got, recount)
			}
			if ix, _ := snap.NodeAllocIndex(c.node); ix != c.index {
				t.Errorf("%s alloc index = %d, want %d", c.node, ix, c.index)
			}
		}
	}
	index := uint64(10)
	var last want
	for _, step := range steps {
		if err := step.write(index); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		t.Run(step.name, func(t *testing.T) { check(t, s, step.want) })
		last = step.want
		index++
	}

	// A restore rebuilds the rows and shares one job copy per version.
	dump, err := s.Snapshot().Dump()
	if err != nil {
		t.Fatal(err)
	}
	if len(dump.AllocJobs) != 1 {
		t.Fatalf("dump holds %d job copies for one version, want 1", len(dump.AllocJobs))
	}
	for _, a := range dump.Allocs {
		if a.Job != nil {
			t.Fatalf("dumped alloc %s carries its job", a.ID)
		}
	}
	restored := newStore(t)
	if err := restored.Restore(dump); err != nil {
		t.Fatal(err)
	}
	t.Run("after restore", func(t *testing.T) { check(t, restored, last) })
	a, _ := restored.Snapshot().AllocByID("a")
	b, _ := restored.Snapshot().AllocByID("b")
	if a.Job == nil || a.Job != b.Job {
		t.Fatalf("restored allocs do not share their job: %p %p", a.Job, b.Job)
	}
	if a.Job.ID != "web" {
		t.Fatalf("restored job %q", a.Job.ID)
	}
}
