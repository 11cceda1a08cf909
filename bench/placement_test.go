// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package bench holds Drover's benchmarks: the simulated-cluster harness
// (simcluster, simnode) and, here, a microbenchmark of one placement
// decision through the scheduler's exported API.
package bench

import (
	"fmt"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/bench/simnode"
	"github.com/droverhq/drover/server/scheduler"
	"github.com/droverhq/drover/structs"
)

// snapshot is a read-only cluster state for the scheduler: nodes and jobs
// in maps, no allocations (the benchmark's plans are never committed).
type snapshot struct {
	nodes []*structs.Node
	byID  map[string]*structs.Node
	jobs  map[string]*structs.Job
}

func newSnapshot(nodes int) *snapshot {
	s := &snapshot{byID: map[string]*structs.Node{}, jobs: map[string]*structs.Job{}}
	for i := range nodes {
		n := simnode.NewNode(i, "dc1", 25)
		n.CreateIndex, n.ModifyIndex = uint64(i+1), uint64(i+1)
		s.nodes = append(s.nodes, n)
		s.byID[n.ID] = n
	}
	return s
}

func (s *snapshot) Nodes() ([]*structs.Node, error)             { return s.nodes, nil }
func (s *snapshot) NodeByID(id string) (*structs.Node, error)   { return s.byID[id], nil }
func (s *snapshot) JobByID(ns, id string) (*structs.Job, error) { return s.jobs[ns+"/"+id], nil }
func (s *snapshot) AllocsByJob(string, string) ([]*structs.Allocation, error) {
	return nil, nil
}
func (s *snapshot) AllocsByNode(string) ([]*structs.Allocation, error) { return nil, nil }
func (s *snapshot) NodeUsage(string) (structs.ComparableResources, error) {
	return structs.ComparableResources{}, nil
}

// SchedulerConfig is the defaults: binpack, no service preemption.
func (s *snapshot) SchedulerConfig() (*structs.SchedulerConfiguration, error) {
	return structs.DefaultSchedulerConfiguration(), nil
}
func (s *snapshot) LatestIndex() (uint64, error) { return uint64(len(s.nodes) + 100), nil }

// planner accepts every plan whole and remembers the last, so the
// benchmark can check that a placement was made.
type planner struct {
	last *structs.Plan
}

func (p *planner) SubmitPlan(plan *structs.Plan) (*structs.PlanResult, scheduler.State, error) {
	p.last = plan
	return &structs.PlanResult{NodeAllocation: plan.NodeAllocation, NodeUpdate: plan.NodeUpdate}, nil, nil
}
func (p *planner) UpdateEval(*structs.Evaluation) error { return nil }
func (p *planner) CreateEval(*structs.Evaluation) error { return nil }

func benchJob(id string, count int) *structs.Job {
	job := &structs.Job{
		ID: id, Name: id, Namespace: structs.DefaultNamespace, Type: structs.JobTypeService,
		Datacenters: []string{"dc1"}, Priority: 50,
		TaskGroups: []*structs.TaskGroup{{
			Name: "app", Count: count,
			EphemeralDisk: &structs.EphemeralDisk{SizeMB: 150},
			Tasks: []*structs.Task{{
				Name: "app", Driver: simnode.Driver,
				Config:    map[string]any{"command": "/bin/sleep", "args": []any{"3600"}},
				Resources: &structs.Resources{CPU: 290, MemoryMB: 256},
			}},
		}},
	}
	job.Canonicalize()
	job.Version, job.CreateIndex, job.ModifyIndex, job.JobModifyIndex = 1, 10_000, 10_000, 10_000
	return job
}

func placed(p *structs.Plan) int {
	if p == nil {
		return 0
	}
	n := 0
	for _, allocs := range p.NodeAllocation {
		n += len(allocs)
	}
	return n
}

// BenchmarkPlacement is one evaluation that places one allocation of a new
// service job on an empty 5,000-node cluster: feasibility, ranking and
// plan building for a single placement decision.
//
//	go test -run '^$' -bench Placement -benchmem ./bench/
func BenchmarkPlacement(b *testing.B) {
	for _, nodes := range []int{5000} {
		b.Run(fmt.Sprintf("%d_nodes", nodes), func(b *testing.B) {
			state := newSnapshot(nodes)
			job := benchJob("one", 1)
			state.jobs[job.Namespace+"/"+job.ID] = job
			p := &planner{}
			sched, err := scheduler.New(job.Type, hclog.NewNullLogger(), state, p)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				eval := structs.NewEval(job, structs.EvalTriggerJobRegister, timeZero)
				if err := sched.Process(eval); err != nil {
					b.Fatal(err)
				}
			}
			if got := placed(p.last); got != 1 {
				b.Fatalf("last evaluation placed %d allocations, want 1", got)
			}
		})
	}
}
