// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// Plan is what a scheduler wants changed for one evaluation. The scheduler
// never writes state: the leader's plan applier checks a plan against the
// newest state and commits what still fits.
type Plan struct {
	EvalID string
	// EvalToken is the broker's delivery token of the evaluation: the
	// applier refuses a plan whose delivery is no longer the outstanding
	// one (the evaluation was redelivered to another worker), so one
	// evaluation never commits twice.
	EvalToken string
	Priority  int
	// Job is the job version the new allocations run; nil when the plan
	// only stops allocations.
	Job *Job
	// NodeUpdate lists allocations to stop, by node.
	NodeUpdate map[string][]*Allocation
	// NodeAllocation lists allocations to place or update, by node.
	NodeAllocation map[string][]*Allocation
	// SnapshotIndex is the state index the scheduler planned against.
	SnapshotIndex uint64
}

// AppendStoppedAlloc adds a stop of alloc, with a description, to the plan.
func (p *Plan) AppendStoppedAlloc(alloc *Allocation, desc, clientStatus string) {
	stopped := alloc.Copy()
	stopped.DesiredStatus = AllocDesiredStatusStop
	stopped.DesiredDescription = desc
	if clientStatus != "" {
		stopped.ClientStatus = clientStatus
	}
	if p.NodeUpdate == nil {
		p.NodeUpdate = map[string][]*Allocation{}
	}
	p.NodeUpdate[alloc.NodeID] = append(p.NodeUpdate[alloc.NodeID], stopped)
}

// AppendAlloc adds a placement to the plan.
func (p *Plan) AppendAlloc(alloc *Allocation) {
	if p.NodeAllocation == nil {
		p.NodeAllocation = map[string][]*Allocation{}
	}
	p.NodeAllocation[alloc.NodeID] = append(p.NodeAllocation[alloc.NodeID], alloc)
}

// IsNoOp reports whether the plan changes nothing.
func (p *Plan) IsNoOp() bool {
	return len(p.NodeUpdate) == 0 && len(p.NodeAllocation) == 0
}

// PlanResult is what the plan applier committed.
type PlanResult struct {
	NodeUpdate     map[string][]*Allocation
	NodeAllocation map[string][]*Allocation
	// RefreshIndex is non-zero when part of the plan was rejected: the
	// scheduler must refresh its state to at least this index and retry.
	RefreshIndex uint64
	// AllocIndex is the raft index at which the result was committed.
	AllocIndex uint64
}

// FullCommit reports whether every part of plan was committed, and how many
// placements were expected and committed.
func (r *PlanResult) FullCommit(plan *Plan) (bool, int, int) {
	expected, actual := 0, 0
	for node, allocs := range plan.NodeAllocation {
		expected += len(allocs)
		actual += len(r.NodeAllocation[node])
	}
	return expected == actual, expected, actual
}
