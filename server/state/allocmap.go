// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

// This file holds the allocation table: a persistent hash array mapped
// trie (HAMT) from allocation ID to allocation, in place of a go-memdb
// table. At a million allocations the radix tree behind a memdb table was
// the store's largest cost: every insert copied four or five nodes with
// their edge arrays and made a watch channel for each (about 7 KB of
// garbage per insert, a quarter of all the server allocated while placing
// C1M) and kept about 300 bytes per allocation. Here an allocation costs
// one 16-byte slot, and a write transaction changes the nodes it already
// copied in place, so a batch of a thousand allocations copies the upper
// levels once.
//
// The root of the trie is stored in a memdb row (tableAllocMap), so a
// memdb snapshot sees the allocations as they were when it was taken, and
// the row's watch channel wakes blocking queries when any allocation
// changes. Order is the hash's: readers that list allocations sort them
// by ID.

import (
	"hash/maphash"
	"math/bits"

	"github.com/droverhq/drover/structs"
)

// tableAllocMap has one row, the current allocation trie.
const (
	tableAllocMap  = "alloc_map"
	allocMapRowKey = "allocs"
)

// allocMapRow is the memdb row holding the allocation trie.
type allocMapRow struct {
	Key  string
	Trie *allocTrie
}

// allocTrie is an immutable set of allocations by ID. The zero value
// (and nil) is empty.
type allocTrie struct {
	root *trieNode
	size int
}

// trieNode is a bitmap-compressed node: one slot per set bit of bitmap,
// in bit order. Below maxTrieShift, every key of a node shares the hash
// bits above its level; a node at maxTrieShift holds keys whose 64-bit
// hashes collide, in a plain list (bitmap unused).
type trieNode struct {
	bitmap uint32
	// owner is the write transaction that made this node and may still
	// change it in place; nodes of committed tries are never changed.
	owner *trieTxnID
	slots []trieSlot
}

// trieSlot is an allocation (child == nil) or a subtree. It keeps no key
// or hash of its own, the allocation's ID is the key, so that copying a
// node moves 16 bytes a slot.
type trieSlot struct {
	alloc *structs.Allocation
	child *trieNode
}

const (
	trieBits     = 5
	trieFanout   = 1 << trieBits
	maxTrieShift = 64
)

// trieTxnID identifies a write transaction. It is never zero-sized, so
// every transaction's pointer is distinct.
type trieTxnID struct{ _ byte }

var trieSeed = maphash.MakeSeed()

// trieHash is a variable so that tests can force collisions.
var trieHash = func(key string) uint64 { return maphash.String(trieSeed, key) }

// Len is how many allocations the trie holds.
func (t *allocTrie) Len() int {
	if t == nil {
		return 0
	}
	return t.size
}

// Get returns the allocation with id, or nil.
func (t *allocTrie) Get(id string) *structs.Allocation {
	if t == nil || t.root == nil {
		return nil
	}
	h := trieHash(id)
	n := t.root
	for shift := uint(0); ; shift += trieBits {
		if shift >= maxTrieShift {
			for _, s := range n.slots {
				if s.alloc.ID == id {
					return s.alloc
				}
			}
			return nil
		}
		bit := uint32(1) << ((h >> shift) & (trieFanout - 1))
		if n.bitmap&bit == 0 {
			return nil
		}
		s := &n.slots[bits.OnesCount32(n.bitmap&(bit-1))]
		if s.child == nil {
			if s.alloc.ID == id {
				return s.alloc
			}
			return nil
		}
		n = s.child
	}
}

// Each calls fn with every allocation, in no particular order, until fn
// returns false.
func (t *allocTrie) Each(fn func(*structs.Allocation) bool) {
	if t != nil && t.root != nil {
		t.root.each(fn)
	}
}

func (n *trieNode) each(fn func(*structs.Allocation) bool) bool {
	for i := range n.slots {
		s := &n.slots[i]
		if s.child != nil {
			if !s.child.each(fn) {
				return false
			}
		} else if !fn(s.alloc) {
			return false
		}
	}
	return true
}

// trieTxn changes a trie without changing what readers of the original
// see. It is not safe for concurrent use.
type trieTxn struct {
	id   *trieTxnID
	root *trieNode
	size int
}

// Txn starts a write transaction on t.
func (t *allocTrie) Txn() *trieTxn {
	tx := &trieTxn{id: &trieTxnID{}}
	if t != nil {
		tx.root, tx.size = t.root, t.size
	}
	return tx
}

// Get reads through the transaction's changes.
func (tx *trieTxn) Get(id string) *structs.Allocation {
	return tx.view().Get(id)
}

// view is the trie as the transaction has it now, for reads within the
// transaction only: the transaction may still change its nodes.
func (tx *trieTxn) view() *allocTrie {
	return &allocTrie{root: tx.root, size: tx.size}
}

// Commit returns the trie with the transaction's changes; the transaction
// may not change nodes in place after this.
func (tx *trieTxn) Commit() *allocTrie {
	tx.id = &trieTxnID{}
	return &allocTrie{root: tx.root, size: tx.size}
}

// writable returns n, or a copy of it the transaction owns, with room for
// one more slot.
func (tx *trieTxn) writable(n *trieNode) *trieNode {
	if n == nil {
		return &trieNode{owner: tx.id}
	}
	if n.owner == tx.id {
		return n
	}
	slots := make([]trieSlot, len(n.slots), len(n.slots)+1)
	copy(slots, n.slots)
	return &trieNode{bitmap: n.bitmap, owner: tx.id, slots: slots}
}

// Put inserts or replaces the allocation under a.ID.
func (tx *trieTxn) Put(a *structs.Allocation) {
	var added bool
	tx.root, added = tx.put(tx.root, 0, trieHash(a.ID), a)
	if added {
		tx.size++
	}
}

func (tx *trieTxn) put(n *trieNode, shift uint, h uint64, a *structs.Allocation) (*trieNode, bool) {
	n = tx.writable(n)
	if shift >= maxTrieShift {
		for i := range n.slots {
			if n.slots[i].alloc.ID == a.ID {
				n.slots[i].alloc = a
				return n, false
			}
		}
		n.slots = append(n.slots, trieSlot{alloc: a})
		return n, true
	}
	bit := uint32(1) << ((h >> shift) & (trieFanout - 1))
	i := bits.OnesCount32(n.bitmap & (bit - 1))
	if n.bitmap&bit == 0 {
		n.bitmap |= bit
		n.slots = append(n.slots, trieSlot{})
		copy(n.slots[i+1:], n.slots[i:])
		n.slots[i] = trieSlot{alloc: a}
		return n, true
	}
	s := &n.slots[i]
	if s.child != nil {
		child, added := tx.put(s.child, shift+trieBits, h, a)
		s.child = child
		return n, added
	}
	if s.alloc.ID == a.ID {
		s.alloc = a
		return n, false
	}
	// Two allocations share this slot: push both one level down.
	other := s.alloc
	child, _ := tx.put(nil, shift+trieBits, trieHash(other.ID), other)
	child, _ = tx.put(child, shift+trieBits, h, a)
	*s = trieSlot{child: child}
	return n, true
}

// Delete removes the allocation with id, if present.
func (tx *trieTxn) Delete(id string) {
	if tx.root == nil {
		return
	}
	root, removed := tx.del(tx.root, 0, trieHash(id), id)
	if removed {
		tx.root = root
		tx.size--
	}
}

// del returns n without id (nil when that leaves it empty) and whether id
// was there; n is not copied when it was not.
func (tx *trieTxn) del(n *trieNode, shift uint, h uint64, id string) (*trieNode, bool) {
	if shift >= maxTrieShift {
		for i := range n.slots {
			if n.slots[i].alloc.ID == id {
				n = tx.writable(n)
				removeSlot(n, i)
				return orNil(n), true
			}
		}
		return n, false
	}
	bit := uint32(1) << ((h >> shift) & (trieFanout - 1))
	if n.bitmap&bit == 0 {
		return n, false
	}
	i := bits.OnesCount32(n.bitmap & (bit - 1))
	s := n.slots[i]
	if s.child == nil {
		if s.alloc.ID != id {
			return n, false
		}
		n = tx.writable(n)
		n.bitmap &^= bit
		removeSlot(n, i)
		return orNil(n), true
	}
	child, removed := tx.del(s.child, shift+trieBits, h, id)
	if !removed {
		return n, false
	}
	n = tx.writable(n)
	switch {
	case child == nil:
		n.bitmap &^= bit
		removeSlot(n, i)
	case len(child.slots) == 1 && child.slots[0].child == nil:
		// A subtree left with one allocation folds into its slot: that
		// allocation's hash has this slot's bits.
		n.slots[i] = child.slots[0]
	default:
		n.slots[i].child = child
	}
	return orNil(n), true
}

// removeSlot drops slot i of a node the transaction owns, clearing the
// vacated end so the backing array holds no stale pointers.
func removeSlot(n *trieNode, i int) {
	last := len(n.slots) - 1
	copy(n.slots[i:], n.slots[i+1:])
	n.slots[last] = trieSlot{}
	n.slots = n.slots[:last]
}

func orNil(n *trieNode) *trieNode {
	if len(n.slots) == 0 {
		return nil
	}
	return n
}
