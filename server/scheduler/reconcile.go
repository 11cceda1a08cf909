// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file compares a job with its existing allocations and decides, per
// task group, what to stop, what to place and what to update. Of nodes it
// knows only the tainted ones its caller passes (down, gone or draining),
// whose allocations are lost or migrated: choosing nodes is the placer's
// job (rank.go), and when failed allocations are replaced is the
// rescheduling policy's (reschedule.go).

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/droverhq/drover/structs"
)

// Descriptions written on stopped allocations; the texts are Nomad's, which
// users and tools already know.
const (
	descNotNeeded = "alloc not needed due to job update"
	descUpdating  = "alloc is being updated due to job update"
	descLost      = "alloc is lost since its node is down"
	descMigrating = "alloc is being migrated"
)

// The stop descriptions a dry run (`job plan`) reads to tell an update or
// a migration from a plain stop.
const (
	StopDescUpdating  = descUpdating
	StopDescMigrating = descMigrating
)

// stopReq is an allocation to stop, with why.
type stopReq struct {
	alloc *structs.Allocation
	desc  string
	// clientStatus, when set, is written too: "lost" for allocations on
	// a node that is down, which will never report again.
	clientStatus string
}

// placeReq is an allocation to create.
type placeReq struct {
	group    string
	name     string
	index    int
	previous *structs.Allocation // the allocation it replaces, or nil
	// reschedule marks the replacement of a failed allocation: the new
	// allocation gets a RescheduleTracker with one more event, recording
	// delay.
	reschedule bool
	delay      time.Duration
}

// groupPlan is the reconciler's verdict for one task group.
type groupPlan struct {
	name  string
	count int
	place []placeReq
	// inplace holds live allocations of an older job version whose tasks
	// did not change: candidates for an in-place update, if their node still
	// suits the new job.
	inplace []*structs.Allocation
	// destructive holds live allocations of an older job version whose
	// tasks changed: each is stopped and replaced under the same name.
	destructive []*structs.Allocation
	// awaitingReschedule holds failed (and client-reported lost)
	// allocations that still own their name and have no replacement. The
	// rescheduling policy (reschedule.go) decides which are replaced now,
	// which later, and which never.
	awaitingReschedule []*structs.Allocation
}

// replacedBy reports, for each allocation of allocs that a later one
// replaced, that it was replaced. NextAllocation says so once the state
// store links them; PreviousAllocation says so from the replacement's side
// even on a snapshot taken before the link.
func replacedSet(allocs []*structs.Allocation) map[string]bool {
	out := map[string]bool{}
	for _, a := range allocs {
		if a.PreviousAllocation != "" {
			out[a.PreviousAllocation] = true
		}
		if a.NextAllocation != "" {
			out[a.ID] = true
		}
	}
	return out
}

// reconcileResult is the reconciler's verdict for a job.
type reconcileResult struct {
	stops  []stopReq
	groups []*groupPlan // in the job's group order
}

// isLive reports whether an allocation is wanted and not finished.
func isLive(a *structs.Allocation) bool { return !a.TerminalStatus() }

// reconcileStopped stops every live allocation of a stopped or purged job.
func reconcileStopped(allocs []*structs.Allocation) *reconcileResult {
	r := &reconcileResult{}
	for _, a := range allocs {
		if isLive(a) {
			r.stops = append(r.stops, stopReq{alloc: a, desc: descNotNeeded})
		}
	}
	return r
}

// reconcile decides per group of job what allocs should become. batch
// selects batch semantics: successfully completed allocations count as done.
// tainted maps the IDs of nodes that are down, gone (nil) or draining to
// the node: live allocations on a down or gone node are lost, and ones the
// drainer marked for migration on a draining node are migrated; both are
// stopped and replaced under the same name at once.
func reconcile(job *structs.Job, allocs []*structs.Allocation, batch bool, tainted map[string]*structs.Node) *reconcileResult {
	r := &reconcileResult{}
	live := map[string][]*structs.Allocation{}
	held := map[string][]*structs.Allocation{}
	awaiting := map[string][]*structs.Allocation{}
	moving := map[string]string{} // alloc ID → why it leaves its node (descLost, descMigrating)
	replaced := replacedSet(allocs)
	for _, a := range allocs {
		if !isLive(a) {
			if a.DesiredStatus != structs.AllocDesiredStatusRun {
				continue // stopped by the servers: owns nothing
			}
			switch {
			case batch && a.ClientStatus == structs.AllocClientStatusComplete && sameJobInstance(a.Job, job):
				held[a.TaskGroup] = append(held[a.TaskGroup], a)
			case (a.ClientStatus == structs.AllocClientStatusFailed || a.ClientStatus == structs.AllocClientStatusLost) && !replaced[a.ID]:
				held[a.TaskGroup] = append(held[a.TaskGroup], a)
				awaiting[a.TaskGroup] = append(awaiting[a.TaskGroup], a)
			}
			continue
		}
		if job.LookupTaskGroup(a.TaskGroup) == nil {
			r.stops = append(r.stops, stopReq{alloc: a, desc: descNotNeeded})
			continue
		}
		// A migrate mark is honoured on any node: the drainer sets it on
		// a draining node's allocations, `alloc stop` on any one.
		if n, ok := tainted[a.NodeID]; ok && (n == nil || n.Status == structs.NodeStatusDown) {
			moving[a.ID] = descLost
		} else if a.DesiredTransition.ShouldMigrate() {
			moving[a.ID] = descMigrating
		}
		live[a.TaskGroup] = append(live[a.TaskGroup], a)
	}
	// Stops of removed groups in a stable order.
	slices.SortFunc(r.stops, func(x, y stopReq) int { return strings.Compare(x.alloc.Name+x.alloc.ID, y.alloc.Name+y.alloc.ID) })

	for _, tg := range job.TaskGroups {
		gp := &groupPlan{name: tg.Name, count: tg.Count, awaitingReschedule: awaiting[tg.Name]}
		r.groups = append(r.groups, gp)
		groupLive := live[tg.Name]
		slices.SortFunc(groupLive, compareByIndex)

		used := map[int]bool{}
		for _, a := range held[tg.Name] {
			used[allocIndex(a.Name)] = true
		}
		keep := max(0, tg.Count-len(held[tg.Name]))
		if keep > len(groupLive) {
			keep = len(groupLive)
		}
		// Extras stop, highest index first.
		for i := len(groupLive) - 1; i >= keep; i-- {
			a := groupLive[i]
			st := stopReq{alloc: a, desc: descNotNeeded}
			if moving[a.ID] == descLost {
				st.clientStatus = structs.AllocClientStatusLost
			}
			r.stops = append(r.stops, st)
		}
		for _, a := range groupLive[:keep] {
			used[allocIndex(a.Name)] = true
			if why, ok := moving[a.ID]; ok {
				st := stopReq{alloc: a, desc: why}
				if why == descLost {
					st.clientStatus = structs.AllocClientStatusLost
				}
				r.stops = append(r.stops, st)
				gp.place = append(gp.place, placeReq{group: tg.Name, name: a.Name, index: allocIndex(a.Name), previous: a})
				continue
			}
			switch {
			case sameJobVersion(a.Job, job):
			case tasksUpdated(a.Job, a.Job.LookupTaskGroup(tg.Name), job, tg):
				gp.destructive = append(gp.destructive, a)
			default:
				gp.inplace = append(gp.inplace, a)
			}
		}
		missing := tg.Count - keep - len(held[tg.Name])
		for idx := 0; missing > 0; idx++ {
			if used[idx] {
				continue
			}
			gp.place = append(gp.place, placeReq{group: tg.Name, name: structs.AllocName(job.ID, tg.Name, idx), index: idx})
			missing--
		}
	}
	return r
}

// compareByIndex orders allocations by name index, then by age and ID so
// duplicates resolve the same way every time.
func compareByIndex(x, y *structs.Allocation) int {
	if c := allocIndex(x.Name) - allocIndex(y.Name); c != 0 {
		return c
	}
	if x.CreateIndex != y.CreateIndex {
		if x.CreateIndex < y.CreateIndex {
			return -1
		}
		return 1
	}
	return strings.Compare(x.ID, y.ID)
}

// allocIndex parses i from "<job>.<group>[i]"; unparsable names sort last.
func allocIndex(name string) int {
	open := strings.LastIndexByte(name, '[')
	if open < 0 || !strings.HasSuffix(name, "]") {
		return int(^uint(0) >> 1)
	}
	i, err := strconv.Atoi(name[open+1 : len(name)-1])
	if err != nil || i < 0 {
		return int(^uint(0) >> 1)
	}
	return i
}

// sameJobVersion reports whether an allocation already runs job as is.
func sameJobVersion(old, job *structs.Job) bool {
	return old == job || old != nil && old.Version == job.Version && old.JobModifyIndex == job.JobModifyIndex
}

// sameJobInstance reports whether old is a version of the same registration
// of job: a job purged and registered again starts over, so its completed
// batch allocations no longer count.
func sameJobInstance(old, job *structs.Job) bool {
	return old == nil || old.CreateIndex == job.CreateIndex
}

// tasksUpdated reports whether moving an allocation from (oldJob, oldTG) to
// (newJob, newTG) needs new processes: anything a task sees at start (driver,
// config, env, user, resources, meta, constraints, logging, disk) changed.
func tasksUpdated(oldJob *structs.Job, oldTG *structs.TaskGroup, newJob *structs.Job, newTG *structs.TaskGroup) bool {
	if oldJob == nil || oldTG == nil || len(oldTG.Tasks) != len(newTG.Tasks) {
		return true
	}
	if !constraintsEqual(oldTG.Constraints, newTG.Constraints) || !reflect.DeepEqual(oldTG.EphemeralDisk, newTG.EphemeralDisk) {
		return true
	}
	for _, nt := range newTG.Tasks {
		ot := oldTG.LookupTask(nt.Name)
		if ot == nil {
			return true
		}
		switch {
		case ot.Driver != nt.Driver, ot.User != nt.User:
			return true
		case !reflect.DeepEqual(ot.Config, nt.Config) && !(len(ot.Config) == 0 && len(nt.Config) == 0):
			return true
		case !maps.Equal(ot.Env, nt.Env):
			return true
		case !reflect.DeepEqual(ot.Resources, nt.Resources):
			return true
		case !reflect.DeepEqual(ot.LogConfig, nt.LogConfig):
			return true
		case !constraintsEqual(ot.Constraints, nt.Constraints):
			return true
		case !maps.Equal(combinedMeta(oldJob, oldTG, ot), combinedMeta(newJob, newTG, nt)):
			return true
		}
	}
	return false
}

func constraintsEqual(a, b []*structs.Constraint) bool {
	return slices.EqualFunc(a, b, func(x, y *structs.Constraint) bool { return *x == *y })
}

// combinedMeta is the meta a task sees: job, then group, then task keys.
func combinedMeta(j *structs.Job, tg *structs.TaskGroup, t *structs.Task) map[string]string {
	out := make(map[string]string, len(j.Meta)+len(tg.Meta)+len(t.Meta))
	maps.Copy(out, j.Meta)
	maps.Copy(out, tg.Meta)
	maps.Copy(out, t.Meta)
	return out
}
