// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file chooses nodes for new allocations. A placer is built once per
// plan attempt: it lists nodes once, applies the node-level filters once per
// node and the group-level filters once per node and group, and loads each
// candidate node's used resources once.
//
// Score of a node for one more allocation of group g. Each component is
// one of Nomad's, in Nomad's range:
//
//	binpack   = (20 - (10^freeCPU + 10^freeMem)) / 18              0..1
//	antiAff   = -min(1, allocsOfGOnNode / g.Count)                 -1..0
//	penalty   = -1 if an allocation of the job failed on the node
//	            in the last hour, else 0
//	affinity  = Σ weights of matching affinities / Σ |weights|    -1..1
//	spread    = Σ weight·boost / Σ weight over g's spreads         -1..1
//	            (see spread.go)
//	normalized-score = (binpack + antiAff + penalty + affinity + spread) / n
//
// n counts the components that apply to the group: binpack and antiAff
// always, penalty when some node of the job has a recent failure, affinity
// when g has affinities, spread when it has spreads. Nomad averages the
// components that are non-zero on each node instead; doing so per node
// would make a node's first allocation of g (which adds a tiny antiAff)
// drop its average, so big groups would spread over empty nodes instead of
// packing. With one n per group, ranking by the average is ranking by the
// sum, and the sum splits into a node part (binpack, antiAff, penalty,
// affinity), which changes only when a placement lands on the node, and
// the spread part, which changes for every node sharing a value.
//
// freeCPU and freeMem are the fractions of the node's capacity still free
// after the placement (0..1). binpack is 1 for a node the allocation fills
// exactly and 0 for an empty, infinitely large one; the powers of ten make a
// node that is nearly full in both dimensions beat one that is full in only
// one.
//
// Candidate order and ties: when a group has more than rankWindow
// candidates, each evaluation shuffles them with a generator seeded by the
// evaluation ID and group name, and equal scores go to the node drawn
// first. The same evaluation of the same state gives the same plan, but two
// evaluations planned at once from the same snapshot (two scheduler
// workers) do not pile onto the same nodes, where the plan applier would
// refuse one of them and send it back for a fresh attempt; a fixed order
// made two workers slower than one. Up to rankWindow candidates, which two
// workers share whatever the order, are ranked in node ID order with ties
// to the lowest ID.
//
// Bounded window: without spreads or affinities, a placement is chosen
// among rankWindow candidates drawn from that order rather than among all
// of them (Nomad scores a bounded sample of feasible nodes likewise). A
// node leaves the window when it no longer fits or a distinct constraint
// excludes it, and the next drawn candidate takes its place, so only the
// nodes drawn are ever loaded and scored. Groups with spreads or
// affinities rank every candidate: their score depends on the whole set.
//
// Ranking without recomputing every node per placement: the feasible nodes
// are split into buckets of nodes with the same spread slots (one bucket
// when g has no spread). Within a bucket the spread part is the same for
// all nodes, so each bucket keeps its nodes in a max-heap by node part.
// Choosing a node looks at the top of each bucket and adds the bucket's
// spread score (O(spreads) from the per-slot counts): O(buckets) per
// placement, plus O(log nodes) to put the chosen node back with its new
// node part. Counts per slot are bumped by each placement in the plan, so
// nothing is ever recounted. With 12 racks that is 12 heap tops per
// placement instead of Nomad's rescoring of every node (which also counts
// allocations per value for each of them). Spreading over a value unique
// per node (node ID) degrades to one bucket per node: O(nodes) per
// placement, still without recounting.

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/droverhq/drover/structs"
)

// Scoring knobs; see the file comment.
const (
	reschedulePenalty   = 1
	recentFailureWindow = time.Hour
	// rankWindow bounds the candidates a placement without spreads or
	// affinities is chosen among (see the file comment). Clusters of up
	// to rankWindow feasible nodes are ranked exactly; on larger ones two
	// workers' windows rarely share the node they fill, and the best of
	// 64 random nodes still packs close to the best of all.
	rankWindow = 64
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
	byID     map[string]int // the node table's: shared, read-only
	eligible []int          // ready, in the job's datacenters and pool, passing job constraints

	// Metric fields shared by every group of the job.
	nodesEvaluated int
	nodesInPool    int
	nodesAvailable map[string]int
	jobFiltered    map[string]int // job-level constraint filters

	anyRecentFailure bool // some node has recentFailure: the penalty component applies

	freed       map[string]structs.ComparableResources // resources this plan's stops free, by node ID
	groupCounts map[string][]int32                     // live allocations per group and node index
	propCounts  map[*constraint]map[string]int         // distinct_property uses per value

	ports      portState       // host ports per node, read lazily (ports.go)
	preemption preemptionState // evictions of this plan (preempt.go)

	// The operator's scheduler configuration as it applies to the job's
	// pool (see readSchedulerConfig).
	algorithm     string // binpack or spread
	oversubscribe bool   // memory_max is honoured
	preempt       bool   // lower-priority allocations may be evicted
}

// readSchedulerConfig reads the operator's scheduler configuration, with
// the job's node pool's overrides, once per plan attempt.
func (p *placer) readSchedulerConfig() error {
	cfg, err := p.state.SchedulerConfig()
	if err != nil {
		return fmt.Errorf("read scheduler configuration: %w", err)
	}
	var pool *structs.NodePool
	if pools, ok := p.state.(interface {
		NodePoolByName(string) (*structs.NodePool, error)
	}); ok {
		if pool, err = pools.NodePoolByName(jobPool(p.cj.job)); err != nil {
			return fmt.Errorf("read node pool %q: %w", jobPool(p.cj.job), err)
		}
	}
	p.algorithm = cfg.Algorithm(pool)
	p.oversubscribe = cfg.MemoryOversubscription(pool)
	p.preempt = cfg.PreemptionEnabled(p.cj.job.Type)
	return nil
}

// newPlacer lists the nodes and applies the job-level filters.
func newPlacer(state State, cj *compiledJob, evalID string, now time.Time) (*placer, error) {
	table, err := nodeTable(state)
	if err != nil {
		return nil, err
	}
	nodes := table.Nodes
	p := &placer{
		state:          state,
		cj:             cj,
		evalID:         evalID,
		now:            now,
		nodes:          make([]nodeState, len(nodes)),
		byID:           table.ByID,
		nodesAvailable: map[string]int{},
		freed:          map[string]structs.ComparableResources{},
		groupCounts:    map[string][]int32{},
		propCounts:     map[*constraint]map[string]int{},
	}
	if err := p.readSchedulerConfig(); err != nil {
		return nil, err
	}
	pool := jobPool(cj.job)
	for i, n := range nodes {
		p.nodes[i] = nodeState{node: n, capacity: table.Capacity[i]}
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
	p.ports.stopped = stopped
	for _, a := range allocs {
		i, ok := p.byID[a.NodeID]
		if !ok {
			continue
		}
		if a.ClientStatus == structs.AllocClientStatusFailed && p.now.Sub(time.Unix(0, a.ModifyTime)) < recentFailureWindow {
			p.nodes[i].recentFailure = true
			p.anyRecentFailure = true
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
	used, err := p.state.NodeUsage(ns.node.ID)
	if err != nil {
		return err
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

// nodeScore is the node part of a node's score for one more allocation of
// a group; see the file comment.
type nodeScore struct {
	binpack, antiAff, penalty, affinity float64
}

func (s nodeScore) sum() float64 { return s.binpack + s.antiAff + s.penalty + s.affinity }

// score rates node i for one more allocation of cg; see the file comment.
func (p *placer) score(cg *compiledGroup, i int) nodeScore {
	ns := &p.nodes[i]
	freeCPU := freeFraction(ns.capacity.CPU, ns.used.CPU+cg.ask.CPU)
	freeMem := freeFraction(ns.capacity.MemoryMB, ns.used.MemoryMB+cg.ask.MemoryMB)
	s := nodeScore{binpack: (20 - (math.Pow(10, freeCPU) + math.Pow(10, freeMem))) / 18}
	if p.algorithm == structs.SchedulerAlgorithmSpread {
		// spread inverts the fit: an empty node scores 1, a node the
		// allocation fills exactly 0, so the least loaded node wins.
		s.binpack = (math.Pow(10, freeCPU) + math.Pow(10, freeMem) - 2) / 18
	}
	if c := p.groupCountsOf(cg.tg.Name)[i]; c > 0 {
		s.antiAff = -min(1, float64(c)/float64(max(cg.tg.Count, 1)))
	}
	if ns.recentFailure {
		s.penalty = -reschedulePenalty
	}
	if len(cg.affinities) > 0 {
		s.affinity = cg.affinityScore(ns.node)
	}
	return s
}

// components is n of the file comment for cg.
func (p *placer) components(cg *compiledGroup) float64 {
	n := 2.0
	if p.anyRecentFailure {
		n++
	}
	if len(cg.affinities) > 0 {
		n++
	}
	if len(cg.spreads) > 0 {
		n++
	}
	return n
}

func freeFraction(capacity, used int64) float64 {
	if capacity <= 0 {
		return 0
	}
	f := 1 - float64(used)/float64(capacity)
	return min(1, max(0, f))
}

// ranking holds a group's candidate nodes in buckets of equal spread
// slots, each a max-heap by node part; see the file comment. Candidates
// enter from order, drawn at random, while fewer than window are ranked.
type ranking struct {
	p      *placer
	cg     *compiledGroup
	mt     *metricTracker
	spread *spreadState // nil when the group has no spread
	heaps  []rankHeap   // by bucket
	active []int32      // buckets that may still hold nodes

	order  []int32 // candidates; order[:drawn] have been drawn
	drawn  int
	rng    *rand.Rand // nil: order is by node ID
	tie    []int32    // draw position by node index, for nodes drawn
	window int        // most nodes ranked at once
	size   int        // nodes in the heaps
}

func newRanking(p *placer, cg *compiledGroup, spread *spreadState, cands []int32, mt *metricTracker) *ranking {
	r := &ranking{p: p, cg: cg, mt: mt, spread: spread, order: slices.Clone(cands), window: len(cands)}
	if spread == nil && len(cg.affinities) == 0 {
		r.window = min(r.window, rankWindow)
	}
	if len(cands) > rankWindow {
		h := fnv.New64a()
		h.Write([]byte(p.evalID))
		h.Write([]byte{0})
		h.Write([]byte(cg.tg.Name))
		seed := h.Sum64()
		r.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	} else {
		slices.SortFunc(r.order, func(a, b int32) int { return strings.Compare(p.nodes[a].node.ID, p.nodes[b].node.ID) })
	}
	r.tie = make([]int32, len(p.nodes))
	nb := 1
	if spread != nil {
		nb = len(spread.buckets)
	}
	r.heaps = make([]rankHeap, nb)
	return r
}

func (r *ranking) bucket(i int) int32 {
	if r.spread == nil {
		return 0
	}
	return r.spread.nodeBucket[i]
}

// draw returns the next candidate, in a random order (a lazy Fisher-Yates
// shuffle) when rng is set and in node ID order otherwise, or -1 when all
// have been drawn.
func (r *ranking) draw() int {
	if r.drawn == len(r.order) {
		return -1
	}
	if r.rng != nil {
		k := r.drawn + r.rng.IntN(len(r.order)-r.drawn)
		r.order[r.drawn], r.order[k] = r.order[k], r.order[r.drawn]
	}
	i := int(r.order[r.drawn])
	r.tie[i] = int32(r.drawn)
	r.drawn++
	return i
}

// fill draws candidates until window nodes are ranked or none is left.
// A candidate that a distinct constraint excludes or that the group does
// not fit is counted in the metric and not ranked.
func (r *ranking) fill() error {
	for r.size < r.window {
		i := r.draw()
		if i < 0 {
			return nil
		}
		if ok, key := r.p.distinctOK(r.cg, i); !ok {
			r.mt.filterN(key, 1)
			continue
		}
		if err := r.p.load(i); err != nil {
			return err
		}
		ok, dim, err := r.p.fitsGroup(r.cg, i)
		if err != nil {
			return err
		}
		if !ok {
			r.mt.exhaust(dim)
			continue
		}
		r.push(i)
	}
	return nil
}

// push ranks node i, drawn before, with its current node part.
func (r *ranking) push(i int) {
	b := r.bucket(i)
	h := &r.heaps[b]
	if h.len() == 0 {
		r.active = append(r.active, b)
	}
	h.push(rankItem{score: r.p.score(r.cg, i).sum(), idx: int32(i), tie: r.tie[i]})
	r.size++
}

// next removes and returns the best node for one more allocation with
// its spread score, drawing more candidates as ranked ones drop out, or
// -1 when no candidate is left.
func (r *ranking) next() (int, float64, error) {
	for {
		if err := r.fill(); err != nil {
			return -1, 0, err
		}
		if i, spread := r.best(); i >= 0 || r.drawn == len(r.order) {
			return i, spread, nil
		}
	}
}

// best removes and returns the best ranked node with its spread score, or
// -1 when none is ranked. Nodes that distinct constraints now exclude are
// dropped and counted in the metric.
func (r *ranking) best() (int, float64) {
	bestB := int32(-1)
	var bestItem rankItem
	var bestSpread float64
	for k := 0; k < len(r.active); {
		b := r.active[k]
		h := &r.heaps[b]
		for h.len() > 0 {
			ok, key := r.p.distinctOK(r.cg, int(h.items[0].idx))
			if ok {
				break
			}
			h.pop()
			r.size--
			r.mt.filterN(key, 1)
		}
		if h.len() == 0 {
			r.active[k] = r.active[len(r.active)-1]
			r.active = r.active[:len(r.active)-1]
			continue
		}
		k++
		top := h.items[0]
		var spread float64
		if r.spread != nil {
			spread = r.spread.score(b)
		}
		top.score += spread
		if bestB < 0 || top.before(bestItem) {
			bestB, bestItem, bestSpread = b, top, spread
		}
	}
	if bestB < 0 {
		return -1, 0
	}
	r.heaps[bestB].pop()
	r.size--
	return int(bestItem.idx), bestSpread
}

// jobMetric starts a group's placement metric with what the job shares:
// the nodes evaluated, and those the job's own constraints filtered.
func (p *placer) jobMetric() *metricTracker {
	mt := &metricTracker{m: structs.AllocMetric{
		NodesEvaluated: p.nodesEvaluated,
		NodesInPool:    p.nodesInPool,
		NodePool:       jobPool(p.cj.job),
		NodesAvailable: p.nodesAvailable,
	}}
	for k, v := range p.jobFiltered {
		mt.filterN(k, v)
	}
	return mt
}

// placeGroup places reqs, allocations of cg, one at a time on the best
// node. It returns the new allocations and, when some could not be placed,
// the metric of the first failure and how many failed.
func (p *placer) placeGroup(cg *compiledGroup, reqs []placeReq) ([]*structs.Allocation, *structs.AllocMetric, int, error) {
	if len(reqs) == 0 {
		return nil, nil, 0, nil
	}
	mt := p.jobMetric()
	cands := make([]int32, 0, len(p.eligible))
	for _, i := range p.eligible {
		if ok, key := cg.checkGroup(p.nodes[i].node); !ok {
			mt.filterN(key, 1)
			continue
		}
		cands = append(cands, int32(i))
	}
	groupCounts := p.groupCountsOf(cg.tg.Name)
	var spread *spreadState
	if len(cg.spreads) > 0 {
		spread = newSpreadState(p, cg, cands, groupCounts)
	}
	r := newRanking(p, cg, spread, cands, mt)
	n := p.components(cg)

	placed := make([]*structs.Allocation, 0, len(reqs))
	nowNano := p.now.UnixNano()
	for k, req := range reqs {
		start := time.Now()
		chosen, spreadScore, err := r.next()
		if err != nil {
			return nil, nil, 0, err
		}
		var victims []preemptible
		if chosen < 0 && p.preempt {
			if chosen, victims, err = p.preemptionNode(cg, cands); err != nil {
				return nil, nil, 0, err
			}
			spreadScore = 0
		}
		if chosen < 0 {
			m := mt.snapshot()
			m.AllocationTime = time.Since(start)
			m.CoalescedFailures = len(reqs) - k - 1
			return placed, m, len(reqs) - k, nil
		}
		ns := &p.nodes[chosen]
		s := p.score(cg, chosen)
		m := mt.snapshot()
		m.Scores = &structs.PlacementScores{
			NodeID:            ns.node.ID,
			Binpack:           s.binpack,
			JobAntiAffinity:   s.antiAff,
			ReschedulePenalty: s.penalty,
			Normalized:        (s.sum() + spreadScore) / n,
			Affinity:          s.affinity,
			HasAffinity:       len(cg.affinities) > 0,
			Spread:            spreadScore,
			HasSpread:         spread != nil,
		}
		p.makeRoom(chosen, victims)
		alloc := p.newAlloc(cg, req, ns.node, m, nowNano)
		p.recordEvictions(victims, alloc)
		placed = append(placed, alloc)

		ns.used.Add(cg.ask)
		p.count(cg, chosen)
		if spread != nil {
			spread.add(chosen, 1)
		}
		if ok, dim, err := p.fitsGroup(cg, chosen); err != nil {
			return nil, nil, 0, err
		} else if ok {
			r.push(chosen)
		} else {
			mt.exhaust(dim)
		}
		m.AllocationTime = time.Since(start)
	}
	return placed, nil, 0, nil
}

// newAlloc is the allocation req becomes on node, with its placement
// metric m.
func (p *placer) newAlloc(cg *compiledGroup, req placeReq, node *structs.Node, m *structs.AllocMetric, nowNano int64) *structs.Allocation {
	alloc := &structs.Allocation{
		ID:                 structs.GenerateUUID(),
		Namespace:          p.cj.job.Namespace,
		EvalID:             p.evalID,
		Name:               req.name,
		NodeID:             node.ID,
		NodeName:           node.Name,
		JobID:              p.cj.job.ID,
		Job:                p.cj.job,
		TaskGroup:          cg.tg.Name,
		AllocatedResources: allocatedResources(cg.tg, p.oversubscribe),
		Metrics:            m,
		DesiredStatus:      structs.AllocDesiredStatusRun,
		ClientStatus:       structs.AllocClientStatusPending,
		CreateTime:         nowNano,
		ModifyTime:         nowNano,
	}
	p.assignPorts(cg, node, alloc)
	p.assignCores(cg, node, alloc)
	if req.previous != nil {
		alloc.PreviousAllocation = req.previous.ID
		if req.reschedule {
			alloc.RescheduleTracker = newRescheduleTracker(cg.tg.ReschedulePolicy, req.previous, p.now, req.delay)
		}
	}
	return alloc
}
