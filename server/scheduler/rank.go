// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file chooses nodes for new allocations. A placer is built once per
// plan attempt: it lists nodes once, applies the node-level filters once per
// node and the group-level filters once per node and group, and loads each
// candidate node's used resources once. Within a group every feasible node
// sits in a max-heap by score; a placement only changes the score of the
// node it lands on, so each placement costs O(log nodes) instead of a rescan.
//
// Score of a node for an allocation of group g (higher is better):
//
//	binpack   = (20 - (10^freeCPU + 10^freeMem)) / 18
//	antiAff   = min(1, allocsOfGOnNode / g.Count)
//	penalty   = 0.2 if an allocation of the job failed on the node in the last hour
//	score     = binpack - antiAff - penalty
//
// freeCPU and freeMem are the fractions of the node's capacity still free
// after the placement (0..1). binpack is 1 for a node the allocation fills
// exactly and 0 for an empty, infinitely large one; the powers of ten make a
// node that is nearly full in both dimensions beat one that is full in only
// one. Ties go to the lowest node ID, so the same input gives the same plan.

import (
	"math"
	"time"

	"github.com/droverhq/drover/structs"
)

// Scoring knobs; see the file comment.
const (
	reschedulePenalty   = 0.2
	recentFailureWindow = time.Hour
)

// nodeState is what the placer knows of one node.
type nodeState struct {
	node          *structs.Node
	capacity      structs.ComparableResources
	used          structs.ComparableResources
	loaded        bool  // used has been read from state
	jobAllocs     int32 // live allocations of the job, this plan included
	recentFailure bool
}

// placer chooses nodes for one job during one plan attempt.
type placer struct {
	state  State
	cj     *compiledJob
	evalID string
	now    time.Time

	nodes    []nodeState
	byID     map[string]int
	eligible []int // ready, in the job's datacenters and pool, passing job constraints

	// Metric fields shared by every group of the job.
	nodesEvaluated int
	nodesInPool    int
	nodesAvailable map[string]int
	jobFiltered    map[string]int // job-level constraint filters

	freed       map[string]structs.ComparableResources // resources this plan's stops free, by node ID
	groupCounts map[string][]int32                     // live allocations per group and node index
	propCounts  map[*constraint]map[string]int         // distinct_property uses per value
}

// newPlacer lists the nodes and applies the job-level filters.
func newPlacer(state State, cj *compiledJob, evalID string, now time.Time) (*placer, error) {
	nodes, err := state.Nodes()
	if err != nil {
		return nil, err
	}
	p := &placer{
		state:          state,
		cj:             cj,
		evalID:         evalID,
		now:            now,
		nodes:          make([]nodeState, len(nodes)),
		byID:           make(map[string]int, len(nodes)),
		nodesAvailable: map[string]int{},
		freed:          map[string]structs.ComparableResources{},
		groupCounts:    map[string][]int32{},
		propCounts:     map[*constraint]map[string]int{},
	}
	pool := jobPool(cj.job)
	for i, n := range nodes {
		p.nodes[i] = nodeState{node: n, capacity: n.Comparable()}
		p.byID[n.ID] = i
		if !n.Ready() || !inPool(pool, n) {
			continue
		}
		p.nodesInPool++
		if !inDatacenters(cj.job.Datacenters, n.Datacenter) {
			continue
		}
		p.nodesAvailable[n.Datacenter]++
		p.nodesEvaluated++
		if ok, key := cj.checkJob(n); !ok {
			if p.jobFiltered == nil {
				p.jobFiltered = map[string]int{}
			}
			p.jobFiltered[key]++
			continue
		}
		p.eligible = append(p.eligible, i)
	}
	return p, nil
}

// node returns the node with id, or nil.
func (p *placer) node(id string) *structs.Node {
	if i, ok := p.byID[id]; ok {
		return p.nodes[i].node
	}
	return nil
}

// setExisting records the job's allocations that stay (live and not in
// stopped) for the distinct and anti-affinity counts, the resources that
// the stops free, and nodes where the job failed recently. It must run
// before the first placement.
func (p *placer) setExisting(allocs []*structs.Allocation, stopped map[string]bool) {
	for _, a := range allocs {
		i, ok := p.byID[a.NodeID]
		if !ok {
			continue
		}
		if a.ClientStatus == structs.AllocClientStatusFailed && p.now.Sub(time.Unix(0, a.ModifyTime)) < recentFailureWindow {
			p.nodes[i].recentFailure = true
		}
		if !isLive(a) {
			continue
		}
		if stopped[a.ID] {
			f := p.freed[a.NodeID]
			f.Add(a.AllocatedResources.Comparable())
			p.freed[a.NodeID] = f
			continue
		}
		p.count(p.cj.groups[a.TaskGroup], i)
	}
}

// count records one more live allocation of cg (nil for a group no longer
// in the job) on node i.
func (p *placer) count(cg *compiledGroup, i int) {
	ns := &p.nodes[i]
	ns.jobAllocs++
	for _, c := range p.cj.distinct {
		p.countProperty(c, ns.node)
	}
	if cg == nil {
		return
	}
	p.groupCountsOf(cg.tg.Name)[i]++
	for _, c := range cg.distinct {
		p.countProperty(c, ns.node)
	}
}

func (p *placer) countProperty(c *constraint, n *structs.Node) {
	if c.op != opDistinctProp {
		return
	}
	v, ok := c.l.resolve(n)
	if !ok {
		return
	}
	m := p.propCounts[c]
	if m == nil {
		m = map[string]int{}
		p.propCounts[c] = m
	}
	m[v]++
}

func (p *placer) groupCountsOf(name string) []int32 {
	gc := p.groupCounts[name]
	if gc == nil {
		gc = make([]int32, len(p.nodes))
		p.groupCounts[name] = gc
	}
	return gc
}

// load reads node i's used resources from state once.
func (p *placer) load(i int) error {
	ns := &p.nodes[i]
	if ns.loaded {
		return nil
	}
	allocs, err := p.state.AllocsByNode(ns.node.ID)
	if err != nil {
		return err
	}
	var used structs.ComparableResources
	for _, a := range allocs {
		if isLive(a) {
			used.Add(a.AllocatedResources.Comparable())
		}
	}
	if f, ok := p.freed[ns.node.ID]; ok {
		used.CPU -= f.CPU
		used.MemoryMB -= f.MemoryMB
		used.DiskMB -= f.DiskMB
	}
	ns.used, ns.loaded = used, true
	return nil
}

// fits reports whether ask fits node i, or the exhausted dimension.
func (p *placer) fits(i int, ask structs.ComparableResources) (bool, string) {
	ns := &p.nodes[i]
	avail := ns.capacity
	avail.CPU -= ns.used.CPU
	avail.MemoryMB -= ns.used.MemoryMB
	avail.DiskMB -= ns.used.DiskMB
	return avail.Superset(ask)
}

// distinctOK checks the distinct_hosts and distinct_property constraints
// of the job and of cg on node i.
func (p *placer) distinctOK(cg *compiledGroup, i int) (bool, string) {
	ns := &p.nodes[i]
	for _, c := range p.cj.distinct {
		if !p.distinctOne(c, ns.jobAllocs, ns.node) {
			return false, c.key
		}
	}
	for _, c := range cg.distinct {
		if !p.distinctOne(c, p.groupCountsOf(cg.tg.Name)[i], ns.node) {
			return false, c.key
		}
	}
	return true, ""
}

func (p *placer) distinctOne(c *constraint, onNode int32, n *structs.Node) bool {
	if c.op == opDistinctHosts {
		return onNode == 0
	}
	v, ok := c.l.resolve(n)
	if !ok {
		return false
	}
	return p.propCounts[c][v] < c.limit
}

// score rates node i for one more allocation of cg; see the file comment.
func (p *placer) score(cg *compiledGroup, i int) (binpack, total float64) {
	ns := &p.nodes[i]
	freeCPU := freeFraction(ns.capacity.CPU, ns.used.CPU+cg.ask.CPU)
	freeMem := freeFraction(ns.capacity.MemoryMB, ns.used.MemoryMB+cg.ask.MemoryMB)
	binpack = (20 - (math.Pow(10, freeCPU) + math.Pow(10, freeMem))) / 18
	total = binpack
	if c := p.groupCountsOf(cg.tg.Name)[i]; c > 0 {
		total -= min(1, float64(c)/float64(max(cg.tg.Count, 1)))
	}
	if ns.recentFailure {
		total -= reschedulePenalty
	}
	return binpack, total
}

func freeFraction(capacity, used int64) float64 {
	if capacity <= 0 {
		return 0
	}
	f := 1 - float64(used)/float64(capacity)
	return min(1, max(0, f))
}

// placeGroup places reqs, allocations of cg, one at a time on the best
// node. It returns the new allocations and, when some could not be placed,
// the metric of the first failure and how many failed.
func (p *placer) placeGroup(cg *compiledGroup, reqs []placeReq) ([]*structs.Allocation, *structs.AllocMetric, int, error) {
	if len(reqs) == 0 {
		return nil, nil, 0, nil
	}
	mt := &metricTracker{m: structs.AllocMetric{
		NodesEvaluated: p.nodesEvaluated,
		NodesInPool:    p.nodesInPool,
		NodePool:       jobPool(p.cj.job),
		NodesAvailable: p.nodesAvailable,
	}}
	for k, v := range p.jobFiltered {
		mt.filterN(k, v)
	}
	h := &rankHeap{nodes: p.nodes, items: make([]rankItem, 0, len(p.eligible))}
	for _, i := range p.eligible {
		n := p.nodes[i].node
		if ok, key := cg.checkGroup(n); !ok {
			mt.filterN(key, 1)
			continue
		}
		if ok, key := p.distinctOK(cg, i); !ok {
			mt.filterN(key, 1)
			continue
		}
		if err := p.load(i); err != nil {
			return nil, nil, 0, err
		}
		if ok, dim := p.fits(i, cg.ask); !ok {
			mt.exhaust(dim)
			continue
		}
		_, s := p.score(cg, i)
		h.items = append(h.items, rankItem{score: s, idx: int32(i)})
	}
	h.init()

	placed := make([]*structs.Allocation, 0, len(reqs))
	nowNano := p.now.UnixNano()
	for r, req := range reqs {
		start := time.Now()
		chosen := -1
		for h.len() > 0 {
			i := int(h.pop().idx)
			if ok, key := p.distinctOK(cg, i); !ok {
				mt.filterN(key, 1)
				continue
			}
			chosen = i
			break
		}
		if chosen < 0 {
			m := mt.snapshot()
			m.AllocationTime = time.Since(start)
			m.CoalescedFailures = len(reqs) - r - 1
			return placed, m, len(reqs) - r, nil
		}
		ns := &p.nodes[chosen]
		binpack, total := p.score(cg, chosen)
		m := mt.snapshot()
		m.Scores = map[string]float64{
			ns.node.ID + ".binpack":          binpack,
			ns.node.ID + ".normalized-score": total,
		}
		alloc := &structs.Allocation{
			ID:                 structs.GenerateUUID(),
			Namespace:          p.cj.job.Namespace,
			EvalID:             p.evalID,
			Name:               req.name,
			NodeID:             ns.node.ID,
			NodeName:           ns.node.Name,
			JobID:              p.cj.job.ID,
			Job:                p.cj.job,
			TaskGroup:          cg.tg.Name,
			AllocatedResources: allocatedResources(cg.tg),
			Metrics:            m,
			DesiredStatus:      structs.AllocDesiredStatusRun,
			ClientStatus:       structs.AllocClientStatusPending,
			CreateTime:         nowNano,
			ModifyTime:         nowNano,
		}
		if req.previous != nil {
			alloc.PreviousAllocation = req.previous.ID
		}
		placed = append(placed, alloc)

		ns.used.Add(cg.ask)
		p.count(cg, chosen)
		if ok, dim := p.fits(chosen, cg.ask); ok {
			_, s := p.score(cg, chosen)
			h.push(rankItem{score: s, idx: int32(chosen)})
		} else {
			mt.exhaust(dim)
		}
		m.AllocationTime = time.Since(start)
	}
	return placed, nil, 0, nil
}

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

// rankItem is a node in the ranking heap.
type rankItem struct {
	score float64
	idx   int32
}

// rankHeap is a max-heap of nodes by score, ties to the lowest node ID. It
// is hand-rolled to avoid container/heap's interface boxing per operation.
type rankHeap struct {
	items []rankItem
	nodes []nodeState
}

func (h *rankHeap) less(a, b rankItem) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return h.nodes[a.idx].node.ID < h.nodes[b.idx].node.ID
}

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
