// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"slices"
	"testing"

	"github.com/droverhq/drover/structs"
)

// TestSystemAllocStop checks `alloc stop` (a migrate mark on a node that
// keeps working) of a system or sysbatch allocation: it is stopped and a
// new one, linked to it, is placed on the same node; the other nodes keep
// theirs. On a draining node the mark only stops it.
func TestSystemAllocStop(t *testing.T) {
	cases := []struct {
		name      string
		typ       string
		drainB    bool
		wantNodes []string
		wantNew   bool // a replacement is placed on b
	}{
		{"system allocation is replaced on its node", structs.JobTypeSystem, false, []string{"a", "b"}, true},
		{"sysbatch allocation is replaced on its node", structs.JobTypeSysbatch, false, []string{"a", "b"}, true},
		{"system allocation on a draining node is not replaced", structs.JobTypeSystem, true, []string{"a"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.state.upsertNode(testNode("a", 4000, 8192))
			h.state.upsertNode(testNode("b", 4000, 8192))
			job := sysJob(tc.typ, 500, 256)
			h.state.upsertJob(job)
			h.mustProcess(job)
			before := map[string]*structs.Allocation{}
			for _, a := range h.state.liveAllocs("sys") {
				h.setClientStatus(a, structs.AllocClientStatusRunning)
				before[a.NodeID] = a
			}
			if tc.drainB {
				n := h.state.nodes["b"].Copy()
				n.DrainStrategy = &structs.DrainStrategy{}
				n.SchedulingEligibility = structs.NodeSchedulingIneligible
				h.state.upsertNode(n)
			}
			stopped := h.state.allocs[before["b"].ID].Copy()
			yes := true
			stopped.DesiredTransition.Migrate = &yes
			h.state.upsertAlloc(stopped)

			eval := h.processTrigger(job, "alloc-stop")
			if eval.Status != structs.EvalStatusComplete || len(eval.FailedTGAllocs) != 0 {
				t.Fatalf("eval = %+v", eval)
			}
			if got := h.liveNodes("sys"); !slices.Equal(got, tc.wantNodes) {
				t.Fatalf("live nodes = %v, want %v", got, tc.wantNodes)
			}
			if old := h.state.allocs[stopped.ID]; old.DesiredStatus != structs.AllocDesiredStatusStop || old.DesiredDescription != descMigrating {
				t.Errorf("stopped allocation: desired %q (%q), want stop (%q)", old.DesiredStatus, old.DesiredDescription, descMigrating)
			}
			for _, a := range h.state.liveAllocs("sys") {
				switch a.NodeID {
				case "a":
					if a.ID != before["a"].ID {
						t.Errorf("allocation on a was replaced")
					}
				case "b":
					if !tc.wantNew {
						t.Errorf("unexpected allocation %s on b", a.ID)
					}
					if a.ID == stopped.ID || a.PreviousAllocation != stopped.ID {
						t.Errorf("allocation on b = %s (previous %q), want a new one replacing %s", a.ID, a.PreviousAllocation, stopped.ID)
					}
				}
			}
			// The next evaluation leaves things as they are: the stopped
			// allocation's mark does not stop its replacement.
			h.processTrigger(job, structs.EvalTriggerNodeUpdate)
			if got := h.liveNodes("sys"); !slices.Equal(got, tc.wantNodes) {
				t.Fatalf("live nodes after a second evaluation = %v, want %v", got, tc.wantNodes)
			}
		})
	}
}
