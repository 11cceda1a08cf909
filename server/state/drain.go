// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

// Writes for node drains, scheduling eligibility, the drainer's migrate
// marks, and the links between a replaced allocation and its replacement.
// Like every write, they are called only by the FSM and take their times
// from the request.

import (
	"fmt"

	"github.com/droverhq/drover/structs"
)

// UpdateNodeDrain sets or clears a node's drain strategy, with its
// eligibility and last-drain metadata, and stores the request's evals.
func (s *StateStore) UpdateNodeDrain(index uint64, req *structs.NodeDrainUpdate) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		node, err := nodeForUpdate(txn, req.NodeID)
		if err != nil {
			return nil, err
		}
		node.DrainStrategy = req.DrainStrategy
		node.Drain = req.DrainStrategy != nil
		if req.Eligibility != "" {
			node.SchedulingEligibility = req.Eligibility
		}
		if req.LastDrain != nil {
			node.LastDrain = req.LastDrain
		}
		node.ModifyIndex = index
		if err := txn.Insert(tableNodes, node); err != nil {
			return nil, fmt.Errorf("update drain of node %q: %w", node.ID, err)
		}
		return insertEvals(txn, index, req.Evals, tableNodes)
	})
}

// UpdateNodeEligibility sets a node's scheduling eligibility and stores the
// request's evals.
func (s *StateStore) UpdateNodeEligibility(index uint64, req *structs.NodeEligibilityUpdate) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		node, err := nodeForUpdate(txn, req.NodeID)
		if err != nil {
			return nil, err
		}
		switch req.Eligibility {
		case structs.NodeSchedulingEligible, structs.NodeSchedulingIneligible:
		default:
			return nil, fmt.Errorf("node %q: invalid scheduling eligibility %q", req.NodeID, req.Eligibility)
		}
		if node.DrainStrategy != nil && req.Eligibility == structs.NodeSchedulingEligible {
			return nil, fmt.Errorf("node %q is draining: it cannot be marked eligible", req.NodeID)
		}
		node.SchedulingEligibility = req.Eligibility
		node.ModifyIndex = index
		if err := txn.Insert(tableNodes, node); err != nil {
			return nil, fmt.Errorf("update eligibility of node %q: %w", node.ID, err)
		}
		return insertEvals(txn, index, req.Evals, tableNodes)
	})
}

// UpdateAllocsDesiredTransition replaces the DesiredTransition of the
// listed allocations (missing ones are skipped: garbage collected) and
// stores the request's evals. The client does not act on transitions, so
// AllocModifyIndex stays: clients are not woken.
func (s *StateStore) UpdateAllocsDesiredTransition(index uint64, req *structs.AllocDesiredTransitionUpdate) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		for id, dt := range req.Allocs {
			existing, err := txn.alloc(id)
			if err != nil {
				return nil, fmt.Errorf("read alloc %q: %w", id, err)
			}
			if existing == nil || dt == nil {
				continue
			}
			alloc := existing.Copy()
			alloc.DesiredTransition = *dt
			alloc.ModifyIndex = index
			alloc.ModifyTime = req.UpdatedAt
			if err := txn.putAlloc(alloc); err != nil {
				return nil, fmt.Errorf("update desired transition of alloc %q: %w", id, err)
			}
		}
		return insertEvals(txn, index, req.Evals, tableAlloc)
	})
}

// linkPreviousTxn records, on the allocation a newly placed one replaces,
// which allocation replaced it (NextAllocation). It runs in the plan's
// transaction, so the link exists exactly when the replacement does.
func linkPreviousTxn(txn *writeTxn, index uint64, placed *structs.Allocation) error {
	if placed.PreviousAllocation == "" {
		return nil
	}
	existing, err := txn.alloc(placed.PreviousAllocation)
	if err != nil {
		return fmt.Errorf("read previous alloc %q: %w", placed.PreviousAllocation, err)
	}
	if existing == nil {
		return nil // garbage collected meanwhile
	}
	prev := existing.Copy()
	prev.NextAllocation = placed.ID
	prev.ModifyIndex = index
	if err := txn.putAlloc(prev); err != nil {
		return fmt.Errorf("link alloc %q to its replacement: %w", prev.ID, err)
	}
	return nil
}

// keepOperatorDrain carries a node's drain state across a re-registration:
// the client knows nothing of drains, which belong to operators.
func keepOperatorDrain(node, old *structs.Node) {
	node.DrainStrategy = old.DrainStrategy
	node.LastDrain = old.LastDrain
}

func nodeForUpdate(txn *writeTxn, id string) (*structs.Node, error) {
	obj, err := txn.First(tableNodes, "id", id)
	if err != nil {
		return nil, fmt.Errorf("read node %q: %w", id, err)
	}
	if obj == nil {
		return nil, fmt.Errorf("node %q not found", id)
	}
	return obj.(*structs.Node).Copy(), nil
}

// insertEvals stores evals and returns the tables written: table, plus the
// evals table when there are any.
func insertEvals(txn *writeTxn, index uint64, evals []*structs.Evaluation, table string) ([]string, error) {
	tables := []string{table}
	if len(evals) == 0 {
		return tables, nil
	}
	for _, e := range evals {
		if err := upsertEvalTxn(txn, index, e); err != nil {
			return nil, err
		}
	}
	return append(tables, tableEvals), nil
}
