// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file computes plans for system and sysbatch jobs: one allocation of
// each task group on every node that may run it, instead of Count
// allocations on the best nodes. A node that joins (or becomes ready)
// gets its allocation from the next evaluation; a node that goes down or
// is drained loses its allocation, which is not replaced elsewhere.
//
// sysbatch is the batch variant: an allocation that ran to an end on a
// node (complete, failed, or stopped by a user) is not run there again
// until the job's tasks change. Nodes that never ran it get one while the
// job is not finished.
//
// When a node lacks room, lower-priority allocations on it are evicted
// (preempt.go) if the scheduler configuration enables preemption for the
// job's type, as it does by default for system jobs. Otherwise, or when
// evicting would not make room, the node is a placement failure, reported
// in the evaluation's FailedTGAllocs and retried by a blocked evaluation.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/droverhq/drover/structs"
)

// descNodeInfeasible is written on a system allocation whose node no
// longer meets the job's datacenters, node pool, drivers or constraints.
const descNodeInfeasible = "alloc not needed as node is no longer eligible for the job"

// groupNode names one task group on one node.
type groupNode struct{ group, node string }

// systemState is what a system job's allocations say, per group and node.
type systemState struct {
	stops []stopReq
	// live holds the wanted, unfinished allocations on nodes that keep
	// them (not down, gone or migrating), oldest first.
	live map[groupNode][]*structs.Allocation
	// done marks, for sysbatch, nodes where the group ran to an end under
	// the current tasks: nothing is placed there again.
	done map[groupNode]bool
	// previous is the newest terminal allocation per group and node: the
	// one a new placement there replaces.
	previous map[groupNode]*structs.Allocation
	// anyCurrent reports whether any allocation runs or ran the job's
	// current version (see finishedSysbatch).
	anyCurrent bool
}

// readSystemState sorts a system job's allocations into stops (removed
// groups, lost and migrating allocations) and what stays.
func readSystemState(job *structs.Job, allocs []*structs.Allocation, tainted map[string]*structs.Node) *systemState {
	st := &systemState{
		live:     map[groupNode][]*structs.Allocation{},
		done:     map[groupNode]bool{},
		previous: map[groupNode]*structs.Allocation{},
	}
	sysbatch := job.Type == structs.JobTypeSysbatch
	for _, a := range allocs {
		tg := job.LookupTaskGroup(a.TaskGroup)
		k := groupNode{a.TaskGroup, a.NodeID}
		if sameJobVersion(a.Job, job) {
			st.anyCurrent = true
		}
		if !isLive(a) {
			if tg == nil {
				continue
			}
			if p := st.previous[k]; p == nil || a.CreateIndex > p.CreateIndex {
				st.previous[k] = a
			}
			if sysbatch && ranToEnd(a, job, tg) {
				st.done[k] = true
			}
			continue
		}
		if tg == nil {
			st.stops = append(st.stops, stopReq{alloc: a, desc: descNotNeeded})
			continue
		}
		if n, ok := tainted[a.NodeID]; ok {
			switch {
			case n == nil || n.Status == structs.NodeStatusDown:
				st.stops = append(st.stops, stopReq{alloc: a, desc: descLost, clientStatus: structs.AllocClientStatusLost})
				continue
			case a.DesiredTransition.ShouldMigrate():
				st.stops = append(st.stops, stopReq{alloc: a, desc: descMigrating})
				continue
			}
		} else if a.DesiredTransition.ShouldMigrate() {
			// `alloc stop` on a node that keeps working: as in Nomad,
			// a system allocation cannot move elsewhere, so it is
			// stopped and, the node no longer holding a live one, a
			// new one is placed there that replaces it.
			st.stops = append(st.stops, stopReq{alloc: a, desc: descMigrating})
			st.previous[k] = a
			continue
		}
		st.live[k] = append(st.live[k], a)
	}
	for _, as := range st.live {
		slices.SortFunc(as, compareByIndex)
	}
	slices.SortFunc(st.stops, func(x, y stopReq) int {
		return strings.Compare(x.alloc.NodeID+x.alloc.ID, y.alloc.NodeID+y.alloc.ID)
	})
	return st
}

// ranToEnd reports whether a terminal sysbatch allocation means its node
// is done with the group: it finished (or was stopped by a user) under the
// current registration of the job and the same tasks. Lost allocations
// did not get to finish.
func ranToEnd(a *structs.Allocation, job *structs.Job, tg *structs.TaskGroup) bool {
	if a.ClientStatus == structs.AllocClientStatusLost || a.Job == nil || !sameJobInstance(a.Job, job) {
		return false
	}
	return sameJobVersion(a.Job, job) || !tasksUpdated(a.Job, a.Job.LookupTaskGroup(tg.Name), job, tg)
}

// finishedSysbatch reports whether eval must not start a sysbatch job on
// nodes that never ran it: a node-update evaluation of a job whose current
// version has allocations, none of them live, arrives after the job ran
// to completion everywhere it could.
func finishedSysbatch(eval *structs.Evaluation, job *structs.Job, st *systemState) bool {
	return job.Type == structs.JobTypeSysbatch && eval.TriggeredBy == structs.EvalTriggerNodeUpdate &&
		st.anyCurrent && len(st.live) == 0
}

// computeSystemPlan fills at, already holding the plan header, with the
// plan for a system or sysbatch job.
func (s *genericScheduler) computeSystemPlan(eval *structs.Evaluation, state State, cj *compiledJob, allocs []*structs.Allocation, tainted map[string]*structs.Node, at *attempt) (*attempt, error) {
	job := cj.job
	now := s.now()
	p, err := newPlacer(state, cj, eval.ID, now)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	st := readSystemState(job, allocs, tainted)
	finished := finishedSysbatch(eval, job, st)
	stops := st.stops
	var inplace []*structs.Allocation
	place := map[string][]systemPlace{} // group → placements, by node ID
	noneFeasible := map[string]*structs.AllocMetric{}

	for _, tg := range job.TaskGroups {
		cg := cj.groups[tg.Name]
		name := structs.AllocName(job.ID, tg.Name, 0)
		hasLive := map[string]bool{}
		for _, node := range sortedNodes(st.live, tg.Name) {
			as := st.live[groupNode{tg.Name, node}]
			hasLive[node] = true
			// One per node: the oldest stays.
			for _, dup := range as[1:] {
				stops = append(stops, stopReq{alloc: dup, desc: descNotNeeded})
			}
			a := as[0]
			n := p.node(node)
			switch {
			case !cj.stillFeasible(cg, n):
				stops = append(stops, stopReq{alloc: a, desc: descNodeInfeasible})
			case sameJobVersion(a.Job, job):
			case !tasksUpdated(a.Job, a.Job.LookupTaskGroup(tg.Name), job, tg):
				inplace = append(inplace, a)
			case n.Ready():
				// Replaced on the same node. Nodes that take no new
				// work (ineligible) keep the old version until they
				// take work again.
				stops = append(stops, stopReq{alloc: a, desc: descUpdating})
				place[tg.Name] = append(place[tg.Name], systemPlace{node: p.byID[node], req: placeReq{group: tg.Name, name: name, previous: a}})
			}
		}
		if finished {
			continue
		}
		var groupFiltered map[string]int
		feasible := len(hasLive)
		for _, i := range p.eligible {
			n := p.nodes[i].node
			k := groupNode{tg.Name, n.ID}
			if hasLive[n.ID] {
				continue // counted feasible above; its allocation stays
			}
			if ok, key := cg.checkGroup(n); !ok {
				// Not a failure: the node is simply not one of the job's.
				if groupFiltered == nil {
					groupFiltered = map[string]int{}
				}
				groupFiltered[key]++
				continue
			}
			feasible++
			if st.done[k] || n.DrainStrategy != nil {
				continue // a draining node takes nothing new, whatever its eligibility says
			}
			place[tg.Name] = append(place[tg.Name], systemPlace{node: i, req: placeReq{group: tg.Name, name: name, previous: st.previous[k]}})
		}
		if feasible == 0 && p.nodesEvaluated > 0 {
			// No node may run the group at all: as Nomad does, the
			// evaluation says which constraints excluded them (a
			// warning, not a wait: nodes that join bring their own
			// evaluation).
			noneFeasible[tg.Name] = p.filterMetric(groupFiltered)
		}
	}

	stopped := make(map[string]bool, len(stops))
	for _, sr := range stops {
		stopped[sr.alloc.ID] = true
		at.plan.AppendStoppedAlloc(sr.alloc, sr.desc, sr.clientStatus)
	}
	at.stops = len(stops)
	p.setExisting(allocs, stopped)

	for _, a := range inplace {
		updated := a.Copy()
		updated.Job = job
		updated.EvalID = eval.ID
		updated.ModifyTime = now.UnixNano()
		at.plan.AppendAlloc(updated)
	}
	at.inplace = len(inplace)

	for _, tg := range job.TaskGroups {
		at.queued[tg.Name] = 0
		reqs := place[tg.Name]
		slices.SortFunc(reqs, func(x, y systemPlace) int { return strings.Compare(p.nodes[x.node].node.ID, p.nodes[y.node].node.ID) })
		var failed *structs.AllocMetric
		for _, sp := range reqs {
			a, m, err := p.placeOnNode(cj.groups[tg.Name], sp, now)
			if err != nil {
				return nil, fmt.Errorf("place group %q on node %s: %w", tg.Name, p.nodes[sp.node].node.ID, err)
			}
			switch {
			case a != nil:
				at.plan.AppendAlloc(a)
				at.placed[a.ID] = tg.Name
			case m != nil:
				at.queued[tg.Name]++
				if failed == nil {
					failed = m
				} else {
					mergeFailure(failed, m)
				}
			}
		}
		if failed != nil {
			at.failed[tg.Name] = failed
		} else if m := noneFeasible[tg.Name]; m != nil {
			at.failed[tg.Name] = m
		}
	}
	appendEvictions(at.plan, p.preemption.victims)
	at.stops += len(p.preemption.victims)
	return at, nil
}

// filterMetric is the metric of a group no node may run: the nodes
// evaluated, and those the job's and then the group's constraints
// (groupFiltered, by constraint) excluded.
func (p *placer) filterMetric(groupFiltered map[string]int) *structs.AllocMetric {
	mt := p.jobMetric()
	for k, v := range groupFiltered {
		mt.filterN(k, v)
	}
	return mt.snapshot()
}

// systemPlace is one allocation to place on a given node (an index into
// the placer's nodes).
type systemPlace struct {
	node int
	req  placeReq
}

// sortedNodes returns the IDs of the nodes holding live allocations of
// group, in order, so plans come out the same every time.
func sortedNodes(live map[groupNode][]*structs.Allocation, group string) []string {
	var out []string
	for k := range live {
		if k.group == group {
			out = append(out, k.node)
		}
	}
	slices.Sort(out)
	return out
}

// placeOnNode places sp on its node. It returns the allocation, or, when
// the node lacks room, no allocation and the failure's metric; nodes a
// distinct_property constraint excludes return neither (like constraint
// filtered ones, they are not the job's). With preemption enabled, a node
// without room gets it by evicting lower-priority allocations.
func (p *placer) placeOnNode(cg *compiledGroup, sp systemPlace, now time.Time) (*structs.Allocation, *structs.AllocMetric, error) {
	start := time.Now()
	i := sp.node
	ns := &p.nodes[i]
	m := &structs.AllocMetric{
		NodesEvaluated: 1,
		NodesInPool:    p.nodesInPool,
		NodePool:       jobPool(p.cj.job),
		NodesAvailable: p.nodesAvailable,
	}
	if ok, _ := p.distinctOK(cg, i); !ok {
		return nil, nil, nil
	}
	if err := p.load(i); err != nil {
		return nil, nil, err
	}
	ok, dim, err := p.fitsGroup(cg, i)
	if err != nil {
		return nil, nil, err
	}
	var victims []preemptible
	if !ok && p.preempt {
		if victims, ok, err = p.victimsOn(cg, i); err != nil {
			return nil, nil, err
		}
	}
	if !ok {
		m.ExhaustedNode(dim)
		if ns.node.NodeClass != "" {
			m.ClassExhausted = map[string]int{ns.node.NodeClass: 1}
		}
		m.AllocationTime = time.Since(start)
		return nil, m, nil
	}
	s := p.score(cg, i)
	m.Scores = &structs.PlacementScores{NodeID: ns.node.ID, Binpack: s.binpack, JobAntiAffinity: s.antiAff,
		ReschedulePenalty: s.penalty, Normalized: s.sum() / p.components(cg)}
	p.makeRoom(i, victims)
	alloc := p.newAlloc(cg, sp.req, ns.node, m, now.UnixNano())
	p.recordEvictions(victims, alloc)
	ns.used.Add(cg.ask)
	p.count(cg, i)
	m.AllocationTime = time.Since(start)
	return alloc, nil, nil
}

// mergeFailure folds the failure metric m of one more node into into, the
// group's first: the evaluation reports one metric per group, with the
// other failed placements coalesced into it.
func mergeFailure(into, m *structs.AllocMetric) {
	into.CoalescedFailures++
	into.NodesEvaluated += m.NodesEvaluated
	into.NodesExhausted += m.NodesExhausted
	into.DimensionExhausted = addCounts(into.DimensionExhausted, m.DimensionExhausted)
	into.ClassExhausted = addCounts(into.ClassExhausted, m.ClassExhausted)
	into.AllocationTime += m.AllocationTime
}

func addCounts(into, m map[string]int) map[string]int {
	if len(m) == 0 {
		return into
	}
	if into == nil {
		into = make(map[string]int, len(m))
	}
	for k, v := range m {
		into[k] += v
	}
	return into
}
