// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"sync"
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
)

// Clients reporting at the same time share one raft entry, and each hears
// back only once its update is in the state.
func TestAllocUpdatesShareARaftEntry(t *testing.T) {
	s := testServer(t)
	node := testNode(4000, 4096)
	var reg structs.NodeUpdateResponse
	if err := s.Node().Register(&structs.NodeRegisterRequest{Node: node}, &reg); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RegisterJob(testJob("batched", 3)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "3 placements", func() bool { return len(liveAllocs(t, s, "batched")) == 3 })

	allocs := liveAllocs(t, s, "batched")
	indexes := make([]uint64, len(allocs))
	var wg sync.WaitGroup
	for i, a := range allocs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var resp structs.GenericResponse
			err := s.Node().UpdateAlloc(&structs.AllocUpdateRequest{NodeID: node.ID, SecretID: node.SecretID, Allocs: []*structs.Allocation{{
				ID: a.ID, ClientStatus: structs.AllocClientStatusRunning,
				TaskStates: map[string]*structs.TaskState{"t": {State: structs.TaskStateRunning}},
			}}}, &resp)
			if err != nil {
				t.Error(err)
			}
			indexes[i] = resp.Index
		}()
	}
	wg.Wait()
	for i, a := range allocs {
		got, err := s.State().Snapshot().AllocByID(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ClientStatus != structs.AllocClientStatusRunning {
			t.Errorf("allocation %s answered before its update was applied: %s", a.ID, got.ClientStatus)
		}
		if indexes[i] != indexes[0] || got.ModifyIndex != indexes[0] {
			t.Errorf("update %d committed at %d (allocation at %d), the first at %d: not one entry", i, indexes[i], got.ModifyIndex, indexes[0])
		}
	}
}
