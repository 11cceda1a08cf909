// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"fmt"
	"maps"
	"testing"

	"github.com/droverhq/drover/structs"
	"github.com/hashicorp/go-hclog"
)

// capturingPlanner accepts every plan and keeps the last one.
type capturingPlanner struct{ plan *structs.Plan }

func (c *capturingPlanner) SubmitPlan(p *structs.Plan) (*structs.PlanResult, State, error) {
	c.plan = p
	return &structs.PlanResult{NodeAllocation: p.NodeAllocation, NodeUpdate: p.NodeUpdate}, nil, nil
}
func (*capturingPlanner) UpdateEval(*structs.Evaluation) error { return nil }
func (*capturingPlanner) CreateEval(*structs.Evaluation) error { return nil }

// placementsOf runs evaluation evalID of job on s and returns allocations
// per node of its plan.
func placementsOf(t *testing.T, s State, job *structs.Job, evalID string) map[string]int {
	t.Helper()
	planner := &capturingPlanner{}
	sched, err := New(job.Type, hclog.NewNullLogger(), s, planner)
	if err != nil {
		t.Fatal(err)
	}
	eval := &structs.Evaluation{ID: evalID, Namespace: job.Namespace, Priority: job.Priority, Type: job.Type,
		TriggeredBy: structs.EvalTriggerJobRegister, JobID: job.ID, Status: structs.EvalStatusPending}
	if err := sched.Process(eval); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for node, allocs := range planner.plan.NodeAllocation {
		out[node] = len(allocs)
	}
	return out
}

// TestRankingOrderPerEvaluation: on a cluster larger than the ranking
// window, one evaluation always gives the same plan, two evaluations
// planned from the same snapshot (two workers) choose different nodes,
// and each still packs its group onto as few nodes as fit it.
func TestRankingOrderPerEvaluation(t *testing.T) {
	s := newMemState()
	for i := range 10 * rankWindow {
		s.upsertNode(testNode(fmt.Sprintf("node-%04d", i), 4000, 8192))
	}
	job := testJob("web", 20, 1000, 256) // four per node
	s.upsertJob(job)

	a1 := placementsOf(t, s, job, "eval-a")
	a2 := placementsOf(t, s, job, "eval-a")
	b := placementsOf(t, s, job, "eval-b")
	if !maps.Equal(a1, a2) {
		t.Errorf("one evaluation planned twice differs:\n%v\n%v", a1, a2)
	}
	for name, p := range map[string]map[string]int{"eval-a": a1, "eval-b": b} {
		if len(p) != 5 {
			t.Errorf("%s: 20 allocations of a quarter node on %d nodes, want 5: %v", name, len(p), p)
		}
	}
	shared := 0
	for node := range a1 {
		if b[node] > 0 {
			shared++
		}
	}
	if shared > 1 {
		t.Errorf("two evaluations share %d of their 5 nodes: %v and %v", shared, a1, b)
	}
}

// TestRankingWindowSkipsFullNodes: candidates drawn into the window that
// cannot hold the group are replaced by further ones, so a group finds the
// few nodes with room however many full ones are drawn first.
func TestRankingWindowSkipsFullNodes(t *testing.T) {
	h := newHarness(t)
	for i := range 4 * rankWindow {
		h.state.upsertNode(testNode(fmt.Sprintf("full-%04d", i), 500, 8192))
	}
	h.state.upsertNode(testNode("roomy-1", 4000, 8192))
	h.state.upsertNode(testNode("roomy-2", 4000, 8192))
	job := testJob("web", 8, 1000, 256)
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	if q := eval.QueuedAllocations["web"]; q != 0 {
		t.Fatalf("queued %d, want 0", q)
	}
	for _, a := range h.state.liveAllocs(job.ID) {
		if a.NodeID != "roomy-1" && a.NodeID != "roomy-2" {
			t.Errorf("%s placed on %s", a.Name, a.NodeID)
		}
	}
}
