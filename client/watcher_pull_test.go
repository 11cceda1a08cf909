// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/structs"
)

// fakePuller serves a fixed set of allocations and records what was pulled.
type fakePuller struct {
	allocs map[string]*structs.Allocation
	index  uint64
	pulled [][]string
}

func (f *fakePuller) GetClientAllocIndexes(_ context.Context, _ *structs.NodeAllocsRequest) (*structs.NodeClientAllocsResponse, error) {
	resp := &structs.NodeClientAllocsResponse{Allocs: map[string]uint64{}, Index: f.index}
	for id, a := range f.allocs {
		resp.Allocs[id] = a.AllocModifyIndex
	}
	return resp, nil
}

func (f *fakePuller) GetAllocs(_ context.Context, req *structs.AllocsGetRequest) (*structs.AllocsGetResponse, error) {
	ids := slices.Clone(req.AllocIDs)
	sort.Strings(ids)
	f.pulled = append(f.pulled, ids)
	resp := &structs.AllocsGetResponse{Index: f.index}
	for _, id := range req.AllocIDs {
		if a, ok := f.allocs[id]; ok {
			resp.Allocs = append(resp.Allocs, a)
		}
	}
	return resp, nil
}

func TestAllocPullFetchesOnlyChanges(t *testing.T) {
	f := &fakePuller{index: 5, allocs: map[string]*structs.Allocation{
		"a": {ID: "a", AllocModifyIndex: 5},
		"b": {ID: "b", AllocModifyIndex: 4},
	}}
	p := &allocPull{puller: f, have: map[string]*structs.Allocation{}}
	steps := []struct {
		name       string
		change     func()
		wantPulled []string // nil: no pull
		wantIDs    []string
	}{
		{"first query pulls everything", func() {}, []string{"a", "b"}, []string{"a", "b"}},
		{"nothing changed pulls nothing", func() {}, nil, []string{"a", "b"}},
		{"a changed and c placed", func() {
			f.index = 7
			f.allocs["a"] = &structs.Allocation{ID: "a", AllocModifyIndex: 7, DesiredStatus: structs.AllocDesiredStatusStop}
			f.allocs["c"] = &structs.Allocation{ID: "c", AllocModifyIndex: 7}
		}, []string{"a", "c"}, []string{"a", "b", "c"}},
		{"b garbage collected", func() {
			f.index = 8
			delete(f.allocs, "b")
		}, nil, []string{"a", "c"}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.change()
			before := len(f.pulled)
			resp, err := p.fetch(context.Background(), &structs.NodeAllocsRequest{NodeID: "n"})
			if err != nil {
				t.Fatal(err)
			}
			var pulled []string
			if len(f.pulled) > before {
				pulled = f.pulled[len(f.pulled)-1]
			}
			if !slices.Equal(pulled, step.wantPulled) {
				t.Errorf("pulled %v, want %v", pulled, step.wantPulled)
			}
			var ids []string
			for _, a := range resp.Allocs {
				ids = append(ids, a.ID)
				if a != f.allocs[a.ID] {
					t.Errorf("alloc %s is not the latest copy", a.ID)
				}
			}
			sort.Strings(ids)
			if !slices.Equal(ids, step.wantIDs) {
				t.Errorf("listed %v, want %v", ids, step.wantIDs)
			}
			if resp.Index != f.index {
				t.Errorf("index %d, want %d", resp.Index, f.index)
			}
		})
	}
}

// TestWatcherPullsOnlyChanges follows a client through the pull protocol
// of its servers: each allocation is fetched when placed and when changed,
// never again because another one changed.
func TestWatcherPullsOnlyChanges(t *testing.T) {
	tc := newTestClient(t, time.Minute, nil)
	running := func(id string) func() error {
		return func() error {
			if st, _ := tc.TaskState(id, "t0"); st == nil || st.State != structs.TaskStateRunning {
				return fmt.Errorf("alloc %s not running yet", id)
			}
			return nil
		}
	}
	a := tc.place(structs.JobTypeService, map[string]any{})
	clienttest.WaitFor(t, waitLong, running(a.ID))
	b := tc.place(structs.JobTypeService, map[string]any{})
	clienttest.WaitFor(t, waitLong, running(b.ID))
	tc.servers.StopAlloc(a.ID)
	tc.waitReported(t, a.ID, structs.AllocClientStatusComplete)
	if got, want := tc.servers.Pulled(), []string{a.ID, b.ID, a.ID}; !slices.Equal(got, want) {
		t.Fatalf("pulled %v, want %v", got, want)
	}
}
