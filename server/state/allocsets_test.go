// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
)

func TestIDDeltaApply(t *testing.T) {
	for _, tc := range []struct {
		name           string
		ids            []string
		added, removed []string
		want           []string
	}{
		{"empty delta", []string{"a", "c"}, nil, nil, []string{"a", "c"}},
		{"into empty", nil, []string{"b", "a"}, nil, []string{"a", "b"}},
		{"merge sorted", []string{"a", "c"}, []string{"d", "b"}, nil, []string{"a", "b", "c", "d"}},
		{"duplicate", []string{"a"}, []string{"a"}, nil, []string{"a"}},
		{"remove", []string{"a", "b", "c"}, nil, []string{"b"}, []string{"a", "c"}},
		{"remove and add", []string{"a", "b"}, []string{"c"}, []string{"a"}, []string{"b", "c"}},
		{"remove all", []string{"a"}, nil, []string{"a"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := slices.Clone(tc.ids)
			d := idDelta{added: tc.added, removed: tc.removed}
			got := d.apply(tc.ids)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("apply = %v, want %v", got, tc.want)
			}
			if !slices.Equal(tc.ids, orig) {
				t.Fatalf("apply modified its input: %v, was %v", tc.ids, orig)
			}
		})
	}
}

func allocIDs(allocs []*structs.Allocation) []string {
	var out []string
	for _, a := range allocs {
		out = append(out, a.ID)
	}
	return out
}

// Allocations by node and by job come sorted by ID, survive a snapshot
// restore, and wake a blocking query when one of them changes.
func TestAllocsByNodeAndJob(t *testing.T) {
	s := newStore(t)
	for i, id := range []string{"a", "b"} {
		if err := s.UpsertJob(uint64(1+i), testJob(id), nil); err != nil {
			t.Fatal(err)
		}
	}
	place := func(index uint64, jobID string, allocs ...[2]string) {
		t.Helper()
		job, _ := s.Snapshot().JobByID("default", jobID)
		req := &structs.ApplyPlanResultsRequest{Job: job}
		for _, a := range allocs {
			req.AllocsUpdated = append(req.AllocsUpdated, &structs.Allocation{ID: a[0], NodeID: a[1], Namespace: "default",
				JobID: jobID, TaskGroup: "web", DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusPending})
		}
		if err := s.ApplyPlanResults(index, req); err != nil {
			t.Fatal(err)
		}
	}
	place(3, "a", [2]string{"3", "n1"}, [2]string{"1", "n2"}, [2]string{"2", "n1"})
	place(4, "b", [2]string{"0", "n1"})
	place(5, "a", [2]string{"1", "n2"}, [2]string{"4", "n2"}) // "1" again: an in-place update

	check := func(t *testing.T, snap *Snapshot) {
		t.Helper()
		for _, tc := range []struct {
			name string
			get  func() ([]*structs.Allocation, error)
			want []string
		}{
			{"node n1", func() ([]*structs.Allocation, error) { return snap.AllocsByNode("n1") }, []string{"0", "2", "3"}},
			{"node n2", func() ([]*structs.Allocation, error) { return snap.AllocsByNode("n2") }, []string{"1", "4"}},
			{"node none", func() ([]*structs.Allocation, error) { return snap.AllocsByNode("n3") }, nil},
			{"job a", func() ([]*structs.Allocation, error) { return snap.AllocsByJob("default", "a") }, []string{"1", "2", "3", "4"}},
			{"job b", func() ([]*structs.Allocation, error) { return snap.AllocsByJob("default", "b") }, []string{"0"}},
			{"job other namespace", func() ([]*structs.Allocation, error) { return snap.AllocsByJob("other", "a") }, nil},
		} {
			got, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(allocIDs(got), tc.want) {
				t.Errorf("%s = %v, want %v", tc.name, allocIDs(got), tc.want)
			}
		}
	}
	check(t, s.Snapshot())

	dump, err := s.Snapshot().Dump()
	if err != nil {
		t.Fatal(err)
	}
	restored := newStore(t)
	if err := restored.Restore(dump); err != nil {
		t.Fatal(err)
	}
	t.Run("restored", func(t *testing.T) { check(t, restored.Snapshot()) })

	for _, tc := range []struct {
		name  string
		query func(snap *Snapshot) ([]*structs.Allocation, error)
	}{
		{"by node", func(snap *Snapshot) ([]*structs.Allocation, error) { return snap.AllocsByNode("n1") }},
		{"by job", func(snap *Snapshot) ([]*structs.Allocation, error) { return snap.AllocsByJob("default", "b") }},
	} {
		t.Run("wakes "+tc.name, func(t *testing.T) {
			start := s.LatestIndex()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			started := make(chan struct{})
			done := make(chan uint64, 1)
			go func() {
				var once bool
				idx, _ := s.BlockingQuery(ctx, start, func(snap *Snapshot) (uint64, error) {
					if !once {
						once = true
						close(started)
					}
					allocs, err := tc.query(snap)
					// The highest ModifyIndex of the allocations read, as
					// the HTTP API answers: reading no index entry, only
					// the watches of the rows read can wake this query.
					var highest uint64
					for _, a := range allocs {
						highest = max(highest, a.ModifyIndex)
					}
					return highest, err
				})
				if ctx.Err() != nil {
					idx = 0 // woke by timing out
				}
				done <- idx
			}()
			<-started
			// Alloc "0" is on n1 and of job b: its status change alone
			// must wake the query.
			update := &structs.AllocClientUpdate{Allocs: []*structs.Allocation{{ID: "0", ClientStatus: structs.AllocClientStatusRunning}}}
			if err := s.UpdateAllocsFromClient(start+1, update); err != nil {
				t.Fatal(err)
			}
			if idx := <-done; idx != start+1 {
				t.Fatalf("index = %d, want %d (0: not woken by the change)", idx, start+1)
			}
		})
	}
}
