// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import "github.com/hashicorp/go-memdb"

// Table names.
const (
	tableIndex = "index"
	tableJobs  = "jobs"
	tableEvals = "evals"
	tableAlloc = "allocs" // an index row only: allocmap.go holds them
	tableNodes = "nodes"
)

// indexEntry records the raft index at which a table last changed; blocking
// queries return it as X-Nomad-Index.
type indexEntry struct {
	Key   string
	Value uint64
}

func schema() *memdb.DBSchema {
	nsID := func(field string) memdb.Indexer {
		return &memdb.CompoundIndex{Indexes: []memdb.Indexer{
			&memdb.StringFieldIndex{Field: "Namespace"},
			&memdb.StringFieldIndex{Field: field},
		}}
	}
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tableIndex: {
			Name: tableIndex,
			Indexes: map[string]*memdb.IndexSchema{
				"id": {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Key"}},
			},
		},
		tableJobs: {
			Name: tableJobs,
			Indexes: map[string]*memdb.IndexSchema{
				"id": {Name: "id", Unique: true, Indexer: nsID("ID")},
			},
		},
		tableEvals: {
			Name: tableEvals,
			Indexes: map[string]*memdb.IndexSchema{
				"id":  {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
				"job": {Name: "job", Indexer: nsID("JobID")},
			},
		},
		// Allocations live in a trie stored in one row (allocmap.go);
		// by node and by job in allocsets.go.
		tableAllocMap: {
			Name: tableAllocMap,
			Indexes: map[string]*memdb.IndexSchema{
				"id": {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Key"}},
			},
		},
		tableJobAllocs: {
			Name: tableJobAllocs,
			Indexes: map[string]*memdb.IndexSchema{
				"id": {Name: "id", Unique: true, Indexer: nsID("JobID")},
			},
		},
		tableNodeAllocs: {
			Name: tableNodeAllocs,
			Indexes: map[string]*memdb.IndexSchema{
				"id": {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "NodeID"}},
			},
		},
		tableNodes: {
			Name: tableNodes,
			Indexes: map[string]*memdb.IndexSchema{
				"id": {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
			},
		},
		tableNodePools: {
			Name: tableNodePools,
			Indexes: map[string]*memdb.IndexSchema{
				"id": {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Name"}},
			},
		},
		tableSchedConfig: {
			Name: tableSchedConfig,
			Indexes: map[string]*memdb.IndexSchema{
				"id": {Name: "id", Unique: true, Indexer: &memdb.ConditionalIndex{Conditional: func(any) (bool, error) { return true, nil }}},
			},
		},
	}}
}
