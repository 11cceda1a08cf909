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
func (s *Server) planApplier(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-s.planQueue:
			result, err := s.applyPlan(p.plan)
			p.result <- planOutcome{result: result, err: err}
		}
	}
}

// errStaleDelivery refuses the plan of an evaluation delivery that is no
// longer outstanding.
var errStaleDelivery = errors.New("evaluation token does not match: the evaluation was redelivered")

func (s *Server) applyPlan(plan *structs.Plan) (*structs.PlanResult, error) {
	// A worker that stalled (its server paused, the leader changed) may
	// submit after its evaluation went to another worker: only the
	// outstanding delivery may commit, or one evaluation places twice.
	if !s.broker.Outstanding(plan.EvalID, plan.EvalToken) {
		return nil, fmt.Errorf("plan of eval %s: %w", plan.EvalID, errStaleDelivery)
	}
	snap := s.state.Snapshot()
	result, err := evaluatePlan(snap, plan)
	if err != nil {
		return nil, fmt.Errorf("evaluate plan of eval %s: %w", plan.EvalID, err)
	}
	if len(result.NodeUpdate) == 0 && len(result.NodeAllocation) == 0 {
		return result, nil
	}
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
	index, err := s.raftApply(structs.ApplyPlanResultsRequestType, req)
	if err != nil {
		return nil, fmt.Errorf("commit plan of eval %s: %w", plan.EvalID, err)
	}
	result.AllocIndex = index
	if len(result.NodeUpdate) > 0 {
		// Stopped allocations free capacity.
		s.blocked.Unblock()
	}
	return result, nil
}

// evaluatePlan decides which parts of plan fit the state in snap. Stops
// always apply, except evictions (preemption): those only made room for
// their node's placements, so they apply with them or not at all. A
// node's placements apply all together or not at all.
func evaluatePlan(snap *state.Snapshot, plan *structs.Plan) (*structs.PlanResult, error) {
	result := &structs.PlanResult{
		NodeUpdate:     plan.NodeUpdate,
		NodeAllocation: map[string][]*structs.Allocation{},
	}
	updatesCopied := false
	for nodeID, placements := range plan.NodeAllocation {
		fits, err := nodeFits(snap, nodeID, plan.NodeUpdate[nodeID], placements)
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
func nodeFits(snap *state.Snapshot, nodeID string, stopping, placements []*structs.Allocation) (bool, error) {
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
	return structs.PlacementPortsFit(node, existing, skip, placements), nil
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
