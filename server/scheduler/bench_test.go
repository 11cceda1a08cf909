// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// BenchmarkServiceScheduler is issue 7's benchmark: the shape of Nomad's
// own BenchmarkServiceScheduler, with and without a spread block, so the
// two can be compared on the same machine.
//
// The full matrix (120 rows) takes several minutes:
//
//	go test -run '^$' -bench BenchmarkServiceScheduler -benchmem ./server/scheduler/
//
// `make bench` runs the headline rows only:
//
//	go test -run '^$' -bench 'BenchmarkServiceScheduler/(5000|10000)_nodes_25_racks_1200_allocs' -benchmem ./server/scheduler/...

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/droverhq/drover/structs"
	"github.com/hashicorp/go-hclog"
)

// acceptingPlanner commits every plan without storing it, so each
// benchmark iteration schedules the same job onto the same empty cluster.
type acceptingPlanner struct{}

func (acceptingPlanner) SubmitPlan(p *structs.Plan) (*structs.PlanResult, State, error) {
	return &structs.PlanResult{NodeAllocation: p.NodeAllocation, NodeUpdate: p.NodeUpdate}, nil, nil
}
func (acceptingPlanner) UpdateEval(*structs.Evaluation) error { return nil }
func (acceptingPlanner) CreateEval(*structs.Evaluation) error { return nil }

// benchCluster is nodes ready nodes alternating between dc-1 and dc-2, node
// i in rack "r<i mod racks>", each with 4 cores of 3,500 MHz, 32,000 MB of
// memory and 100 GB of disk. IDs are random-looking UUIDs (from a fixed
// seed), so ID order, which the scheduler sees, is not rack order.
//
// The host network "eth0" has no place in structs.Node yet and the
// job asks for no network, so it is left out.
func benchCluster(nodes, racks int) *memState {
	s := newMemState()
	rng := rand.New(rand.NewPCG(uint64(nodes), uint64(racks)))
	for i := range nodes {
		hi, lo := rng.Uint64(), rng.Uint64()
		id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", hi>>32, hi>>16&0xffff, hi&0xfff, lo>>48&0xfff, lo&0xffffffffffff)
		s.upsertNode(&structs.Node{
			ID:                    id,
			Name:                  fmt.Sprintf("node-%d", i),
			Datacenter:            fmt.Sprintf("dc-%d", i%2+1),
			NodeClass:             "standard",
			Status:                structs.NodeStatusReady,
			SchedulingEligibility: structs.NodeSchedulingEligible,
			Attributes:            map[string]string{"kernel.name": "linux", "consul.version": "1.21.0"},
			Meta:                  map[string]string{"rack": fmt.Sprintf("r%d", i%racks)},
			NodeResources: &structs.NodeResources{
				Cpu:    structs.NodeCpuResources{CpuShares: 4 * 3500, TotalCpuCores: 4},
				Memory: structs.NodeMemoryResources{MemoryMB: 32_000},
				Disk:   structs.NodeDiskResources{DiskMB: 100 * 1024},
			},
			Drivers: map[string]*structs.DriverInfo{"exec": {Detected: true, Healthy: true}},
		})
	}
	return s
}

// benchRacks is the job constraint's rack list: the first half of racks.
func benchRacks(racks int) string {
	names := make([]string, racks/2)
	for i := range names {
		names[i] = fmt.Sprintf("r%d", i)
	}
	return strings.Join(names, ",")
}

// benchJob is the job: count allocations of one 6,000 MHz,
// 6,000 MB task on the first half of the racks, spread over racks when
// spread is set.
func benchJob(id string, racks, count int, spread bool) *structs.Job {
	job := &structs.Job{
		ID: id, Name: id, Namespace: structs.DefaultNamespace, Type: structs.JobTypeService,
		Priority: 50, Datacenters: []string{"dc-1", "dc-2"}, Version: 1, JobModifyIndex: 10, CreateIndex: 10,
		Constraints: []*structs.Constraint{
			{LTarget: "${meta.rack}", Operand: "set_contains_any", RTarget: benchRacks(racks)},
			{LTarget: "${attr.kernel.name}", Operand: "=", RTarget: "linux"},
		},
		TaskGroups: []*structs.TaskGroup{{
			Name: "web", Count: count,
			Constraints:   []*structs.Constraint{{LTarget: "${attr.consul.version}", Operand: "semver", RTarget: ">= 1.8.0"}},
			EphemeralDisk: &structs.EphemeralDisk{SizeMB: 150},
			Tasks: []*structs.Task{{
				Name: "server", Driver: "exec",
				Config:    map[string]any{"command": "/bin/sleep"},
				Resources: &structs.Resources{CPU: 6000, MemoryMB: 6000},
			}},
		}},
	}
	if spread {
		job.Spreads = []*structs.Spread{{Attribute: "${meta.rack}"}}
	}
	return job
}

func registerEval(job *structs.Job) *structs.Evaluation {
	return &structs.Evaluation{
		ID: structs.GenerateUUID(), Namespace: job.Namespace, Priority: job.Priority, Type: job.Type,
		TriggeredBy: structs.EvalTriggerJobRegister, JobID: job.ID, Status: structs.EvalStatusPending,
	}
}

func BenchmarkServiceScheduler(b *testing.B) {
	// One cluster at a time: rows sharing nodes and racks reuse it.
	var cluster *memState
	var clusterKey [2]int
	for _, nodes := range []int{500, 1000, 5000, 10000} {
		for _, racks := range []int{25, 50, 75} {
			for _, count := range []int{50, 300, 600, 900, 1200} {
				for _, variant := range []string{"spread", "no_spread"} {
					name := fmt.Sprintf("%d_nodes_%d_racks_%d_allocs_%s", nodes, racks, count, variant)
					b.Run(name, func(b *testing.B) {
						if cluster == nil || clusterKey != [2]int{nodes, racks} {
							cluster, clusterKey = benchCluster(nodes, racks), [2]int{nodes, racks}
						}
						s := cluster
						job := benchJob(name, racks, count, variant == "spread")
						s.upsertJob(job)
						sched, err := New(structs.JobTypeService, hclog.NewNullLogger(), s, acceptingPlanner{})
						if err != nil {
							b.Fatal(err)
						}
						b.ReportAllocs()
						for b.Loop() {
							if err := sched.Process(registerEval(job)); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		}
	}
}
