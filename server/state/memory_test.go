// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
)

// roundTrip passes msg through the raft log's encoding, as the FSM sees
// it: every string and map of the result is a fresh copy.
func roundTrip[T any](t testing.TB, typ structs.MessageType, msg *T) *T {
	t.Helper()
	buf, err := structs.Encode(typ, msg)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := structs.Decode(buf[1:], &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// clientRunning is the update a real client sends for a started task:
// the three events of the task runner, with their Details maps.
func clientRunning(id string, at time.Time) *structs.Allocation {
	ev := func(typ, display string, details map[string]string) *structs.TaskEvent {
		return &structs.TaskEvent{Type: typ, Time: at.UnixNano(), DisplayMessage: display, Details: details}
	}
	setup := ev(structs.TaskSetup, "Building Task Directory", map[string]string{"message": "Building Task Directory"})
	setup.Message = "Building Task Directory"
	return &structs.Allocation{
		ID: id, ClientStatus: structs.AllocClientStatusRunning, ClientDescription: "Tasks are running",
		TaskStates: map[string]*structs.TaskState{"t": {
			State: structs.TaskStateRunning, StartedAt: at,
			Events: []*structs.TaskEvent{
				ev(structs.TaskReceived, "Task received by client", map[string]string{}),
				setup,
				ev(structs.TaskStarted, "Task started by client", map[string]string{}),
			},
		}},
	}
}

// fillAllocs places jobs x perJob allocations over nodes nodes, one plan
// per job, and reports each running as clients do, all through decoded
// raft requests.
func fillAllocs(t testing.TB, s *StateStore, jobs, perJob, nodes int) {
	t.Helper()
	index := uint64(1)
	nodeIDs := make([]string, nodes)
	for i := range nodeIDs {
		nodeIDs[i] = structs.GenerateUUID()
	}
	at := time.Unix(1_700_000_000, 0)
	for j := 0; j < jobs; j++ {
		job := testJob(fmt.Sprintf("job-%04d", j))
		if err := s.UpsertJob(index, job, nil); err != nil {
			t.Fatal(err)
		}
		index++
		stored, _ := s.Snapshot().JobByID("default", job.ID)
		evalID := structs.GenerateUUID()
		req := &structs.ApplyPlanResultsRequest{Job: stored, EvalID: evalID, UpdatedAt: at.UnixNano()}
		for i := 0; i < perJob; i++ {
			nodeID := nodeIDs[(j*perJob+i)%nodes]
			req.AllocsUpdated = append(req.AllocsUpdated, &structs.Allocation{
				ID: structs.GenerateUUID(), Namespace: "default", EvalID: evalID,
				Name: fmt.Sprintf("%s.web[%d]", job.ID, i), NodeID: nodeID, NodeName: "node-" + nodeID[:8],
				JobID: job.ID, TaskGroup: "web", DesiredStatus: structs.AllocDesiredStatusRun,
				ClientStatus: structs.AllocClientStatusPending,
				AllocatedResources: &structs.AllocatedResources{Tasks: map[string]*structs.AllocatedTaskResources{"t": {
					Cpu: structs.AllocatedCpuResources{CpuShares: 100}, Memory: structs.AllocatedMemoryResources{MemoryMB: 64},
				}}},
				Metrics: &structs.AllocMetric{NodesEvaluated: 10, NodesAvailable: map[string]int{"dc1": nodes}},
			})
		}
		if err := s.ApplyPlanResults(index, roundTrip(t, structs.ApplyPlanResultsRequestType, req)); err != nil {
			t.Fatal(err)
		}
		index++
		update := &structs.AllocClientUpdate{UpdatedAt: at.UnixNano()}
		for _, a := range req.AllocsUpdated {
			update.Allocs = append(update.Allocs, clientRunning(a.ID, at))
		}
		if err := s.UpdateAllocsFromClient(index, roundTrip(t, structs.AllocClientUpdateRequestType, update)); err != nil {
			t.Fatal(err)
		}
		index++
	}
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestAllocMemoryPerAllocation bounds the live heap one running allocation
// costs the state store (issue 5: a million allocations in under 4 GB of
// RSS, the garbage collector's headroom included).
func TestAllocMemoryPerAllocation(t *testing.T) {
	const jobs, perJob, nodes = 40, 500, 500
	before := liveHeap()
	s := newStore(t)
	fillAllocs(t, s, jobs, perJob, nodes)
	after := liveHeap()
	perAlloc := float64(after-before) / (jobs * perJob)
	t.Logf("live heap per allocation: %.0f bytes", perAlloc)
	runtime.KeepAlive(s)
	// About 0.5 KB of go-memdb index entries (the ID index with its watch
	// channels), 0.7 KB of task states, 0.4 KB the allocation struct, the
	// rest its own strings and metrics; 3.9 KB before strings and details
	// were shared and the node and job indexes became lists (allocsets.go).
	if perAlloc > 2400 {
		t.Fatalf("live heap per allocation = %.0f bytes, want <= 2400", perAlloc)
	}
}
