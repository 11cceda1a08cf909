// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file gives tasks that ask `resources { cores = N }` their exclusive
// cores. A group fits a node only when the node has that many reservable
// cores that no live allocation holds (nor an earlier placement of this
// plan), and when the cores, counted at the node's clock per core, fit its
// free CPU. The placement records the chosen cores and their MHz on each
// task (AllocatedTaskResources.Cpu).
//
// Which cores a node has given away is read lazily, once per node per plan
// attempt and only for groups that ask for cores, from the node's live
// allocations less the ones this plan stops, as ports.go does for ports.
// Allocations this plan evicts give their cores back. The plan applier
// re-checks the result against the newest state (structs.CoreUsage is
// shared with it).
//
// Preemption does not look at cores: it may evict for CPU and memory on a
// node whose cores stay taken, and then the placement has no cores and the
// plan applier refuses it.

import (
	"fmt"

	"github.com/droverhq/drover/structs"
)

// coreState is the placer's core bookkeeping for one plan attempt.
type coreState struct {
	nodes map[int]*nodeCores // by node index, loaded on first use
}

// nodeCores is one node's taken cores, and who holds them, so that an
// allocation evicted later in the plan frees its cores.
type nodeCores struct {
	usage *structs.CoreUsage
	held  map[string]*structs.Allocation // live holders by allocation ID
}

// groupCores is how many cores the tasks of tg ask for together.
func groupCores(tg *structs.TaskGroup) int {
	n := 0
	for _, t := range tg.Tasks {
		if t.Resources != nil && t.Resources.Cores > 0 {
			n += t.Resources.Cores
		}
	}
	return n
}

// fitsCores reports whether one more allocation of cg finds its cores on
// node i, and room in the node's CPU for them; if not, the exhausted
// dimension ("cores" or "cpu").
func (p *placer) fitsCores(cg *compiledGroup, i int) (bool, string, error) {
	need := groupCores(cg.tg)
	if need == 0 {
		return true, "", nil
	}
	nc, err := p.nodeCores(i)
	if err != nil {
		return false, "", err
	}
	if len(nc.usage.Free()) < need {
		return false, structs.DimensionCores, nil
	}
	ns := &p.nodes[i]
	free := ns.capacity.CPU - ns.used.CPU - cg.ask.CPU
	if free < int64(need)*ns.node.MHzPerCore() {
		return false, "cpu", nil
	}
	return true, "", nil
}

// nodeCores returns the core usage of node i, reading it on first use and
// releasing the cores of allocations evicted since.
func (p *placer) nodeCores(i int) (*nodeCores, error) {
	cs := &p.ports.cores
	nc, ok := cs.nodes[i]
	if !ok {
		n := p.nodes[i].node
		allocs, err := p.state.AllocsByNode(n.ID)
		if err != nil {
			return nil, fmt.Errorf("read allocations of node %s: %w", n.ID, err)
		}
		nc = &nodeCores{usage: structs.NewCoreUsage(n), held: map[string]*structs.Allocation{}}
		for _, a := range allocs {
			if isLive(a) && !p.ports.stopped[a.ID] && len(structs.AllocReservedCores(a.AllocatedResources)) > 0 {
				nc.usage.AddAlloc(a) // an old collision is not ours to refuse
				nc.held[a.ID] = a
			}
		}
		if cs.nodes == nil {
			cs.nodes = map[int]*nodeCores{}
		}
		cs.nodes[i] = nc
	}
	for id, a := range nc.held {
		if p.preemption.evicted[id] {
			nc.usage.ReleaseAlloc(a)
			delete(nc.held, id)
		}
	}
	return nc, nil
}

// assignCores gives each task of alloc, just placed on node, that asks
// for cores its own free cores (lowest first) and their MHz, and marks
// them taken for the rest of the plan. The node was checked by fitsGroup
// for this very placement; if the cores are short anyway (a placement made
// by preemption), the tasks keep none and the plan applier refuses it.
func (p *placer) assignCores(cg *compiledGroup, node *structs.Node, alloc *structs.Allocation) {
	need := groupCores(cg.tg)
	if need == 0 {
		return
	}
	i, ok := p.byID[node.ID]
	if !ok {
		return
	}
	nc, err := p.nodeCores(i)
	if err != nil {
		return // the plan applier refuses a placement without its cores
	}
	free := nc.usage.Free()
	if len(free) < need {
		return
	}
	mhz := node.MHzPerCore()
	for _, t := range cg.tg.Tasks {
		tr := alloc.AllocatedResources.Tasks[t.Name]
		if t.Resources == nil || t.Resources.Cores <= 0 || tr == nil {
			continue
		}
		n := t.Resources.Cores
		tr.Cpu.ReservedCores = append([]uint16(nil), free[:n]...)
		tr.Cpu.CpuShares = int64(n) * mhz
		free = free[n:]
	}
	nc.usage.AddAlloc(alloc)
	nc.held[alloc.ID] = alloc
	// The group's ask counts no CPU for its cores tasks (they ask none):
	// the placer adds the ask, this adds the cores' MHz.
	p.nodes[i].used.CPU += int64(need) * mhz
}
