// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"testing"

	"github.com/droverhq/drover/structs"
)

// coreAlloc is a running allocation of job on node whose task holds cores.
func coreAlloc(job *structs.Job, node string, cores ...uint16) *structs.Allocation {
	return &structs.Allocation{
		ID: structs.GenerateUUID(), Namespace: job.Namespace, Name: job.ID + ".web[0]", NodeID: node,
		JobID: job.ID, Job: job, TaskGroup: "web",
		DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusRunning,
		AllocatedResources: &structs.AllocatedResources{Tasks: map[string]*structs.AllocatedTaskResources{
			"t": {Cpu: structs.AllocatedCpuResources{CpuShares: int64(len(cores)) * 1000, ReservedCores: cores}},
		}},
	}
}

// TestPlanApplierRefusesCoreCollision: two schedulers that planned from
// the same snapshot both give core 1 of a node; the applier commits the
// first and refuses the second, which must refresh and try again.
func TestPlanApplierRefusesCoreCollision(t *testing.T) {
	node := &structs.Node{ID: "n1", Name: "n1", Datacenter: "dc1", Status: structs.NodeStatusReady,
		SchedulingEligibility: structs.NodeSchedulingEligible,
		NodeResources: &structs.NodeResources{
			Cpu:    structs.NodeCpuResources{CpuShares: 4000, TotalCpuCores: 4, ReservableCpuCores: []uint16{0, 1, 2, 3}},
			Memory: structs.NodeMemoryResources{MemoryMB: 4096}, Disk: structs.NodeDiskResources{DiskMB: 10000}},
		ReservedResources: &structs.NodeReservedResources{Cpu: structs.NodeReservedCpuResources{ReservedCpuCores: []uint16{0}}},
	}
	job := &structs.Job{ID: "db", Name: "db", Namespace: structs.DefaultNamespace, Type: structs.JobTypeService,
		Datacenters: []string{"dc1"}, TaskGroups: []*structs.TaskGroup{{Name: "web", Count: 1,
			Tasks: []*structs.Task{{Name: "t", Driver: "mock_driver", Resources: &structs.Resources{Cores: 1, MemoryMB: 10}}}}}}
	first := coreAlloc(job, "n1", 1)
	s := applierState(t, node, job, first)
	place := func(allocs ...*structs.Allocation) map[string][]*structs.Allocation {
		return map[string][]*structs.Allocation{"n1": allocs}
	}
	cases := []struct {
		name string
		plan *structs.Plan
		fits bool
	}{
		{"same core", &structs.Plan{Job: job, NodeAllocation: place(coreAlloc(job, "n1", 1))}, false},
		{"reserved core", &structs.Plan{Job: job, NodeAllocation: place(coreAlloc(job, "n1", 0))}, false},
		{"core the node lacks", &structs.Plan{Job: job, NodeAllocation: place(coreAlloc(job, "n1", 7))}, false},
		{"two placements of one plan", &structs.Plan{Job: job, NodeAllocation: place(coreAlloc(job, "n1", 2), coreAlloc(job, "n1", 2))}, false},
		{"no core assigned", &structs.Plan{Job: job, NodeAllocation: place(coreAlloc(job, "n1"))}, false},
		{"other core", &structs.Plan{Job: job, NodeAllocation: place(coreAlloc(job, "n1", 2))}, true},
		{"same core after the plan stops the holder", &structs.Plan{Job: job,
			NodeUpdate:     map[string][]*structs.Allocation{"n1": {first}},
			NodeAllocation: place(coreAlloc(job, "n1", 1))}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkNodeCommitted(t, s, tc.plan, tc.fits) })
	}
}
