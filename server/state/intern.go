// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

// This file shares equal parts of the allocations one plan commits. A plan
// arrives decoded from the raft log, so its thousand placements of one
// group each carry their own copy of the same resources and of the same
// placement-metric maps (nodes available per datacenter, filter counts).
// Keeping one copy per plan instead of one per allocation saves about a
// kilobyte per allocation at a million allocations, and the garbage
// collector's time scanning them. Stored objects are immutable, so sharing
// is safe; the request's own objects are never modified.

import (
	"maps"
	"reflect"

	"github.com/droverhq/drover/structs"
)

// allocInterner remembers the last resources and metric maps it kept and
// hands them out again for equal ones. Allocations of one group come in a
// row, so remembering one of each catches nearly all repeats.
type allocInterner struct {
	resources *structs.AllocatedResources
	metric    *structs.AllocMetric
}

// intern points alloc, which the caller owns, at shared copies of its
// resources and metric maps where equal ones were seen before.
func (in *allocInterner) intern(alloc *structs.Allocation) {
	if r := alloc.AllocatedResources; r != nil {
		if in.resources != nil && reflect.DeepEqual(in.resources, r) {
			alloc.AllocatedResources = in.resources
		} else {
			in.resources = r
		}
	}
	m := alloc.Metrics
	if m == nil {
		return
	}
	prev := in.metric
	in.metric = m
	if prev == nil {
		return
	}
	c := *m
	changed := shareCounts(&c.NodesAvailable, prev.NodesAvailable)
	changed = shareCounts(&c.ClassFiltered, prev.ClassFiltered) || changed
	changed = shareCounts(&c.ConstraintFiltered, prev.ConstraintFiltered) || changed
	changed = shareCounts(&c.ClassExhausted, prev.ClassExhausted) || changed
	changed = shareCounts(&c.DimensionExhausted, prev.DimensionExhausted) || changed
	if changed {
		alloc.Metrics = &c
		in.metric = &c
	}
}

// shareCounts points *m at prev when both are non-empty and equal, and
// reports whether it did.
func shareCounts(m *map[string]int, prev map[string]int) bool {
	if len(*m) == 0 || len(prev) == 0 || !maps.Equal(*m, prev) || reflect.ValueOf(*m).UnsafePointer() == reflect.ValueOf(prev).UnsafePointer() {
		return false
	}
	*m = prev
	return true
}
