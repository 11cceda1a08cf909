// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package state is the servers' state store: jobs, evaluations, allocations
// and nodes in go-memdb, written only by the FSM (one raft index per write)
// and read through consistent snapshots. Watch sets on snapshots make
// blocking queries: a reader sleeps until something it read changes.
package state

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-memdb"

	"github.com/droverhq/drover/structs"
)

// StateStore holds the cluster state. Writes come only from the FSM.
type StateStore struct {
	mu sync.RWMutex
	db *memdb.MemDB
	// abandonCh is closed when a snapshot restore replaces the whole
	// database, waking every blocked reader so it re-reads.
	abandonCh chan struct{}
	// strs shares the strings allocations repeat (intern.go).
	strs *stringTable
	// nodeTable is the newest node table a snapshot built (NodeTable).
	nodeTable atomic.Pointer[cachedNodeTable]
	// generation counts restores: a table built from a database that a
	// restore replaced must not be taken for the new one's.
	generation uint64
}

// cachedNodeTable is a node table and the database generation it is of.
type cachedNodeTable struct {
	generation uint64
	table      *structs.NodeTable
}

// New returns an empty state store.
func New() (*StateStore, error) {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		return nil, fmt.Errorf("create state database: %w", err)
	}
	return &StateStore{db: db, abandonCh: make(chan struct{}), strs: newStringTable()}, nil
}

func (s *StateStore) current() (*memdb.MemDB, chan struct{}) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db, s.abandonCh
}

// Snapshot returns a consistent read-only view of the state.
func (s *StateStore) Snapshot() *Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return &Snapshot{txn: s.db.Txn(false), store: s, generation: s.generation}
}

// AbandonCh is closed when the store is replaced by a restore.
func (s *StateStore) AbandonCh() <-chan struct{} {
	_, ch := s.current()
	return ch
}

// LatestIndex returns the highest raft index applied to the store.
func (s *StateStore) LatestIndex() uint64 {
	idx, _ := s.Snapshot().LatestIndex()
	return idx
}

// BlockingQuery runs query against fresh snapshots until the index it
// returns passes minIndex or ctx ends. With minIndex 0 it runs once. A
// snapshot handed to query is valid until query runs again: only the last
// one may be kept for use after BlockingQuery returns. It
// returns the last index (at least 1) and error query returned; a ctx that ends is not
// an error (the caller answers with what it has, as Nomad does on timeout).
func (s *StateStore) BlockingQuery(ctx context.Context, minIndex uint64, query func(snap *Snapshot) (uint64, error)) (uint64, error) {
	timedOut := false
	for {
		ws := memdb.NewWatchSet()
		ws.Add(s.AbandonCh())
		snap := s.Snapshot()
		snap.ws = ws
		index, err := query(snap)
		if index == 0 {
			// Tables never written report 0, which would make the
			// caller's next query non-blocking: 1 means "nothing yet".
			index = 1
		}
		if err != nil || minIndex == 0 || index > minIndex || timedOut {
			return index, err
		}
		// The query runs again on a fresh snapshot: let go of this one
		// while blocked. A blocked query otherwise pins the radix trees
		// as they were when it started, and thousands of clients blocked
		// at different indexes pin every version in between (about 2 KB
		// per allocation at a million allocations). When ctx ends, the
		// query runs once more so that its last snapshot is a live one.
		snap.release()
		timedOut = ws.WatchCtx(ctx) != nil
	}
}

// WaitForIndex blocks until the store has applied index or ctx ends.
func (s *StateStore) WaitForIndex(ctx context.Context, index uint64) error {
	for {
		ws := memdb.NewWatchSet()
		ws.Add(s.AbandonCh())
		snap := s.Snapshot()
		snap.ws = ws
		latest, err := snap.LatestIndex()
		if err != nil {
			return err
		}
		if latest >= index {
			return nil
		}
		if err := ws.WatchCtx(ctx); err != nil {
			return fmt.Errorf("wait for state index %d (at %d): %w", index, latest, err)
		}
	}
}

// restore swaps in a database built by a snapshot restore.
func (s *StateStore) restore(db *memdb.MemDB) {
	s.mu.Lock()
	old := s.abandonCh
	s.db = db
	s.abandonCh = make(chan struct{})
	s.generation++
	s.mu.Unlock()
	close(old)
}

// write runs fn in a write transaction and bumps the index of every table
// fn names in its return value.
func (s *StateStore) write(index uint64, fn func(txn *writeTxn) ([]string, error)) error {
	db, _ := s.current()
	txn := &writeTxn{Txn: db.Txn(true)}
	defer txn.Abort()
	tables, err := fn(txn)
	if err != nil {
		return err
	}
	if err := txn.commitAllocs(); err != nil {
		return err
	}
	for _, t := range tables {
		if err := txn.Insert(tableIndex, &indexEntry{Key: t, Value: index}); err != nil {
			return fmt.Errorf("update index of %s: %w", t, err)
		}
	}
	txn.Commit()
	return nil
}

// writeTxn is one write to the store: a memdb transaction and, from the
// first allocation it reads or writes, a transaction on the allocation
// trie (allocmap.go), whose new root it stores before committing.
type writeTxn struct {
	*memdb.Txn
	allocs *trieTxn
}

func (t *writeTxn) allocTrie() (*trieTxn, error) {
	if t.allocs == nil {
		obj, err := t.First(tableAllocMap, "id", allocMapRowKey)
		if err != nil {
			return nil, fmt.Errorf("read allocations: %w", err)
		}
		var trie *allocTrie
		if obj != nil {
			trie = obj.(*allocMapRow).Trie
		}
		t.allocs = trie.Txn()
	}
	return t.allocs, nil
}

// snapshot reads through the transaction, its uncommitted writes included.
func (t *writeTxn) snapshot() (*Snapshot, error) {
	tr, err := t.allocTrie()
	if err != nil {
		return nil, err
	}
	return &Snapshot{txn: t.Txn, allocs: tr.view()}, nil
}

// alloc returns the allocation with id as this transaction sees it, or nil.
func (t *writeTxn) alloc(id string) (*structs.Allocation, error) {
	tr, err := t.allocTrie()
	if err != nil {
		return nil, err
	}
	return tr.Get(id), nil
}

// putAlloc inserts or replaces an allocation; it must not change after.
func (t *writeTxn) putAlloc(a *structs.Allocation) error {
	tr, err := t.allocTrie()
	if err != nil {
		return err
	}
	tr.Put(a)
	return nil
}

// commitAllocs stores the allocation trie the transaction changed.
func (t *writeTxn) commitAllocs() error {
	if t.allocs == nil {
		return nil
	}
	row := &allocMapRow{Key: allocMapRowKey, Trie: t.allocs.Commit()}
	t.allocs = nil
	if err := t.Insert(tableAllocMap, row); err != nil {
		return fmt.Errorf("store allocations: %w", err)
	}
	return nil
}
