// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// NodeTable is one version of the node table as the scheduler reads it:
// the nodes, where each one is, and what each can hold. Every evaluation
// starts from the whole table, and at 5,000 nodes building it cost a few
// milliseconds per evaluation (reading every node out of the store,
// hashing every ID, touching every node's resources). The nodes change far
// less often than evaluations run, so the state store builds it once per
// version and every evaluation shares it. It must not be modified.
type NodeTable struct {
	// Index is the nodes table's index this table was built at.
	Index uint64
	// Nodes holds every node, any status, sorted by ID.
	Nodes []*Node
	// ByID is each node's position in Nodes.
	ByID map[string]int
	// Capacity[i] is Nodes[i].Comparable(): what its allocations may use.
	Capacity []ComparableResources
}

// NewNodeTable builds the table of nodes (sorted by ID) at index.
func NewNodeTable(index uint64, nodes []*Node) *NodeTable {
	t := &NodeTable{
		Index:    index,
		Nodes:    nodes,
		ByID:     make(map[string]int, len(nodes)),
		Capacity: make([]ComparableResources, len(nodes)),
	}
	for i, n := range nodes {
		t.ByID[n.ID] = i
		t.Capacity[i] = n.Comparable()
	}
	return t
}
