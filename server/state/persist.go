// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"fmt"

	"github.com/hashicorp/go-memdb"

	"github.com/droverhq/drover/structs"
)

// Dump is the whole state as plain values, the body of a raft snapshot.
// Allocations are written without their Job: AllocJobs holds each job
// version they run once and AllocJobRefs[i] is the position in AllocJobs
// of Allocs[i]'s job (-1 for none), so a snapshot carries one copy per
// version instead of one per allocation, and Restore shares that copy
// between the version's allocations.
type Dump struct {
	Indexes      map[string]uint64
	Jobs         []*structs.Job
	Evals        []*structs.Evaluation
	Allocs       []*structs.Allocation
	Nodes        []*structs.Node
	AllocJobs    []*structs.Job
	AllocJobRefs []int32
	// NodePools are the written pools (not the built-in or implicit
	// ones); SchedulerConfig is nil when none was written.
	NodePools       []*structs.NodePool
	SchedulerConfig *structs.SchedulerConfiguration
}

// jobVersion names one version of a job.
type jobVersion struct {
	namespace, id string
	version       uint64
	modifyIndex   uint64
}

func versionOf(j *structs.Job) jobVersion {
	return jobVersion{namespace: j.Namespace, id: j.ID, version: j.Version, modifyIndex: j.JobModifyIndex}
}

// Dump copies out the whole snapshot.
func (s *Snapshot) Dump() (*Dump, error) {
	d := &Dump{Indexes: map[string]uint64{}}
	for _, t := range []string{tableJobs, tableEvals, tableAlloc, tableNodes, tableNodePools, tableSchedConfig} {
		idx, err := s.Index(t)
		if err != nil {
			return nil, err
		}
		d.Indexes[t] = idx
	}
	var err error
	if d.Jobs, err = s.Jobs("*", ""); err != nil {
		return nil, err
	}
	if d.Evals, err = s.Evals("*", ""); err != nil {
		return nil, err
	}
	if d.Allocs, err = s.Allocs("*", ""); err != nil {
		return nil, err
	}
	pos := map[jobVersion]int32{}
	d.AllocJobRefs = make([]int32, len(d.Allocs))
	for i, a := range d.Allocs {
		d.AllocJobRefs[i] = -1
		if a.Job == nil {
			continue
		}
		v := versionOf(a.Job)
		p, ok := pos[v]
		if !ok {
			p = int32(len(d.AllocJobs))
			pos[v] = p
			d.AllocJobs = append(d.AllocJobs, a.Job)
		}
		d.AllocJobRefs[i] = p
		stripped := *a
		stripped.Job = nil
		d.Allocs[i] = &stripped
	}
	if d.Nodes, err = s.Nodes(); err != nil {
		return nil, err
	}
	if d.NodePools, d.SchedulerConfig, err = s.dumpOperatorTables(); err != nil {
		return nil, err
	}
	return d, nil
}

// Restore replaces the whole store with d, waking all blocked readers.
func (s *StateStore) Restore(d *Dump) error {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		return fmt.Errorf("create state database: %w", err)
	}
	txn := &writeTxn{Txn: db.Txn(true)}
	defer txn.Abort()
	for t, idx := range d.Indexes {
		if err := txn.Insert(tableIndex, &indexEntry{Key: t, Value: idx}); err != nil {
			return fmt.Errorf("restore index %s: %w", t, err)
		}
	}
	insert := func(table string, objs []any) error {
		for _, o := range objs {
			if err := txn.Insert(table, o); err != nil {
				return fmt.Errorf("restore %s: %w", table, err)
			}
		}
		return nil
	}
	if err := insert(tableJobs, toAny(d.Jobs)); err != nil {
		return err
	}
	if err := insert(tableEvals, toAny(d.Evals)); err != nil {
		return err
	}
	tracker := newAllocTracker()
	for i, a := range d.Allocs {
		if a.Job == nil && i < len(d.AllocJobRefs) {
			if ref := d.AllocJobRefs[i]; ref >= 0 && int(ref) < len(d.AllocJobs) {
				a.Job = d.AllocJobs[ref]
			}
		}
		s.strs.alloc(a)
		if err := txn.putAlloc(a); err != nil {
			return fmt.Errorf("restore %s: %w", tableAlloc, err)
		}
		tracker.change(nil, a)
	}
	if err := tracker.flush(txn); err != nil {
		return err
	}
	if err := insert(tableNodes, toAny(d.Nodes)); err != nil {
		return err
	}
	for _, n := range d.Nodes {
		if err := ensureNodeAllocsTxn(txn, n.ID); err != nil {
			return err
		}
	}
	if err := restoreOperatorTables(txn, d); err != nil {
		return err
	}
	if err := txn.commitAllocs(); err != nil {
		return err
	}
	txn.Commit()
	s.restore(db)
	return nil
}

func toAny[T any](in []T) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v
	}
	return out
}
