// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"fmt"

	"github.com/hashicorp/go-memdb"

	"github.com/droverhq/drover/structs"
)

// Dump is the whole state as plain values, the body of a raft snapshot.
type Dump struct {
	Indexes map[string]uint64
	Jobs    []*structs.Job
	Evals   []*structs.Evaluation
	Allocs  []*structs.Allocation
	Nodes   []*structs.Node
}

// Dump copies out the whole snapshot.
func (s *Snapshot) Dump() (*Dump, error) {
	d := &Dump{Indexes: map[string]uint64{}}
	for _, t := range []string{tableJobs, tableEvals, tableAlloc, tableNodes} {
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
	if d.Nodes, err = s.Nodes(); err != nil {
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
	txn := db.Txn(true)
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
	if err := insert(tableAlloc, toAny(d.Allocs)); err != nil {
		return err
	}
	if err := insert(tableNodes, toAny(d.Nodes)); err != nil {
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
