// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// pendingPlan is a plan waiting for the applier, with where to answer.
type pendingPlan struct {
	plan   *structs.Plan
	result chan planOutcome
}

type planOutcome struct {
	result *structs.PlanResult
	err    error
}

// submitPlan queues a plan for the leader's applier and waits for it.
func (s *Server) submitPlan(ctx context.Context, plan *structs.Plan) (*structs.PlanResult, error) {
	p := &pendingPlan{plan: plan, result: make(chan planOutcome, 1)}
	select {
	case s.planQueue <- p:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case out := <-p.result:
		return out.result, out.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// planApplier is the leader's single writer of placements. Schedulers plan
// against snapshots that may be stale; the applier re-checks every node in
// a plan against the newest state and commits only the parts that still
// fit, so two workers can never overcommit a node between them.
//
// Verifying a plan and committing it are pipelined: while one plan's
// commit goes through raft, the next plan is verified against the newest
// snapshot plus the resources the committing plan places (optimistically,
// as if its commit succeeds; a failed commit only makes that check
// stricter than needed). Commits stay one at a time and in order. A plan
// asking for host ports on a node the committing plan also places on waits
// for that commit, since ports are checked against the node's stored
// allocations.
func (s *Server) planApplier(ctx context.Context) {
	defer s.wg.Done()
	var inflight *planCommit
	defer func() {
		if inflight != nil {
			<-inflight.done
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-s.planQueue:
			if inflight != nil && inflight.finished() {
				inflight = nil
			}
			if next := s.verifyPlan(p, inflight); next != nil {
				inflight = next
			}
		}
	}
}

// planCommit is a verified plan whose raft commit is in progress.
type planCommit struct {
	done  chan struct{} // closed when the commit ended
	index uint64        // the commit's raft index, once done (0 on failure)
	used  map[string]structs.ComparableResources
	// probe is a new allocation of the commit ("" when it creates none):
	// a snapshot that holds it holds the whole commit.
	probe string
}

func (c *planCommit) finished() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// pendingIn returns the resources per node the commit adds that snap, a
// snapshot taken while the commit was in progress, does not hold: none when
// snap holds its probe allocation (the FSM applies a commit atomically),
// all of them otherwise.
func (c *planCommit) pendingIn(snap *state.Snapshot) (map[string]structs.ComparableResources, error) {
	if c.probe != "" {
		a, err := snap.AllocByID(c.probe)
		if err != nil {
			return nil, fmt.Errorf("read alloc %s: %w", c.probe, err)
		}
		if a != nil {
			return nil, nil
		}
	}
	return c.used, nil
}

// wait waits for the commit to end and returns its raft index.
func (c *planCommit) wait() uint64 {
	<-c.done
	return c.index
}

// verifyPlan verifies p against the newest state, with inflight's
// placements (nil when no commit is in progress) counted as used, waits for
// inflight's commit, and starts p's own commit, which it returns. A plan
// with nothing to commit, or refused, is answered at once and returns nil.
func (s *Server) verifyPlan(p *pendingPlan, inflight *planCommit) *planCommit {
	answer := func(result *structs.PlanResult, err error) *planCommit {
		p.result <- planOutcome{result: result, err: err}
		return nil
	}
	plan := p.plan
	// A worker that stalled (its server paused, the leader changed) may
	// submit after its evaluation went to another worker: only the
	// outstanding delivery may commit, or one evaluation places twice.
	if !s.broker.Outstanding(plan.EvalID, plan.EvalToken) {
		return answer(nil, fmt.Errorf("plan of eval %s: %w", plan.EvalID, errStaleDelivery))
	}
	if inflight != nil && needsCommitted(plan, inflight.used) {
		inflight.wait()
	}
	// Only a commit that ended before the snapshot was taken is surely in it.
	committed := inflight == nil || inflight.finished()
	snap := s.state.Snapshot()
	var pending map[string]structs.ComparableResources
	var err error
	if !committed {
		pending, err = inflight.pendingIn(snap)
	}
	if err != nil {
		return answer(nil, fmt.Errorf("evaluate plan of eval %s: %w", plan.EvalID, err))
	}
	result, err := evaluatePlanPending(snap, plan, pending)
	if err != nil {
		return answer(nil, fmt.Errorf("evaluate plan of eval %s: %w", plan.EvalID, err))
	}
	var prevIndex uint64
	if inflight != nil {
		// Commits go one at a time, in order; and a refresh must see the
		// committing plan, which this one was checked against.
		prevIndex = inflight.wait()
	}
	if result.RefreshIndex != 0 && prevIndex > result.RefreshIndex {
		result.RefreshIndex = prevIndex
	}
	if len(result.NodeUpdate) == 0 && len(result.NodeAllocation) == 0 {
		return answer(result, nil)
	}
	req := planRequest(plan, result)
	c := &planCommit{done: make(chan struct{}), used: placedUsage(result), probe: newAllocID(result)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(c.done)
		index, err := s.raftApply(structs.ApplyPlanResultsRequestType, req)
		if err != nil {
			p.result <- planOutcome{err: fmt.Errorf("commit plan of eval %s: %w", plan.EvalID, err)}
			return
		}
		c.index = index
		result.AllocIndex = index
		if len(result.NodeUpdate) > 0 {
			// Stopped allocations free capacity.
			s.blocked.Unblock()
		}
		p.result <- planOutcome{result: result}
	}()
	return c
}

// planRequest is the raft request that commits result.
func planRequest(plan *structs.Plan, result *structs.PlanResult) *structs.ApplyPlanResultsRequest {
	req := &structs.ApplyPlanResultsRequest{Job: plan.Job, EvalID: plan.EvalID, UpdatedAt: time.Now().UnixNano()}
	for _, allocs := range result.NodeUpdate {
		for _, a := range allocs {
			req.AllocsStopped = append(req.AllocsStopped, &structs.Allocation{
				ID:                 a.ID,
				DesiredStatus:      a.DesiredStatus,
				DesiredDescription: a.DesiredDescription,
				ClientStatus:       a.ClientStatus,
			})
		}
	}
	for _, allocs := range result.NodeAllocation {
		for _, a := range allocs {
			c := *a
			if c.Job == plan.Job {
				c.Job = nil // the FSM attaches the plan's job
			}
			req.AllocsUpdated = append(req.AllocsUpdated, &c)
		}
	}
	return req
}

// placedUsage sums the resources result places per node. In-place updates
// of allocations already counted in the state count again, and stops free
// nothing: the sum is an upper bound of what the commit adds.
func placedUsage(result *structs.PlanResult) map[string]structs.ComparableResources {
	used := make(map[string]structs.ComparableResources, len(result.NodeAllocation))
	for nodeID, allocs := range result.NodeAllocation {
		var u structs.ComparableResources
		for _, a := range allocs {
			if a.ClientTerminalStatus() || a.AllocatedResources == nil {
				continue
			}
			u.Add(a.AllocatedResources.Comparable())
		}
		used[nodeID] = u
	}
	return used
}

// newAllocID returns the ID of an allocation result creates (the state
// sets CreateIndex on commit), or "".
func newAllocID(result *structs.PlanResult) string {
	for _, allocs := range result.NodeAllocation {
		for _, a := range allocs {
			if a.CreateIndex == 0 {
				return a.ID
			}
		}
	}
	return ""
}

// needsCommitted reports whether plan asks for host ports on a node in
// pending: those are checked against the node's stored allocations, which
// do not include the pending commit's yet.
func needsCommitted(plan *structs.Plan, pending map[string]structs.ComparableResources) bool {
	for nodeID, allocs := range plan.NodeAllocation {
		if _, ok := pending[nodeID]; !ok {
			continue
		}
		for _, a := range allocs {
			if !a.ClientTerminalStatus() && len(structs.AllocHostPorts(a.AllocatedResources)) > 0 {
				return true
			}
		}
	}
	return false
}

// errStaleDelivery refuses the plan of an evaluation delivery that is no
// longer outstanding.
var errStaleDelivery = errors.New("evaluation token does not match: the evaluation was redelivered")

// evaluatePlan decides which parts of plan fit the state in snap. Stops
// always apply, except evictions (preemption): those only made room for
// their node's placements, so they apply with them or not at all. A
// node's placements apply all together or not at all.
func evaluatePlan(snap *state.Snapshot, plan *structs.Plan) (*structs.PlanResult, error) {
	return evaluatePlanPending(snap, plan, nil)
}

// evaluatePlanPending is evaluatePlan with pending, resources per node of a
// commit in progress, counted as used.
func evaluatePlanPending(snap *state.Snapshot, plan *structs.Plan, pending map[string]structs.ComparableResources) (*structs.PlanResult, error) {
	result := &structs.PlanResult{
		NodeUpdate:     plan.NodeUpdate,
		NodeAllocation: map[string][]*structs.Allocation{},
	}
	updatesCopied := false
	for nodeID, placements := range plan.NodeAllocation {
		fits, err := nodeFits(snap, nodeID, plan.NodeUpdate[nodeID], placements, pending[nodeID])
		if err != nil {
			return nil, err
		}
		if fits {
			result.NodeAllocation[nodeID] = placements
			continue
		}
		dropEvictions(result, &updatesCopied, nodeID)
		if result.RefreshIndex == 0 {
			idx, err := snap.LatestIndex()
			if err != nil {
				return nil, err
			}
			result.RefreshIndex = idx
		}
	}
	return result, nil
}

// dropEvictions removes the evictions on nodeID from result.NodeUpdate,
// copying the map (shared with the plan) before the first change.
func dropEvictions(result *structs.PlanResult, copied *bool, nodeID string) {
	var kept []*structs.Allocation
	evicted := false
	for _, a := range result.NodeUpdate[nodeID] {
		if a.DesiredStatus == structs.AllocDesiredStatusEvict {
			evicted = true
			continue
		}
		kept = append(kept, a)
	}
	if !evicted {
		return
	}
	if !*copied {
		result.NodeUpdate = maps.Clone(result.NodeUpdate)
		*copied = true
	}
	if len(kept) == 0 {
		delete(result.NodeUpdate, nodeID)
	} else {
		result.NodeUpdate[nodeID] = kept
	}
}

// nodeFits checks that the node is up and that its live allocations, less
// what the plan stops or replaces, plus the plan's placements fit in it.
// The live allocations' resources come from the state store's per-node
// usage, adjusted by the few allocations the plan touches, so the check
// costs O(plan) rather than O(allocations on the node); the node's
// allocations are read only when a placement asks for host ports.
func nodeFits(snap *state.Snapshot, nodeID string, stopping, placements []*structs.Allocation, pending structs.ComparableResources) (bool, error) {
	node, err := snap.NodeByID(nodeID)
	if err != nil {
		return false, err
	}
	if node == nil {
		return false, nil
	}
	used, err := snap.NodeUsage(nodeID)
	if err != nil {
		return false, err
	}
	used.Add(pending)
	skip := make(map[string]bool, len(stopping)+len(placements))
	// release subtracts what a stopped or replaced allocation holds now.
	release := func(id string) (bool, error) {
		cur, err := snap.AllocByID(id)
		if err != nil || cur == nil {
			return false, err
		}
		if cur.NodeID == nodeID && !cur.TerminalStatus() {
			r := cur.AllocatedResources.Comparable()
			used.CPU -= r.CPU
			used.MemoryMB -= r.MemoryMB
			used.DiskMB -= r.DiskMB
		}
		return true, nil
	}
	for _, a := range stopping {
		if skip[a.ID] {
			continue
		}
		skip[a.ID] = true
		if _, err := release(a.ID); err != nil {
			return false, err
		}
	}
	newPlacement := false
	for _, a := range placements {
		if !skip[a.ID] {
			skip[a.ID] = true
			exists, err := release(a.ID)
			if err != nil {
				return false, err
			}
			newPlacement = newPlacement || !exists
		}
	}
	if newPlacement && (node.Status != structs.NodeStatusReady || node.SchedulingEligibility == structs.NodeSchedulingIneligible || node.Drain) {
		return false, nil
	}
	for _, a := range placements {
		if a.ClientTerminalStatus() {
			continue // an annotated finished allocation (FollowupEvalID) holds nothing
		}
		used.Add(a.AllocatedResources.Comparable())
	}
	if ok, _ := node.Comparable().Superset(used); !ok {
		return false, nil
	}
	existing, err := portHolders(snap, nodeID, placements)
	if err != nil {
		return false, err
	}
	if !structs.PlacementPortsFit(node, existing, skip, placements) {
		return false, nil
	}
	return structs.PlacementCoresFit(node, skip, placements, func() ([]*structs.Allocation, error) { return snap.AllocsByNode(nodeID) })
}

// portHolders returns the node's allocations when some placement asks for
// host ports (PlacementPortsFit needs them), and nil otherwise.
func portHolders(snap *state.Snapshot, nodeID string, placements []*structs.Allocation) ([]*structs.Allocation, error) {
	for _, a := range placements {
		if !a.ClientTerminalStatus() && len(structs.AllocHostPorts(a.AllocatedResources)) > 0 {
			return snap.AllocsByNode(nodeID)
		}
	}
	return nil, nil
}
