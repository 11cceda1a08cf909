// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"testing"

	"github.com/droverhq/drover/structs"
)

// Evictions only make room for their node's placements: when the applier
// refuses those placements, the evictions are dropped with them, while
// plain stops still apply.
func TestPlanApplierDropsEvictionsOfRefusedNode(t *testing.T) {
	node := &structs.Node{ID: "n1", Name: "n1", Datacenter: "dc1", Status: structs.NodeStatusReady,
		SchedulingEligibility: structs.NodeSchedulingEligible,
		NodeResources: &structs.NodeResources{Cpu: structs.NodeCpuResources{CpuShares: 4000},
			Memory: structs.NodeMemoryResources{MemoryMB: 4096}, Disk: structs.NodeDiskResources{DiskMB: 10000},
			Networks: []*structs.NetworkResource{{Mode: "host", IP: "10.0.0.1"}}},
	}
	job := &structs.Job{ID: "db", Name: "db", Namespace: structs.DefaultNamespace, Type: structs.JobTypeService,
		Datacenters: []string{"dc1"}, TaskGroups: []*structs.TaskGroup{{Name: "web", Count: 1,
			Tasks: []*structs.Task{{Name: "t", Driver: "mock_driver"}}}}}
	holder, other := portAlloc(job, "n1", 5432), portAlloc(job, "n1", 7000)
	s := applierState(t, node, job, holder, other)
	evict := other.Copy()
	evict.DesiredStatus = structs.AllocDesiredStatusEvict
	stop := holder.Copy()
	stop.DesiredStatus = structs.AllocDesiredStatusStop
	cases := []struct {
		name      string
		updates   []*structs.Allocation
		placement *structs.Allocation
		fits      bool
		wantKept  []string
	}{
		// The placement collides with the holder's port, which the plan
		// does not stop: refused, and the eviction with it.
		{"refused placement drops its evictions", []*structs.Allocation{evict}, portAlloc(job, "n1", 5432), false, nil},
		{"plain stops stay", []*structs.Allocation{evict, stop}, portAlloc(job, "n1", 7000), true, []string{evict.ID, stop.ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := &structs.Plan{Job: job,
				NodeUpdate:     map[string][]*structs.Allocation{"n1": tc.updates},
				NodeAllocation: map[string][]*structs.Allocation{"n1": {tc.placement}}}
			result := checkNodeCommitted(t, s, plan, tc.fits)
			var kept []string
			for _, a := range result.NodeUpdate["n1"] {
				kept = append(kept, a.ID)
			}
			if len(kept) != len(tc.wantKept) {
				t.Fatalf("updates kept %v, want %v", kept, tc.wantKept)
			}
			if len(plan.NodeUpdate["n1"]) != len(tc.updates) {
				t.Fatal("the plan's own updates were changed")
			}
		})
	}
}
