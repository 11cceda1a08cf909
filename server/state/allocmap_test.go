// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/droverhq/drover/structs"
)

// TestAllocTrieModel applies random puts and deletes, in transactions of
// random size, to the trie and to a plain map, and checks after each
// transaction that the trie holds what the map does and that the trie
// committed before it did not change. Hash functions that collide often
// exercise the deep levels and the collision lists.
func TestAllocTrieModel(t *testing.T) {
	maphashed := trieHash
	hashes := map[string]func(string) uint64{
		"maphash": maphashed,
		// Eight distinct hashes: every level down to the collision lists.
		"eight": func(k string) uint64 { return uint64(len(k)%8) * 0x9E3779B97F4A7C15 },
		// Low bits only: long shared prefixes, then distinct leaves.
		"low": func(k string) uint64 { return maphashed(k) << 50 },
	}
	for name, h := range hashes {
		t.Run(name, func(t *testing.T) {
			saved := trieHash
			trieHash = h
			defer func() { trieHash = saved }()
			rng := rand.New(rand.NewPCG(1, 2))
			model := map[string]*structs.Allocation{}
			var trie *allocTrie
			for round := range 300 {
				before := trieContents(trie)
				tx := trie.Txn()
				for range rng.IntN(40) + 1 {
					id := fmt.Sprintf("alloc-%d", rng.IntN(500))
					if rng.IntN(3) == 0 {
						tx.Delete(id)
						delete(model, id)
						if tx.Get(id) != nil {
							t.Fatalf("round %d: %s readable after delete", round, id)
						}
						continue
					}
					a := &structs.Allocation{ID: id, Name: fmt.Sprint(round)}
					tx.Put(a)
					model[id] = a
					if tx.Get(id) != a {
						t.Fatalf("round %d: put %s not readable in its transaction", round, id)
					}
				}
				old := trie
				trie = tx.Commit()
				if got := trieContents(old); !equalAllocMaps(got, before) {
					t.Fatalf("round %d: the previous trie changed under a transaction", round)
				}
				if !equalAllocMaps(trieContents(trie), model) || trie.Len() != len(model) {
					t.Fatalf("round %d: trie has %d allocations (Len %d), model %d", round, len(trieContents(trie)), trie.Len(), len(model))
				}
				for id, a := range model {
					if trie.Get(id) != a {
						t.Fatalf("round %d: Get(%s) is not the last put", round, id)
					}
				}
				if trie.Get("never-put") != nil {
					t.Fatalf("round %d: Get of an absent ID found something", round)
				}
			}
		})
	}
}

func trieContents(t *allocTrie) map[string]*structs.Allocation {
	out := map[string]*structs.Allocation{}
	t.Each(func(a *structs.Allocation) bool {
		out[a.ID] = a
		return true
	})
	return out
}

func equalAllocMaps(a, b map[string]*structs.Allocation) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestAllocTrieEmptiesToNil checks that deleting everything leaves no
// empty nodes behind and that Each stops when asked.
func TestAllocTrieEmptiesToNil(t *testing.T) {
	tx := (*allocTrie)(nil).Txn()
	var ids []string
	for range 1000 {
		a := &structs.Allocation{ID: structs.GenerateUUID()}
		ids = append(ids, a.ID)
		tx.Put(a)
	}
	full := tx.Commit()
	seen := 0
	full.Each(func(*structs.Allocation) bool { seen++; return seen < 10 })
	if seen != 10 {
		t.Fatalf("Each went on after false: %d calls", seen)
	}
	tx = full.Txn()
	for _, id := range slices.Backward(ids) {
		tx.Delete(id)
	}
	empty := tx.Commit()
	if empty.root != nil || empty.Len() != 0 {
		t.Fatalf("emptied trie: root %v, Len %d", empty.root, empty.Len())
	}
	if full.Len() != 1000 || len(trieContents(full)) != 1000 {
		t.Fatalf("the full trie changed: Len %d", full.Len())
	}
}

// BenchmarkAllocTrieBatch is a plan's commit: a transaction of 1,000 new
// allocations into a trie of a million.
func BenchmarkAllocTrieBatch(b *testing.B) {
	tx := (*allocTrie)(nil).Txn()
	for range 1_000_000 {
		tx.Put(&structs.Allocation{ID: structs.GenerateUUID()})
	}
	base := tx.Commit()
	batch := make([]*structs.Allocation, 1000)
	for i := range batch {
		batch[i] = &structs.Allocation{ID: structs.GenerateUUID()}
	}
	b.ReportAllocs()
	for b.Loop() {
		tx := base.Txn()
		for _, a := range batch {
			tx.Put(a)
		}
		tx.Commit()
	}
}
