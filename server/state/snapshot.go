// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/go-memdb"

	"github.com/droverhq/drover/structs"
)

// Snapshot is a consistent, read-only view of the state. Within a blocking
// query it also records what was read, so the query wakes when it changes.
// Objects it returns are shared: copy before modifying.
type Snapshot struct {
	txn *memdb.Txn
	ws  memdb.WatchSet
	// allocs is the allocation trie, read from its row at the first
	// allocation read (which watches the row: any allocation change wakes
	// a blocking query that read one).
	allocs        *allocTrie
	allocsWatched bool
	// store is the store the snapshot was taken from (nil for a view of
	// a write transaction), generation the store's restore count then:
	// NodeTable shares the store's cache.
	store      *StateStore
	generation uint64
}

// release drops the snapshot's hold on the database version it reads, so
// that version can be collected; the snapshot must not be read after.
func (s *Snapshot) release() {
	s.txn = nil
	s.allocs = nil
}

// allocTrie returns the snapshot's allocations.
func (s *Snapshot) allocTrie() (*allocTrie, error) {
	if s.allocs != nil && (s.ws == nil || s.allocsWatched) {
		return s.allocs, nil
	}
	obj, err := s.first(tableAllocMap, "id", allocMapRowKey)
	if err != nil {
		return nil, err
	}
	s.allocsWatched = s.ws != nil
	if s.allocs == nil {
		s.allocs = &allocTrie{}
		if obj != nil {
			s.allocs = obj.(*allocMapRow).Trie
		}
	}
	return s.allocs, nil
}

func (s *Snapshot) watch(ch <-chan struct{}) {
	if s.ws != nil {
		s.ws.Add(ch)
	}
}

func (s *Snapshot) first(table, index string, args ...any) (any, error) {
	ch, obj, err := s.txn.FirstWatch(table, index, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s by %s: %w", table, index, err)
	}
	s.watch(ch)
	return obj, nil
}

func (s *Snapshot) get(table, index string, args ...any) (memdb.ResultIterator, error) {
	it, err := s.txn.Get(table, index, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s by %s: %w", table, index, err)
	}
	s.watch(it.WatchCh())
	return it, nil
}

// Index returns the highest index at which any of the tables changed.
func (s *Snapshot) Index(tables ...string) (uint64, error) {
	var max uint64
	for _, t := range tables {
		obj, err := s.first(tableIndex, "id", t)
		if err != nil {
			return 0, err
		}
		if obj != nil && obj.(*indexEntry).Value > max {
			max = obj.(*indexEntry).Value
		}
	}
	return max, nil
}

// Table names for Index.
const (
	TableJobs   = tableJobs
	TableEvals  = tableEvals
	TableAllocs = tableAlloc
	TableNodes  = tableNodes
)

// LatestIndex returns the highest index applied to any table.
func (s *Snapshot) LatestIndex() (uint64, error) {
	return s.Index(tableJobs, tableEvals, tableAlloc, tableNodes)
}

// JobByID returns the job or nil.
func (s *Snapshot) JobByID(namespace, id string) (*structs.Job, error) {
	obj, err := s.first(tableJobs, "id", namespace, id)
	if err != nil || obj == nil {
		return nil, err
	}
	return obj.(*structs.Job), nil
}

// Jobs returns every job in namespace ("*" for all), sorted by namespace
// and ID, whose ID starts with prefix.
func (s *Snapshot) Jobs(namespace, prefix string) ([]*structs.Job, error) {
	it, err := s.get(tableJobs, "id")
	if err != nil {
		return nil, err
	}
	var out []*structs.Job
	for obj := it.Next(); obj != nil; obj = it.Next() {
		j := obj.(*structs.Job)
		if (namespace == "*" || j.Namespace == namespace) && strings.HasPrefix(j.ID, prefix) {
			out = append(out, j)
		}
	}
	return out, nil
}

// EvalByID returns the evaluation or nil.
func (s *Snapshot) EvalByID(id string) (*structs.Evaluation, error) {
	obj, err := s.first(tableEvals, "id", id)
	if err != nil || obj == nil {
		return nil, err
	}
	return obj.(*structs.Evaluation), nil
}

// Evals returns every evaluation whose ID starts with prefix, in namespace
// ("*" for all).
func (s *Snapshot) Evals(namespace, prefix string) ([]*structs.Evaluation, error) {
	it, err := s.get(tableEvals, "id")
	if err != nil {
		return nil, err
	}
	var out []*structs.Evaluation
	for obj := it.Next(); obj != nil; obj = it.Next() {
		e := obj.(*structs.Evaluation)
		if (namespace == "*" || e.Namespace == namespace) && strings.HasPrefix(e.ID, prefix) {
			out = append(out, e)
		}
	}
	return out, nil
}

// EvalsByJob returns the job's evaluations.
func (s *Snapshot) EvalsByJob(namespace, jobID string) ([]*structs.Evaluation, error) {
	it, err := s.get(tableEvals, "job", namespace, jobID)
	if err != nil {
		return nil, err
	}
	var out []*structs.Evaluation
	for obj := it.Next(); obj != nil; obj = it.Next() {
		out = append(out, obj.(*structs.Evaluation))
	}
	return out, nil
}

// AllocByID returns the allocation or nil.
func (s *Snapshot) AllocByID(id string) (*structs.Allocation, error) {
	t, err := s.allocTrie()
	if err != nil {
		return nil, err
	}
	return t.Get(id), nil
}

// Allocs returns every allocation whose ID starts with prefix, in
// namespace ("*" for all), sorted by ID.
func (s *Snapshot) Allocs(namespace, prefix string) ([]*structs.Allocation, error) {
	t, err := s.allocTrie()
	if err != nil {
		return nil, err
	}
	var out []*structs.Allocation
	if namespace == "*" && prefix == "" {
		out = make([]*structs.Allocation, 0, t.Len())
	}
	t.Each(func(a *structs.Allocation) bool {
		if (namespace == "*" || a.Namespace == namespace) && strings.HasPrefix(a.ID, prefix) {
			out = append(out, a)
		}
		return true
	})
	slices.SortFunc(out, func(a, b *structs.Allocation) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// AllocsByEval returns the allocations an evaluation created or changed.
// Allocations have no index by evaluation (at a million allocations it
// would cost a gigabyte): the evaluation names the job, whose allocations
// are filtered, and an evaluation already garbage collected costs a scan.
func (s *Snapshot) AllocsByEval(evalID string) ([]*structs.Allocation, error) {
	eval, err := s.EvalByID(evalID)
	if err != nil {
		return nil, fmt.Errorf("read eval %q: %w", evalID, err)
	}
	var all []*structs.Allocation
	if eval != nil {
		all, err = s.AllocsByJob(eval.Namespace, eval.JobID)
	} else {
		all, err = s.Allocs("*", "")
	}
	if err != nil {
		return nil, err
	}
	var out []*structs.Allocation
	for _, a := range all {
		if a.EvalID == evalID {
			out = append(out, a)
		}
	}
	return out, nil
}

// NodeByID returns the node or nil.
func (s *Snapshot) NodeByID(id string) (*structs.Node, error) {
	obj, err := s.first(tableNodes, "id", id)
	if err != nil || obj == nil {
		return nil, err
	}
	return obj.(*structs.Node), nil
}

// Nodes returns every node.
func (s *Snapshot) Nodes() ([]*structs.Node, error) {
	return s.NodesByPrefix("")
}

// NodeTable returns the node table at this snapshot, shared with every
// other snapshot at the same nodes index (structs.NodeTable).
func (s *Snapshot) NodeTable() (*structs.NodeTable, error) {
	index, err := s.Index(tableNodes)
	if err != nil {
		return nil, err
	}
	if s.store != nil {
		if c := s.store.nodeTable.Load(); c != nil && c.generation == s.generation && c.table.Index == index {
			return c.table, nil
		}
	}
	nodes, err := s.Nodes()
	if err != nil {
		return nil, err
	}
	t := structs.NewNodeTable(index, nodes)
	if s.store != nil {
		// Keep the newest: an old snapshot must not evict a fresher table.
		fresh := &cachedNodeTable{generation: s.generation, table: t}
		for {
			c := s.store.nodeTable.Load()
			if c != nil && (c.generation > s.generation || c.generation == s.generation && c.table.Index >= index) {
				break
			}
			if s.store.nodeTable.CompareAndSwap(c, fresh) {
				break
			}
		}
	}
	return t, nil
}

// NodesByPrefix returns the nodes whose ID starts with prefix.
func (s *Snapshot) NodesByPrefix(prefix string) ([]*structs.Node, error) {
	it, err := s.get(tableNodes, "id")
	if err != nil {
		return nil, err
	}
	var out []*structs.Node
	for obj := it.Next(); obj != nil; obj = it.Next() {
		n := obj.(*structs.Node)
		if strings.HasPrefix(n.ID, prefix) {
			out = append(out, n)
		}
	}
	return out, nil
}
