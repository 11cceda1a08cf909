// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

// This file keeps which allocations each node and each job has, in place of
// go-memdb indexes by node and by job. An index entry costs about 550
// bytes (radix nodes, leaves and their watch channels): two such indexes
// were a third of the store's memory at a million allocations. A sorted
// list of IDs in a per-node and a per-job row costs 16 bytes an allocation
// (the ID strings are the allocations' own). The rows change only when
// membership does; readers look each allocation up by ID (allocmap.go)
// and, in a blocking query, watch the row and the allocation table, so
// they still wake when any of them changes.

import (
	"fmt"
	"slices"

	"github.com/droverhq/drover/structs"
)

// tableJobAllocs holds one jobAllocs row per job that has allocations.
const tableJobAllocs = "job_allocs"

// jobAllocs lists a job's allocations, sorted by ID.
type jobAllocs struct {
	Namespace string
	JobID     string
	AllocIDs  []string
}

type jobKey struct{ namespace, id string }

// idDelta is the change of one ID list within a write transaction.
type idDelta struct {
	added, removed []string
}

func (d *idDelta) empty() bool { return len(d.added) == 0 && len(d.removed) == 0 }

// apply returns ids (sorted, never modified: rows are shared with readers)
// with the delta applied, as a new sorted slice; ids itself when the delta
// is empty.
func (d *idDelta) apply(ids []string) []string {
	if d.empty() {
		return ids
	}
	out := make([]string, 0, len(ids)+len(d.added))
	if len(d.removed) == 0 {
		out = append(out, ids...)
	} else {
		gone := make(map[string]bool, len(d.removed))
		for _, id := range d.removed {
			gone[id] = true
		}
		for _, id := range ids {
			if !gone[id] {
				out = append(out, id)
			}
		}
	}
	out = append(out, d.added...)
	slices.Sort(out)
	return slices.Compact(out)
}

// membership records an allocation entering or leaving a node's or a
// job's list. An allocation keeps its node and job, so only new ones
// change membership; a change of either is handled all the same.
func (t *allocTracker) membership(old, updated *structs.Allocation) {
	if updated == nil {
		return
	}
	if old == nil || old.NodeID != updated.NodeID {
		if old != nil {
			d := t.delta(old.NodeID)
			d.ids.removed = append(d.ids.removed, old.ID)
		}
		d := t.delta(updated.NodeID)
		d.ids.added = append(d.ids.added, updated.ID)
	}
	newKey := jobKey{updated.Namespace, updated.JobID}
	if old != nil && (jobKey{old.Namespace, old.JobID}) == newKey {
		return
	}
	if old != nil {
		j := t.job(jobKey{old.Namespace, old.JobID})
		j.removed = append(j.removed, old.ID)
	}
	j := t.job(newKey)
	j.added = append(j.added, updated.ID)
}

func (t *allocTracker) job(k jobKey) *idDelta {
	d := t.jobs[k]
	if d == nil {
		d = &idDelta{}
		t.jobs[k] = d
	}
	return d
}

// flushJobs writes the job rows whose lists changed; a job left without
// allocations loses its row.
func (t *allocTracker) flushJobs(txn *writeTxn) error {
	for k, d := range t.jobs {
		if d.empty() {
			continue
		}
		obj, err := txn.First(tableJobAllocs, "id", k.namespace, k.id)
		if err != nil {
			return fmt.Errorf("read allocations of job %q: %w", k.id, err)
		}
		var ids []string
		if obj != nil {
			ids = obj.(*jobAllocs).AllocIDs
		}
		next := &jobAllocs{Namespace: k.namespace, JobID: k.id, AllocIDs: d.apply(ids)}
		if len(next.AllocIDs) == 0 {
			if obj != nil {
				if err := txn.Delete(tableJobAllocs, obj); err != nil {
					return fmt.Errorf("delete allocations of job %q: %w", k.id, err)
				}
			}
			continue
		}
		if err := txn.Insert(tableJobAllocs, next); err != nil {
			return fmt.Errorf("update allocations of job %q: %w", k.id, err)
		}
	}
	return nil
}

// allocsByIDs looks up the listed allocations, in list order. IDs that
// no longer resolve are skipped.
func (s *Snapshot) allocsByIDs(ids []string) ([]*structs.Allocation, error) {
	out := make([]*structs.Allocation, 0, len(ids))
	for _, id := range ids {
		a, err := s.AllocByID(id)
		if err != nil {
			return nil, err
		}
		if a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// AllocsByJob returns all the job's allocations, terminal ones included,
// sorted by ID.
func (s *Snapshot) AllocsByJob(namespace, jobID string) ([]*structs.Allocation, error) {
	obj, err := s.first(tableJobAllocs, "id", namespace, jobID)
	if err != nil || obj == nil {
		return nil, err
	}
	return s.allocsByIDs(obj.(*jobAllocs).AllocIDs)
}

// AllocsByNode returns all the node's allocations, terminal ones included,
// sorted by ID.
func (s *Snapshot) AllocsByNode(nodeID string) ([]*structs.Allocation, error) {
	obj, err := s.first(tableNodeAllocs, "id", nodeID)
	if err != nil || obj == nil {
		return nil, err
	}
	return s.allocsByIDs(obj.(*nodeAllocs).AllocIDs)
}
