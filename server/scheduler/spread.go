// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file scores nodes for a group's spread blocks without the cost that
// makes spread jobs slow in Nomad, which recounts the allocations per
// attribute value for every candidate node at every placement.
//
// Here each spread's attribute is resolved once per node and mapped to a
// slot: with targets, one slot per listed value plus one shared by every
// value not listed (the implicit "*" target); without targets, one slot per
// value present among the group's feasible nodes. Allocations per slot are
// counted once from the existing allocations and then bumped by one per
// placement. A node's spread score is a function of its slots' counts
// alone, so nodes with the same slots (a "bucket", see rank.go) share it
// and it costs O(spreads) to compute, whatever the cluster size.
//
// Desired counts are exact fractions of the group's count: percent/100 ×
// count for a target, (100 − Σ percent)/100 × count shared by the values
// not listed, count/values for an even spread. A slot may take a placement
// while it is under the floor of its desired count; a slot whose desired
// count is fractional may take one more (up to the ceiling), but only as
// many such slots as the fractions add up to. Then
//
//	boost = (desired − count) / desired    when the slot may take one (0..1]
//	boost = −1                             otherwise, or for a node without
//	                                       the attribute or a 0 % value
//
// and the spread score of a node is Σ weight·boost / Σ weight over the
// group's spreads (−1..1). The gap of more than 1 between a slot that may
// take a placement and one that may not is larger than any difference in
// bin-packing score, so with one spread the targets are met exactly (to the
// nearest allocation) whenever the nodes have room; affinities, anti-
// affinity and other spreads can still outweigh it, as the user asked.

import (
	"encoding/binary"
	"fmt"

	"github.com/droverhq/drover/structs"
)

// spreadRestValue is the target value that stands for every value not
// listed, as in Nomad's implicit target.
const spreadRestValue = "*"

// compiledSpread is one spread block, validated.
type compiledSpread struct {
	attr    target
	weight  float64
	values  []string       // listed values in the job's order; nil for an even spread
	targets map[string]int // percent per listed value; nil for an even spread
	rest    int            // percent shared by values not listed
}

func compileSpread(s *structs.Spread) (*compiledSpread, error) {
	if s.Attribute == "" {
		return nil, fmt.Errorf("spread: attribute is required")
	}
	cs := &compiledSpread{attr: parseTarget(s.Attribute), weight: float64(s.Weight)}
	if cs.weight == 0 {
		cs.weight = defaultPreferenceWeight
	}
	if cs.weight < 0 || cs.weight > 100 {
		return nil, fmt.Errorf("spread %q: weight %d is outside 0..100", s.Attribute, s.Weight)
	}
	if len(s.SpreadTarget) == 0 {
		return cs, nil
	}
	cs.targets = make(map[string]int, len(s.SpreadTarget))
	sum, explicitRest := 0, false
	for _, t := range s.SpreadTarget {
		if t == nil {
			continue
		}
		if _, dup := cs.targets[t.Value]; dup || explicitRest && t.Value == spreadRestValue {
			return nil, fmt.Errorf("spread %q: target %q listed twice", s.Attribute, t.Value)
		}
		sum += int(t.Percent)
		if t.Value == spreadRestValue {
			explicitRest, cs.rest = true, int(t.Percent)
			continue
		}
		cs.targets[t.Value] = int(t.Percent)
		cs.values = append(cs.values, t.Value)
	}
	if sum > 100 {
		return nil, fmt.Errorf("spread %q: target percentages add up to %d, more than 100", s.Attribute, sum)
	}
	if !explicitRest {
		cs.rest = 100 - sum
	}
	return cs, nil
}

// spreadDim is one spread's counting state during one group's placement.
type spreadDim struct {
	cs     *compiledSpread
	slotOf map[string]int32 // value → slot
	rest   int32            // slot of values not listed, -1 if none
	// Per slot: desired count num/den, its floor, and the count so far.
	num, floor, count []int64
	den               int64
	// extra is how many slots may go one above their floor (the sum of
	// the fractional parts of the desired counts); overFloor is how many do.
	extra, overFloor int64
}

// spreadState is the spread bookkeeping of one group during one placement
// run: slots per spread, node → bucket, and each bucket's slots.
type spreadState struct {
	dims       []*spreadDim
	weightSum  float64
	nodeBucket []int32   // by node index; -1 when not assigned
	buckets    [][]int32 // bucket → slot per dim
	byKey      map[string]int32
	key        []byte
}

// newSpreadState builds the spread state of cg. cands are the group's
// feasible nodes (their values make the slots of an even spread), and
// groupCounts its live allocations per node, counted toward their slots.
func newSpreadState(p *placer, cg *compiledGroup, cands []int32, groupCounts []int32) *spreadState {
	st := &spreadState{nodeBucket: make([]int32, len(p.nodes)), byKey: map[string]int32{}}
	for i := range st.nodeBucket {
		st.nodeBucket[i] = -1
	}
	for _, cs := range cg.spreads {
		d := &spreadDim{cs: cs, slotOf: map[string]int32{}, rest: -1}
		if cs.targets != nil {
			d.den = 100
			for _, v := range cs.values {
				d.slotOf[v] = d.addSlot(int64(cs.targets[v]))
			}
			if cs.rest > 0 {
				d.rest = d.addSlot(int64(cs.rest))
			}
		}
		st.dims = append(st.dims, d)
		st.weightSum += cs.weight
	}
	// Even spreads: one slot per value among the feasible nodes and the
	// nodes already running the group.
	for _, i := range cands {
		st.discover(p.nodes[i].node)
	}
	for i, c := range groupCounts {
		if c > 0 {
			st.discover(p.nodes[i].node)
		}
	}
	count := int64(max(cg.tg.Count, 0))
	for _, d := range st.dims {
		if d.cs.targets == nil {
			d.den = max(int64(len(d.num)), 1)
			for s := range d.num {
				d.num[s] = 1
			}
		}
		d.extra = count
		for s := range d.num {
			d.num[s] *= count
			d.floor[s] = d.num[s] / d.den
			d.extra -= d.floor[s]
		}
		d.extra = max(d.extra, 0)
	}
	for _, i := range cands {
		st.assign(p, int(i))
	}
	for i, c := range groupCounts {
		if c > 0 {
			st.assign(p, i)
			st.add(i, int64(c))
		}
	}
	return st
}

// addSlot appends a slot wanting share parts of count (per d.den).
func (d *spreadDim) addSlot(share int64) int32 {
	d.num = append(d.num, share)
	d.floor = append(d.floor, 0)
	d.count = append(d.count, 0)
	return int32(len(d.num) - 1)
}

// discover gives each even spread a slot for n's value.
func (st *spreadState) discover(n *structs.Node) {
	for _, d := range st.dims {
		if d.cs.targets != nil {
			continue
		}
		if v, ok := d.cs.attr.resolve(n); ok {
			if _, seen := d.slotOf[v]; !seen {
				d.slotOf[v] = d.addSlot(0)
			}
		}
	}
}

// slot is n's slot in d, or -1.
func (d *spreadDim) slot(n *structs.Node) int32 {
	v, ok := d.cs.attr.resolve(n)
	if !ok {
		return -1
	}
	if s, ok := d.slotOf[v]; ok {
		return s
	}
	return d.rest
}

// assign puts node i in the bucket of its slots, once.
func (st *spreadState) assign(p *placer, i int) int32 {
	if b := st.nodeBucket[i]; b >= 0 {
		return b
	}
	n := p.nodes[i].node
	st.key = st.key[:0]
	for _, d := range st.dims {
		st.key = binary.LittleEndian.AppendUint32(st.key, uint32(d.slot(n)))
	}
	b, ok := st.byKey[string(st.key)]
	if !ok {
		b = int32(len(st.buckets))
		slots := make([]int32, len(st.dims))
		for k := range st.dims {
			slots[k] = int32(binary.LittleEndian.Uint32(st.key[4*k:]))
		}
		st.buckets = append(st.buckets, slots)
		st.byKey[string(st.key)] = b
	}
	st.nodeBucket[i] = b
	return b
}

// add counts k more allocations of the group on node i.
func (st *spreadState) add(i int, k int64) {
	for dk, s := range st.buckets[st.nodeBucket[i]] {
		if s < 0 {
			continue
		}
		d := st.dims[dk]
		before := d.count[s] > d.floor[s]
		d.count[s] += k
		if !before && d.count[s] > d.floor[s] {
			d.overFloor++
		}
	}
}

// boost scores one more allocation in slot s; see the file comment.
func (d *spreadDim) boost(s int32) float64 {
	if s < 0 || d.num[s] == 0 {
		return -1
	}
	c, f := d.count[s], d.floor[s]
	fractional := d.num[s]%d.den != 0
	if c < f || c == f && fractional && d.overFloor < d.extra {
		want := float64(d.num[s]) / float64(d.den)
		return (want - float64(c)) / want
	}
	return -1
}

// score is the spread score of one more allocation on a node of bucket b.
func (st *spreadState) score(b int32) float64 {
	var sum float64
	for dk, s := range st.buckets[b] {
		d := st.dims[dk]
		sum += d.cs.weight * d.boost(s)
	}
	return sum / st.weightSum
}
