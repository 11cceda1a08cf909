// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

// This file keeps per-node bookkeeping of allocations up to date inside the
// write transactions that change allocations, so readers get in O(1) what
// they would otherwise sum over every allocation of a node:
//
//   - Usage: the resources of the node's live (non-terminal) allocations,
//     what the scheduler's ranking and the plan applier's fit check need
//     for every candidate node of every plan;
//   - AllocIndex: the highest AllocModifyIndex of the node's allocations,
//     which moves only when the servers change what the client should run.
//     A client's blocking query watches this one row, so status updates of
//     other allocations (its own, or any other node's) do not wake it.
//
// The rows are derived state: they are not part of a raft snapshot and are
// rebuilt on restore. Every write of the allocation table must go through
// allocTracker, or the rows drift.

import (
	"fmt"

	"github.com/droverhq/drover/structs"
)

// tableNodeAllocs holds one nodeAllocs row per node that has or had
// allocations.
const tableNodeAllocs = "node_allocs"

// nodeAllocs is the per-node row; see the file comment. AllocIDs lists the
// node's allocations (allocsets.go).
type nodeAllocs struct {
	NodeID     string
	Usage      structs.ComparableResources
	AllocIndex uint64
	AllocIDs   []string
}

// allocTracker accumulates the per-node changes of one write transaction
// and writes each touched row once, at flush.
type allocTracker struct {
	deltas map[string]*nodeDelta
	jobs   map[jobKey]*idDelta
}

type nodeDelta struct {
	usage    structs.ComparableResources
	maxIndex uint64
	ids      idDelta
}

func newAllocTracker() *allocTracker {
	return &allocTracker{deltas: map[string]*nodeDelta{}, jobs: map[jobKey]*idDelta{}}
}

func (t *allocTracker) delta(nodeID string) *nodeDelta {
	d := t.deltas[nodeID]
	if d == nil {
		d = &nodeDelta{}
		t.deltas[nodeID] = d
	}
	return d
}

// change records that old (nil when new) was replaced by updated in the
// allocation table.
func (t *allocTracker) change(old, updated *structs.Allocation) {
	t.membership(old, updated)
	if old != nil && !old.TerminalStatus() {
		d := t.delta(old.NodeID)
		r := old.AllocatedResources.Comparable()
		d.usage.CPU -= r.CPU
		d.usage.MemoryMB -= r.MemoryMB
		d.usage.DiskMB -= r.DiskMB
	}
	if updated == nil {
		return
	}
	d := t.delta(updated.NodeID)
	if !updated.TerminalStatus() {
		d.usage.Add(updated.AllocatedResources.Comparable())
	}
	if updated.AllocModifyIndex > d.maxIndex {
		d.maxIndex = updated.AllocModifyIndex
	}
}

// flush writes the touched rows. A row whose values do not change is not
// rewritten, so its watchers (blocked client queries) stay asleep.
func (t *allocTracker) flush(txn *writeTxn) error {
	for nodeID, d := range t.deltas {
		obj, err := txn.First(tableNodeAllocs, "id", nodeID)
		if err != nil {
			return fmt.Errorf("read allocation summary of node %q: %w", nodeID, err)
		}
		row := nodeAllocs{NodeID: nodeID}
		if obj != nil {
			row = *obj.(*nodeAllocs)
		}
		next := row
		next.Usage.Add(d.usage)
		next.AllocIndex = max(row.AllocIndex, d.maxIndex)
		next.AllocIDs = d.ids.apply(row.AllocIDs)
		if obj != nil && next.Usage == row.Usage && next.AllocIndex == row.AllocIndex && d.ids.empty() {
			continue
		}
		if err := txn.Insert(tableNodeAllocs, &next); err != nil {
			return fmt.Errorf("update allocation summary of node %q: %w", nodeID, err)
		}
	}
	return t.flushJobs(txn)
}

// ensureNodeAllocsTxn creates the node's row when it has none, so that its
// client's blocking query watches a row of its own from the start: the
// watch of a missing row is that of a shared radix node, which other
// nodes' first placements would keep waking.
func ensureNodeAllocsTxn(txn *writeTxn, nodeID string) error {
	obj, err := txn.First(tableNodeAllocs, "id", nodeID)
	if err != nil {
		return fmt.Errorf("read allocation summary of node %q: %w", nodeID, err)
	}
	if obj != nil {
		return nil
	}
	if err := txn.Insert(tableNodeAllocs, &nodeAllocs{NodeID: nodeID}); err != nil {
		return fmt.Errorf("create allocation summary of node %q: %w", nodeID, err)
	}
	return nil
}

// NodeUsage returns the resources the node's live allocations hold.
func (s *Snapshot) NodeUsage(nodeID string) (structs.ComparableResources, error) {
	obj, err := s.first(tableNodeAllocs, "id", nodeID)
	if err != nil || obj == nil {
		return structs.ComparableResources{}, err
	}
	return obj.(*nodeAllocs).Usage, nil
}

// NodeAllocIndex returns the highest AllocModifyIndex of the node's
// allocations (0 when it has none). In a blocking query it watches only
// the node's own row.
func (s *Snapshot) NodeAllocIndex(nodeID string) (uint64, error) {
	obj, err := s.first(tableNodeAllocs, "id", nodeID)
	if err != nil || obj == nil {
		return 0, err
	}
	return obj.(*nodeAllocs).AllocIndex, nil
}
