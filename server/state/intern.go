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
	"slices"
	"strings"
	"sync"

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

// maxInterned bounds each table of a stringTable. Past it the table starts
// over: values already shared stay shared, and a table never pins the
// strings of allocations long gone (evaluation IDs keep coming).
const maxInterned = 1 << 16

// stringTable shares the strings and small Details maps that allocations
// repeat, one copy each instead of one per allocation: node IDs and names
// (a node runs hundreds of allocations, placed by different plans),
// namespaces, job IDs, group and task names, statuses, and what clients
// report in task states, whose events carry the same types, messages and
// details for every allocation. Each decoded raft request holds its own
// copies, so without this a million allocations hold a million copies.
type stringTable struct {
	mu      sync.Mutex
	strs    map[string]string
	details map[string]map[string]string
}

func newStringTable() *stringTable {
	return &stringTable{strs: map[string]string{}, details: map[string]map[string]string{}}
}

// str returns the shared copy of v.
func (t *stringTable) str(v string) string {
	if v == "" {
		return v
	}
	if s, ok := t.strs[v]; ok {
		return s
	}
	if len(t.strs) >= maxInterned {
		clear(t.strs)
	}
	t.strs[v] = v
	return v
}

// detailsMap returns a shared map equal to m. Only small maps are shared
// (events carry a handful of details); an empty map stays empty, not nil,
// since the API shows `{}` and `null` differently.
func (t *stringTable) detailsMap(m map[string]string) map[string]string {
	if m == nil || len(m) > 4 {
		return m
	}
	keys := slices.Sorted(maps.Keys(m))
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(m[k])
		b.WriteByte(0)
	}
	key := b.String()
	if shared, ok := t.details[key]; ok {
		return shared
	}
	if len(t.details) >= maxInterned {
		clear(t.details)
	}
	shared := make(map[string]string, len(m))
	for k, v := range m {
		shared[t.str(k)] = t.str(v)
	}
	t.details[key] = shared
	return shared
}

// alloc points alloc's repeated strings at shared copies. alloc must be
// owned by the caller (a copy about to be stored); its task states are
// replaced by interned copies, leaving the originals untouched.
func (t *stringTable) alloc(a *structs.Allocation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a.Namespace = t.str(a.Namespace)
	a.EvalID = t.str(a.EvalID)
	a.NodeID = t.str(a.NodeID)
	a.NodeName = t.str(a.NodeName)
	a.JobID = t.str(a.JobID)
	a.TaskGroup = t.str(a.TaskGroup)
	a.DesiredStatus = t.str(a.DesiredStatus)
	a.DesiredDescription = t.str(a.DesiredDescription)
	a.ClientStatus = t.str(a.ClientStatus)
	a.ClientDescription = t.str(a.ClientDescription)
	a.TaskStates = t.taskStates(a.TaskStates)
}

// clientState sets what the client reports (status, description and task
// states) on alloc, which the caller owns, from update, which it does not.
func (t *stringTable) clientState(a, update *structs.Allocation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a.ClientStatus = t.str(update.ClientStatus)
	a.ClientDescription = t.str(update.ClientDescription)
	a.TaskStates = t.taskStates(update.TaskStates)
}

// taskStates returns a copy of states whose strings and details maps are
// shared. Events are copied shallowly: their details maps are replaced by
// shared ones, never written.
func (t *stringTable) taskStates(states map[string]*structs.TaskState) map[string]*structs.TaskState {
	if states == nil {
		return nil
	}
	out := make(map[string]*structs.TaskState, len(states))
	for name, ts := range states {
		if ts == nil {
			out[t.str(name)] = nil
			continue
		}
		c := *ts
		c.State = t.str(ts.State)
		if ts.Events != nil {
			c.Events = make([]*structs.TaskEvent, len(ts.Events))
		}
		for i, e := range ts.Events {
			if e == nil {
				continue
			}
			ec := *e
			ec.Type = t.str(e.Type)
			ec.DisplayMessage = t.str(e.DisplayMessage)
			ec.Message = t.str(e.Message)
			ec.RestartReason = t.str(e.RestartReason)
			ec.DriverError = t.str(e.DriverError)
			ec.KillReason = t.str(e.KillReason)
			ec.Details = t.detailsMap(e.Details)
			c.Events[i] = &ec
		}
		out[t.str(name)] = &c
	}
	return out
}
