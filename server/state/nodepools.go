// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

// Node pools. The table holds the pools operators wrote; reads add the two
// built-in pools ("all" and "default", which are never stored and cannot
// change) and the pools that registered nodes name but nobody wrote. A
// node that registers with a new pool thereby creates it, as in Nomad,
// without a second write on the node registration path: the pool exists as
// long as a node names it, and for good once an operator applies it.

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/droverhq/drover/structs"
)

const tableNodePools = "node_pools"

// TableNodePools is the node pool table's name for Index.
const TableNodePools = tableNodePools

// ErrNodePoolNotFound is returned when deleting a pool that does not exist.
var ErrNodePoolNotFound = errors.New("node pool not found")

// NodePoolsIndex is the index that moves when the list of pools may have
// changed: a pool was written or a node (which may name a new pool) was.
func (s *Snapshot) NodePoolsIndex() (uint64, error) {
	return s.Index(tableNodePools, tableNodes)
}

// NodePools returns every pool whose name starts with prefix, sorted by
// name: built-in, stored, and named only by nodes.
func (s *Snapshot) NodePools(prefix string) ([]*structs.NodePool, error) {
	byName := map[string]*structs.NodePool{}
	for _, p := range structs.BuiltinNodePools() {
		p.CreateIndex, p.ModifyIndex = 1, 1
		byName[p.Name] = p
	}
	it, err := s.get(tableNodePools, "id")
	if err != nil {
		return nil, err
	}
	for obj := it.Next(); obj != nil; obj = it.Next() {
		p := obj.(*structs.NodePool)
		byName[p.Name] = p
	}
	nodes, err := s.Nodes()
	if err != nil {
		return nil, err
	}
	implicit := map[string]*structs.NodePool{}
	for _, n := range nodes {
		name := poolOf(n)
		if _, ok := byName[name]; ok {
			continue
		}
		// An implicit pool dates from its first node.
		if p, ok := implicit[name]; !ok || n.CreateIndex < p.CreateIndex {
			implicit[name] = &structs.NodePool{Name: name, CreateIndex: n.CreateIndex, ModifyIndex: n.CreateIndex}
		}
	}
	maps.Copy(byName, implicit)
	out := make([]*structs.NodePool, 0, len(byName))
	for name, p := range byName {
		if strings.HasPrefix(name, prefix) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *structs.NodePool) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// NodePoolByName returns the pool, or nil when it exists in no form.
func (s *Snapshot) NodePoolByName(name string) (*structs.NodePool, error) {
	if name == "" {
		return nil, nil
	}
	if structs.IsBuiltinNodePool(name) {
		for _, p := range structs.BuiltinNodePools() {
			if p.Name == name {
				p.CreateIndex, p.ModifyIndex = 1, 1
				return p, nil
			}
		}
	}
	obj, err := s.first(tableNodePools, "id", name)
	if err != nil {
		return nil, err
	}
	if obj != nil {
		return obj.(*structs.NodePool), nil
	}
	nodes, err := s.NodesInPool(name)
	if err != nil || len(nodes) == 0 {
		return nil, err
	}
	first := nodes[0].CreateIndex
	for _, n := range nodes {
		first = min(first, n.CreateIndex)
	}
	return &structs.NodePool{Name: name, CreateIndex: first, ModifyIndex: first}, nil
}

// NodesInPool returns the nodes of pool ("all": every node).
func (s *Snapshot) NodesInPool(pool string) ([]*structs.Node, error) {
	nodes, err := s.Nodes()
	if err != nil || pool == structs.NodePoolAll {
		return nodes, err
	}
	out := nodes[:0:0]
	for _, n := range nodes {
		if poolOf(n) == pool {
			out = append(out, n)
		}
	}
	return out, nil
}

// JobsInPool returns the jobs in namespace ("*" for all) that name pool
// ("all": every job, as every job may place on a node of that pool).
func (s *Snapshot) JobsInPool(namespace, pool string) ([]*structs.Job, error) {
	jobs, err := s.Jobs(namespace, "")
	if err != nil || pool == structs.NodePoolAll {
		return jobs, err
	}
	out := jobs[:0:0]
	for _, j := range jobs {
		if jobPoolOf(j) == pool {
			out = append(out, j)
		}
	}
	return out, nil
}

func poolOf(n *structs.Node) string {
	if n.NodePool == "" {
		return structs.DefaultNodePool
	}
	return n.NodePool
}

func jobPoolOf(j *structs.Job) string {
	if j.NodePool == "" {
		return structs.DefaultNodePool
	}
	return j.NodePool
}

// UpsertNodePools creates or replaces pools. Built-in pools are refused:
// they cannot change.
func (s *StateStore) UpsertNodePools(index uint64, pools []*structs.NodePool) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		for _, p := range pools {
			if err := p.Validate(); err != nil {
				return nil, fmt.Errorf("node pool %q: %w", p.Name, err)
			}
			if structs.IsBuiltinNodePool(p.Name) {
				return nil, fmt.Errorf("modifying node pool %q is not allowed: it is built in", p.Name)
			}
			p = p.Copy()
			existing, err := txn.First(tableNodePools, "id", p.Name)
			if err != nil {
				return nil, fmt.Errorf("read node pool %q: %w", p.Name, err)
			}
			p.CreateIndex = index
			if existing != nil {
				p.CreateIndex = existing.(*structs.NodePool).CreateIndex
			}
			p.ModifyIndex = index
			if err := txn.Insert(tableNodePools, p); err != nil {
				return nil, fmt.Errorf("insert node pool %q: %w", p.Name, err)
			}
		}
		return []string{tableNodePools}, nil
	})
}

// DeleteNodePools deletes pools. It refuses, deleting none, when a pool
// is built in, unknown, or still in use by a node or a job that is not
// dead; the error names what uses it.
func (s *StateStore) DeleteNodePools(index uint64, names []string) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		snap, err := txn.snapshot()
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if structs.IsBuiltinNodePool(name) {
				return nil, fmt.Errorf("deleting node pool %q is not allowed: it is built in", name)
			}
			if err := snap.NodePoolInUse(name); err != nil {
				return nil, err
			}
			existing, err := txn.First(tableNodePools, "id", name)
			if err != nil {
				return nil, fmt.Errorf("read node pool %q: %w", name, err)
			}
			if existing == nil {
				return nil, fmt.Errorf("node pool %q: %w", name, ErrNodePoolNotFound)
			}
			if err := txn.Delete(tableNodePools, existing); err != nil {
				return nil, fmt.Errorf("delete node pool %q: %w", name, err)
			}
		}
		return []string{tableNodePools}, nil
	})
}

// maxNamesInError bounds the nodes or jobs an in-use error lists.
const maxNamesInError = 5

// NodePoolInUse returns an error naming the nodes, or the jobs that are
// not dead, in pool; nil when there are none.
func (s *Snapshot) NodePoolInUse(pool string) error {
	nodes, err := s.NodesInPool(pool)
	if err != nil {
		return err
	}
	if len(nodes) > 0 {
		ids := make([]string, 0, len(nodes))
		for _, n := range nodes {
			ids = append(ids, n.ID)
		}
		return fmt.Errorf("node pool %q is in use by %d node(s): %s", pool, len(ids), listNames(ids))
	}
	jobs, err := s.JobsInPool("*", pool)
	if err != nil {
		return err
	}
	var live []string
	for _, j := range jobs {
		status, err := s.JobStatus(j)
		if err != nil {
			return err
		}
		if status != structs.JobStatusDead {
			live = append(live, j.Namespace+"/"+j.ID)
		}
	}
	if len(live) > 0 {
		return fmt.Errorf("node pool %q is in use by %d non-terminal job(s): %s", pool, len(live), listNames(live))
	}
	return nil
}

func listNames(names []string) string {
	if len(names) <= maxNamesInError {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxNamesInError], ", "), len(names)-maxNamesInError)
}
