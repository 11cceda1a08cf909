// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"testing"

	"github.com/droverhq/drover/structs"
)

// portAlloc is a running allocation of job on node holding static port.
func portAlloc(job *structs.Job, node string, port int) *structs.Allocation {
	return &structs.Allocation{
		ID: structs.GenerateUUID(), Namespace: job.Namespace, Name: job.ID + ".web[0]", NodeID: node,
		JobID: job.ID, Job: job, TaskGroup: "web",
		DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusRunning,
		AllocatedResources: &structs.AllocatedResources{
			Tasks: map[string]*structs.AllocatedTaskResources{"t": {Cpu: structs.AllocatedCpuResources{CpuShares: 10}}},
			Shared: structs.AllocatedSharedResources{
				Networks: []*structs.NetworkResource{{Mode: "host", IP: "10.0.0.1", ReservedPorts: []structs.Port{{Label: "db", Value: port}}}},
				Ports:    []structs.PortMapping{{Label: "db", Value: port, HostIP: "10.0.0.1"}},
			},
		},
	}
}

// TestPlanApplierRefusesPortCollision: two schedulers that planned from
// the same snapshot both give port 5432 of one node; the applier commits
// the first and refuses the second, which must refresh and try again.
func TestPlanApplierRefusesPortCollision(t *testing.T) {
	node := &structs.Node{ID: "n1", Name: "n1", Datacenter: "dc1", Status: structs.NodeStatusReady,
		SchedulingEligibility: structs.NodeSchedulingEligible,
		NodeResources: &structs.NodeResources{Cpu: structs.NodeCpuResources{CpuShares: 4000},
			Memory: structs.NodeMemoryResources{MemoryMB: 4096}, Disk: structs.NodeDiskResources{DiskMB: 10000},
			Networks: []*structs.NetworkResource{{Mode: "host", IP: "10.0.0.1"}}},
		ReservedResources: &structs.NodeReservedResources{Networks: structs.NodeReservedNetworkResources{ReservedHostPorts: "22"}},
	}
	job := &structs.Job{ID: "db", Name: "db", Namespace: structs.DefaultNamespace, Type: structs.JobTypeService,
		Datacenters: []string{"dc1"}, TaskGroups: []*structs.TaskGroup{{Name: "web", Count: 1,
			Tasks: []*structs.Task{{Name: "t", Driver: "mock_driver"}}}}}
	first := portAlloc(job, "n1", 5432)
	s := applierState(t, node, job, first)

	cases := []struct {
		name string
		plan *structs.Plan
		fits bool
	}{
		{"same port", &structs.Plan{Job: job, NodeAllocation: map[string][]*structs.Allocation{"n1": {portAlloc(job, "n1", 5432)}}}, false},
		{"reserved port", &structs.Plan{Job: job, NodeAllocation: map[string][]*structs.Allocation{"n1": {portAlloc(job, "n1", 22)}}}, false},
		{"two placements of one plan", &structs.Plan{Job: job, NodeAllocation: map[string][]*structs.Allocation{"n1": {portAlloc(job, "n1", 6000), portAlloc(job, "n1", 6000)}}}, false},
		{"unassigned dynamic port", &structs.Plan{Job: job, NodeAllocation: map[string][]*structs.Allocation{"n1": {func() *structs.Allocation {
			a := portAlloc(job, "n1", 6000)
			a.AllocatedResources.Shared.Networks[0].ReservedPorts = nil
			a.AllocatedResources.Shared.Networks[0].DynamicPorts = []structs.Port{{Label: "http"}}
			return a
		}()}}}, false},
		{"other port", &structs.Plan{Job: job, NodeAllocation: map[string][]*structs.Allocation{"n1": {portAlloc(job, "n1", 5433)}}}, true},
		{"same port after the plan stops the holder", &structs.Plan{Job: job,
			NodeUpdate:     map[string][]*structs.Allocation{"n1": {first}},
			NodeAllocation: map[string][]*structs.Allocation{"n1": {portAlloc(job, "n1", 5432)}}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkNodeCommitted(t, s, tc.plan, tc.fits) })
	}
}
