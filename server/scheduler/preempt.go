// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"fmt"
	"sort"

	"github.com/droverhq/drover/structs"
)

// Preemption: when a group of a job fits nowhere, the scheduler may evict
// allocations of clearly lower-priority jobs from one node to make room,
// as Nomad does. "Clearly lower" is a priority at least
// preemptionPriorityDelta below the placing job's, so jobs of similar
// importance never evict each other back and forth. The evicted
// allocations get desired status "evict"; their jobs are evaluated again
// so they are placed elsewhere, or wait blocked until capacity appears.

// preemptionPriorityDelta is how much lower a job's priority must be for
// its allocations to be preemptible.
const preemptionPriorityDelta = 10

// preemptible is a live allocation on a node that could be evicted.
type preemptible struct {
	alloc    *structs.Allocation
	priority int
	res      structs.ComparableResources
}

// selectVictims chooses allocations to evict so that ask fits into free
// (the node's capacity minus everything on it, possibly negative). It
// prefers the lowest priorities and, among equal priorities, allocations
// that cover more of what is missing, then drops any chosen allocation the
// placement turns out not to need. It returns nil, false when evicting
// every preemptible allocation would still not be enough.
func selectVictims(free, ask structs.ComparableResources, cands []preemptible, jobPriority int) ([]preemptible, bool) {
	if ok, _ := free.Superset(ask); ok {
		return nil, true
	}
	eligible := make([]preemptible, 0, len(cands))
	for _, c := range cands {
		if c.priority <= jobPriority-preemptionPriorityDelta {
			eligible = append(eligible, c)
		}
	}
	if len(eligible) == 0 {
		return nil, false
	}
	missing := shortfall(free, ask)
	sort.SliceStable(eligible, func(i, j int) bool {
		a, b := eligible[i], eligible[j]
		if a.priority != b.priority {
			return a.priority < b.priority
		}
		ca, cb := coverage(a.res, missing), coverage(b.res, missing)
		if ca != cb {
			return ca > cb
		}
		return a.alloc.ID < b.alloc.ID
	})
	var chosen []preemptible
	avail := free
	for _, c := range eligible {
		if ok, _ := avail.Superset(ask); ok {
			break
		}
		chosen = append(chosen, c)
		avail.Add(c.res)
	}
	if ok, _ := avail.Superset(ask); !ok {
		return nil, false
	}
	// Greedy choice may take more than needed (an early small allocation
	// made redundant by a later large one): drop, highest priority first,
	// every victim whose eviction the placement does not need.
	for i := len(chosen) - 1; i >= 0; i-- {
		without := avail
		without.CPU -= chosen[i].res.CPU
		without.MemoryMB -= chosen[i].res.MemoryMB
		without.DiskMB -= chosen[i].res.DiskMB
		if ok, _ := without.Superset(ask); ok {
			avail = without
			chosen = append(chosen[:i], chosen[i+1:]...)
		}
	}
	return chosen, true
}

// shortfall is how much of each dimension ask lacks in free.
func shortfall(free, ask structs.ComparableResources) structs.ComparableResources {
	pos := func(v int64) int64 { return max(v, 0) }
	return structs.ComparableResources{
		CPU:      pos(ask.CPU - free.CPU),
		MemoryMB: pos(ask.MemoryMB - free.MemoryMB),
		DiskMB:   pos(ask.DiskMB - free.DiskMB),
	}
}

// coverage scores how much of missing evicting res would recover: the
// sum over the short dimensions of the covered fraction (0..1 each).
func coverage(res, missing structs.ComparableResources) float64 {
	frac := func(have, need int64) float64 {
		if need <= 0 {
			return 0
		}
		return float64(min(have, need)) / float64(need)
	}
	return frac(res.CPU, missing.CPU) + frac(res.MemoryMB, missing.MemoryMB) + frac(res.DiskMB, missing.DiskMB)
}

// netPriority summarises what evicting victims costs, for choosing between
// nodes: the highest evicted priority first, then how many are evicted.
func netPriority(victims []preemptible) (maxPriority, count int) {
	for _, v := range victims {
		maxPriority = max(maxPriority, v.priority)
	}
	return maxPriority, len(victims)
}

// preemptionState is the placer's preemption bookkeeping for one plan
// attempt.
type preemptionState struct {
	evicted    map[string]bool         // allocation IDs this plan evicts
	victims    []*structs.Allocation   // their evicted copies, for the plan
	priorities map[[2]string]int       // job (namespace, ID) → priority
	candidates map[int][]preemptible   // live allocations by node index, read once
	hopeless   map[*compiledGroup]bool // a full scan found no node: do not scan again
}

// descPreempted is the desired description of an evicted allocation.
const descPreempted = "Preempted by alloc ID "

// preemptibleOn lists node i's live allocations of other jobs that this
// plan neither stops nor already evicts.
func (p *placer) preemptibleOn(i int) ([]preemptible, error) {
	ps := &p.preemption
	all, ok := ps.candidates[i]
	if !ok {
		allocs, err := p.state.AllocsByNode(p.nodes[i].node.ID)
		if err != nil {
			return nil, fmt.Errorf("read allocations of node %s: %w", p.nodes[i].node.ID, err)
		}
		for _, a := range allocs {
			if !isLive(a) || p.ports.stopped[a.ID] || (a.Namespace == p.cj.job.Namespace && a.JobID == p.cj.job.ID) {
				continue
			}
			prio, err := p.priorityOf(a)
			if err != nil {
				return nil, err
			}
			all = append(all, preemptible{alloc: a, priority: prio, res: a.AllocatedResources.Comparable()})
		}
		if ps.candidates == nil {
			ps.candidates = map[int][]preemptible{}
		}
		ps.candidates[i] = all
	}
	out := make([]preemptible, 0, len(all))
	for _, c := range all {
		if !ps.evicted[c.alloc.ID] {
			out = append(out, c)
		}
	}
	return out, nil
}

// priorityOf is the priority of a's job. An allocation whose job is gone
// (purged while it still runs) is the first to go.
func (p *placer) priorityOf(a *structs.Allocation) (int, error) {
	if a.Job != nil {
		return a.Job.Priority, nil
	}
	key := [2]string{a.Namespace, a.JobID}
	if prio, ok := p.preemption.priorities[key]; ok {
		return prio, nil
	}
	job, err := p.state.JobByID(a.Namespace, a.JobID)
	if err != nil {
		return 0, fmt.Errorf("read job %q of allocation %s: %w", a.JobID, a.ID, err)
	}
	prio := 0
	if job != nil {
		prio = job.Priority
	}
	if p.preemption.priorities == nil {
		p.preemption.priorities = map[[2]string]int{}
	}
	p.preemption.priorities[key] = prio
	return prio, nil
}

// victimsOn chooses what to evict from node i so that one more allocation
// of cg fits, resources and ports; ok is false when nothing would do.
// Nothing is changed: makeRoom does that.
func (p *placer) victimsOn(cg *compiledGroup, i int) ([]preemptible, bool, error) {
	if err := p.load(i); err != nil {
		return nil, false, err
	}
	ns := &p.nodes[i]
	free := ns.capacity
	free.CPU -= ns.used.CPU
	free.MemoryMB -= ns.used.MemoryMB
	free.DiskMB -= ns.used.DiskMB
	cands, err := p.preemptibleOn(i)
	if err != nil {
		return nil, false, err
	}
	// Holders of the static ports the group needs must go whatever the
	// resources say; the rest are chosen for resources.
	holders, rest, ok := staticPortHolders(cg.tg, cands, p.cj.job.Priority)
	if !ok {
		return nil, false, nil
	}
	for _, h := range holders {
		free.Add(h.res)
	}
	// Reserved cores take their MHz from the node's CPU on top of the ask.
	ask := cg.ask
	need := groupCores(cg.tg)
	ask.CPU += int64(need) * ns.node.MHzPerCore()
	victims, ok := selectVictims(free, ask, rest, p.cj.job.Priority)
	victims = append(holders, victims...)
	if ok && need > 0 {
		if victims, ok, err = p.withCoreHolders(i, need, victims, rest); err != nil {
			return nil, false, err
		}
	}
	if !ok || len(victims) == 0 || !wantsPorts(cg.tg) {
		return victims, ok && len(victims) > 0, nil
	}
	// Ports: try the placement with the victims' ports released, then
	// put them back.
	u, err := p.portUsage(i)
	if err != nil || u == nil {
		return nil, false, err
	}
	for _, v := range victims {
		u.ReleaseAlloc(v.alloc)
	}
	_, dim, err := p.pickPorts(cg, i, 0)
	for _, v := range victims {
		u.AddAlloc(v.alloc)
	}
	if err != nil || dim != "" {
		return nil, false, err
	}
	return victims, true, nil
}

// withCoreHolders adds to victims, lowest priority first, allocations of
// rest holding reserved cores until need cores would be free on node i.
// ok is false when even that is not enough.
func (p *placer) withCoreHolders(i, need int, victims, rest []preemptible) ([]preemptible, bool, error) {
	nc, err := p.nodeCores(i)
	if err != nil {
		return nil, false, err
	}
	chosen := make(map[string]bool, len(victims))
	free := len(nc.usage.Free())
	for _, v := range victims {
		chosen[v.alloc.ID] = true
		if _, held := nc.held[v.alloc.ID]; held {
			free += len(structs.AllocReservedCores(v.alloc.AllocatedResources))
		}
	}
	if free >= need {
		return victims, true, nil
	}
	var holders []preemptible
	for _, c := range rest {
		if _, held := nc.held[c.alloc.ID]; held && !chosen[c.alloc.ID] && c.priority <= p.cj.job.Priority-preemptionPriorityDelta {
			holders = append(holders, c)
		}
	}
	sort.SliceStable(holders, func(a, b int) bool { return holders[a].priority < holders[b].priority })
	for _, h := range holders {
		if free >= need {
			break
		}
		victims = append(victims, h)
		free += len(structs.AllocReservedCores(h.alloc.AllocatedResources))
	}
	return victims, free >= need, nil
}

// staticPortHolders splits cands into the allocations holding a static
// port tg asks for and the others. ok is false when a holder may not be
// evicted (its priority is too close). Ports are compared by number only,
// whatever the address: at worst one allocation more is evicted.
func staticPortHolders(tg *structs.TaskGroup, cands []preemptible, jobPriority int) (holders, rest []preemptible, ok bool) {
	static := map[int]bool{}
	add := func(nets []*structs.NetworkResource) {
		for _, n := range nets {
			if n == nil {
				continue
			}
			for _, port := range n.ReservedPorts {
				if port.Value > 0 {
					static[port.Value] = true
				}
			}
		}
	}
	add(tg.Networks)
	for _, t := range tg.Tasks {
		if t.Resources != nil {
			add(t.Resources.Networks)
		}
	}
	if len(static) == 0 {
		return nil, cands, true
	}
	for _, c := range cands {
		holds := false
		for _, hp := range structs.AllocHostPorts(c.alloc.AllocatedResources) {
			if static[hp.Value] && !hp.IgnoreCollision {
				holds = true
				break
			}
		}
		switch {
		case !holds:
			rest = append(rest, c)
		case c.priority > jobPriority-preemptionPriorityDelta:
			return nil, nil, false
		default:
			holders = append(holders, c)
		}
	}
	return holders, rest, true
}

// makeRoom evicts victims from node i: their resources and ports become
// free for the placement that follows.
func (p *placer) makeRoom(i int, victims []preemptible) {
	ns := &p.nodes[i]
	u := p.ports.nodes[i]
	if p.preemption.evicted == nil {
		p.preemption.evicted = map[string]bool{}
	}
	for _, v := range victims {
		ns.used.CPU -= v.res.CPU
		ns.used.MemoryMB -= v.res.MemoryMB
		ns.used.DiskMB -= v.res.DiskMB
		p.preemption.evicted[v.alloc.ID] = true
		if u != nil {
			u.ReleaseAlloc(v.alloc)
		}
	}
}

// recordEvictions adds the evictions that made room for alloc to the
// placer's victims and names them on alloc, as Nomad does.
func (p *placer) recordEvictions(victims []preemptible, alloc *structs.Allocation) {
	for _, v := range victims {
		e := v.alloc.Copy()
		e.DesiredStatus = structs.AllocDesiredStatusEvict
		e.DesiredDescription = descPreempted + alloc.ID
		e.PreemptedByAllocation = alloc.ID
		p.preemption.victims = append(p.preemption.victims, e)
		alloc.PreemptedAllocations = append(alloc.PreemptedAllocations, v.alloc.ID)
	}
}

// preemptionNode finds, among cands, the node where evicting the least
// important allocations makes room for one more allocation of cg: the
// lowest highest-evicted priority, then the fewest evictions, then the
// best score. It returns -1 when no node would do.
func (p *placer) preemptionNode(cg *compiledGroup, cands []int32) (int, []preemptible, error) {
	if p.preemption.hopeless[cg] {
		return -1, nil, nil
	}
	best, bestPrio, bestCount, bestScore := -1, 0, 0, 0.0
	var bestVictims []preemptible
	for _, i32 := range cands {
		i := int(i32)
		if ok, _ := p.distinctOK(cg, i); !ok {
			continue
		}
		victims, ok, err := p.victimsOn(cg, i)
		if err != nil {
			return -1, nil, err
		}
		if !ok {
			continue
		}
		prio, count := netPriority(victims)
		score := p.score(cg, i).sum()
		if best < 0 || prio < bestPrio || (prio == bestPrio && (count < bestCount || (count == bestCount && score > bestScore))) {
			best, bestPrio, bestCount, bestScore, bestVictims = i, prio, count, score, victims
		}
	}
	if best < 0 {
		if p.preemption.hopeless == nil {
			p.preemption.hopeless = map[*compiledGroup]bool{}
		}
		// Evictions only shrink what is left to evict: a later
		// placement of the group would find nothing either.
		p.preemption.hopeless[cg] = true
	}
	return best, bestVictims, nil
}

// appendEvictions adds the placer's evictions to plan, by node.
func appendEvictions(plan *structs.Plan, victims []*structs.Allocation) {
	if len(victims) == 0 {
		return
	}
	if plan.NodeUpdate == nil {
		plan.NodeUpdate = map[string][]*structs.Allocation{}
	}
	for _, v := range victims {
		plan.NodeUpdate[v.NodeID] = append(plan.NodeUpdate[v.NodeID], v)
	}
}

// preemptedJobEvals are the evaluations that place the evicted
// allocations of each job again (or block until there is room): one per
// job, with the job's priority, for the evictions the applier committed.
func preemptedJobEvals(state State, result *structs.PlanResult, evalID string, now int64) ([]*structs.Evaluation, error) {
	seen := map[[2]string]bool{}
	var out []*structs.Evaluation
	nodes := make([]string, 0, len(result.NodeUpdate))
	for n := range result.NodeUpdate {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		for _, a := range result.NodeUpdate[n] {
			key := [2]string{a.Namespace, a.JobID}
			if a.DesiredStatus != structs.AllocDesiredStatusEvict || a.PreemptedByAllocation == "" || seen[key] {
				continue
			}
			seen[key] = true
			job, err := state.JobByID(a.Namespace, a.JobID)
			if err != nil {
				return nil, fmt.Errorf("read job %q of preempted allocation %s: %w", a.JobID, a.ID, err)
			}
			if job == nil || job.Stopped() {
				continue
			}
			out = append(out, &structs.Evaluation{
				ID:             structs.GenerateUUID(),
				Namespace:      job.Namespace,
				Priority:       job.Priority,
				Type:           job.Type,
				TriggeredBy:    structs.EvalTriggerPreemption,
				JobID:          job.ID,
				JobModifyIndex: job.JobModifyIndex,
				Status:         structs.EvalStatusPending,
				PreviousEval:   evalID,
				CreateTime:     now,
				ModifyTime:     now,
			})
		}
	}
	return out, nil
}
