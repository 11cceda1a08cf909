// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"fmt"
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

// BenchmarkServiceScheduler_5000nodes_1200allocs places a 1,200-allocation
// service job (with a job-level constraint) on 5,000 nodes in two
// datacenters. Run with -benchmem to see allocs/op.
func BenchmarkServiceScheduler_5000nodes_1200allocs(b *testing.B) {
	s := newMemState()
	for i := range 5000 {
		n := testNode(fmt.Sprintf("%08d-node", i), 4000+int64(i%4)*1000, 8192+int64(i%3)*4096)
		n.Datacenter = []string{"dc1", "dc2"}[i%2]
		s.upsertNode(n)
	}
	job := testJob("bench", 1200, 250, 256)
	job.Datacenters = []string{"dc*"}
	job.Constraints = []*structs.Constraint{{LTarget: "${attr.kernel.name}", Operand: "=", RTarget: "linux"}}
	s.upsertJob(job)
	sched, err := New(structs.JobTypeService, hclog.NewNullLogger(), s, acceptingPlanner{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		eval := &structs.Evaluation{ID: structs.GenerateUUID(), Namespace: "default", Priority: 50, Type: "service", JobID: "bench"}
		if err := sched.Process(eval); err != nil {
			b.Fatal(err)
		}
	}
}
