// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file holds the placer's two small data structures: the per-group
// placement metric, shared copy-on-write between allocations, and the
// max-heap of nodes by score used within one ranking bucket (rank.go).

import "github.com/droverhq/drover/structs"

// metricTracker accumulates a group's AllocMetric. Snapshots share its maps
// until the next change, which then clones them (copy on write), so a
// placement costs no map copies unless filtering changed.
type metricTracker struct {
	m      structs.AllocMetric
	shared bool
}

func (t *metricTracker) own() {
	if t.shared {
		t.m.ConstraintFiltered = cloneCounts(t.m.ConstraintFiltered)
		t.m.DimensionExhausted = cloneCounts(t.m.DimensionExhausted)
		t.shared = false
	}
}

func cloneCounts(m map[string]int) map[string]int {
	if m == nil {
		return nil
	}
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (t *metricTracker) filterN(key string, n int) {
	t.own()
	t.m.NodesFiltered += n
	if t.m.ConstraintFiltered == nil {
		t.m.ConstraintFiltered = map[string]int{}
	}
	t.m.ConstraintFiltered[key] += n
}

func (t *metricTracker) exhaust(dim string) {
	t.own()
	t.m.ExhaustedNode(dim)
}

func (t *metricTracker) snapshot() *structs.AllocMetric {
	c := t.m
	t.shared = true
	return &c
}

// rankItem is a node in the ranking heap. tie is the node's position in
// the evaluation's shuffled candidate order: equal scores go to the lower
// tie, so ties differ from one evaluation to the next (see rank.go).
type rankItem struct {
	score float64
	idx   int32
	tie   int32
}

// before reports whether a ranks above b: a higher score, or an equal
// score and a lower tie.
func (a rankItem) before(b rankItem) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.tie < b.tie
}

// rankHeap is a max-heap of nodes by score, ties to the lowest tie. It is
// hand-rolled to avoid container/heap's interface boxing per operation.
type rankHeap struct {
	items []rankItem
}

func (h *rankHeap) less(a, b rankItem) bool { return a.before(b) }

func (h *rankHeap) len() int { return len(h.items) }

func (h *rankHeap) init() {
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *rankHeap) push(it rankItem) {
	h.items = append(h.items, it)
	h.up(len(h.items) - 1)
}

func (h *rankHeap) pop() rankItem {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	if last > 0 {
		h.down(0)
	}
	return top
}

func (h *rankHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(h.items[i], h.items[parent]) {
			return
		}
		h.items[i], h.items[parent] = h.items[parent], h.items[i]
		i = parent
	}
}

func (h *rankHeap) down(i int) {
	n := len(h.items)
	for {
		best := i
		if l := 2*i + 1; l < n && h.less(h.items[l], h.items[best]) {
			best = l
		}
		if r := 2*i + 2; r < n && h.less(h.items[r], h.items[best]) {
			best = r
		}
		if best == i {
			return
		}
		h.items[i], h.items[best] = h.items[best], h.items[i]
		i = best
	}
}
