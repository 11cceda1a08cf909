// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"testing"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// cpuAlloc is a new allocation of job on node asking for cpu MHz.
func cpuAlloc(job *structs.Job, node string, cpu int64) *structs.Allocation {
	return &structs.Allocation{
		ID: structs.GenerateUUID(), Namespace: job.Namespace, Name: job.ID + ".web[0]", NodeID: node,
		JobID: job.ID, Job: job, TaskGroup: "web",
		DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusPending,
		AllocatedResources: &structs.AllocatedResources{
			Tasks: map[string]*structs.AllocatedTaskResources{"t": {Cpu: structs.AllocatedCpuResources{CpuShares: cpu}}},
		},
	}
}

// TestPlanVerifiedAgainstCommitInProgress: the applier verifies a plan
// while the previous plan's commit is still in raft. The committing plan's
// placements count as used until a snapshot holds them, and only once.
func TestPlanVerifiedAgainstCommitInProgress(t *testing.T) {
	s, err := state.New()
	if err != nil {
		t.Fatal(err)
	}
	node := &structs.Node{ID: "n1", Name: "n1", Datacenter: "dc1", Status: structs.NodeStatusReady,
		SchedulingEligibility: structs.NodeSchedulingEligible,
		NodeResources: &structs.NodeResources{Cpu: structs.NodeCpuResources{CpuShares: 1000},
			Memory: structs.NodeMemoryResources{MemoryMB: 4096}, Disk: structs.NodeDiskResources{DiskMB: 10000}},
	}
	if err := s.UpsertNode(1, node); err != nil {
		t.Fatal(err)
	}
	job := &structs.Job{ID: "web", Name: "web", Namespace: structs.DefaultNamespace, Type: structs.JobTypeService,
		Datacenters: []string{"dc1"}, TaskGroups: []*structs.TaskGroup{{Name: "web", Count: 1,
			Tasks: []*structs.Task{{Name: "t", Driver: "mock_driver"}}}}}
	job.Canonicalize()
	if err := s.UpsertJob(2, job, nil); err != nil {
		t.Fatal(err)
	}

	first := cpuAlloc(job, "n1", 600)
	firstResult := &structs.PlanResult{NodeAllocation: map[string][]*structs.Allocation{"n1": {first}}}
	commit := &planCommit{done: make(chan struct{}), used: placedUsage(firstResult), probe: newAllocID(firstResult)}
	if commit.probe != first.ID {
		t.Fatalf("probe = %q, want the new allocation %q", commit.probe, first.ID)
	}

	cases := []struct {
		name      string
		committed bool  // the first plan is in the snapshot
		cpu       int64 // the second plan's ask
		fits      bool
	}{
		{"in progress: room left", false, 400, true},
		{"in progress: would overcommit", false, 500, false},
		{"committed: counted once", true, 400, true},
		{"committed: would overcommit", true, 500, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.committed {
				if err := s.ApplyPlanResults(3, &structs.ApplyPlanResultsRequest{Job: job, AllocsUpdated: []*structs.Allocation{first}}); err != nil {
					t.Fatal(err)
				}
			}
			snap := s.Snapshot()
			pending, err := commit.pendingIn(snap)
			if err != nil {
				t.Fatal(err)
			}
			if got := pending != nil; got == tc.committed {
				t.Fatalf("pending = %v with the commit in the snapshot = %v", pending, tc.committed)
			}
			plan := &structs.Plan{Job: job, NodeAllocation: map[string][]*structs.Allocation{"n1": {cpuAlloc(job, "n1", tc.cpu)}}}
			result, err := evaluatePlanPending(snap, plan, pending)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(result.NodeAllocation["n1"]) == 1; got != tc.fits {
				t.Errorf("fits = %v, want %v (refresh index %d)", got, tc.fits, result.RefreshIndex)
			}
			if !tc.fits && result.RefreshIndex == 0 {
				t.Error("a refused placement must ask for a refresh")
			}
		})
	}
}

// TestNeedsCommitted: a plan asking for host ports on a node the commit in
// progress places on waits for that commit.
func TestNeedsCommitted(t *testing.T) {
	job := &structs.Job{ID: "db", Namespace: structs.DefaultNamespace}
	pending := map[string]structs.ComparableResources{"n1": {CPU: 10}}
	cases := []struct {
		name string
		plan *structs.Plan
		want bool
	}{
		{"ports on the committing node", &structs.Plan{NodeAllocation: map[string][]*structs.Allocation{"n1": {portAlloc(job, "n1", 5432)}}}, true},
		{"ports elsewhere", &structs.Plan{NodeAllocation: map[string][]*structs.Allocation{"n2": {portAlloc(job, "n2", 5432)}}}, false},
		{"no ports on the committing node", &structs.Plan{NodeAllocation: map[string][]*structs.Allocation{"n1": {cpuAlloc(job, "n1", 10)}}}, false},
	}
	for _, tc := range cases {
		if got := needsCommitted(tc.plan, pending); got != tc.want {
			t.Errorf("%s: needsCommitted = %v, want %v", tc.name, got, tc.want)
		}
	}
}
