// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"errors"
	"time"

	"github.com/droverhq/drover/client/allocrunner"
	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/structs"
)

// restore rebuilds the alloc runners of the allocations the local state
// holds and runs them. Their task runners recover running tasks through
// the drivers instead of starting them; the alloc watcher then reconciles
// them with the servers like any other runner (stopped while the agent
// was down: killed; garbage collected: destroyed).
func (c *Client) restore() {
	snap := c.restoreMe
	c.restoreMe = nil
	if snap == nil || len(snap.Allocs) == 0 {
		return
	}
	var runners []*allocrunner.AllocRunner
	c.mu.Lock()
	for id, rec := range snap.Allocs {
		restore := make(map[string]*taskrunner.Restore, len(rec.Tasks))
		for name, t := range rec.Tasks {
			restore[name] = &taskrunner.Restore{State: t.State, Handle: t.Handle}
		}
		ar, err := c.allocRunner(rec.Alloc, restore)
		if err != nil {
			c.logger.Error("cannot restore allocation, forgetting it", "alloc_id", id, "error", err)
			c.state.DeleteAlloc(id)
			continue
		}
		c.allocs[id] = ar
		c.modIndex[id] = rec.Alloc.AllocModifyIndex
		runners = append(runners, ar)
	}
	c.mu.Unlock()
	c.logger.Info("restored allocations from local state", "count", len(runners), "path", c.state.Path())
	for _, ar := range runners {
		go ar.Run()
	}
}

// lostLocally reports whether a the servers list for this node was
// already run by this node (it has a client status beyond pending, or task
// states), although the client has no record of it: the local state was
// lost or damaged. Starting it again would run a second copy next to the
// tasks still running unsupervised, so the client reports it failed
// instead and the servers reschedule it.
func lostLocally(a *structs.Allocation) bool {
	return a.ClientStatus != structs.AllocClientStatusPending || len(a.TaskStates) > 0
}

var errLostState = errors.New("failed to recover task: the client's local state has no record of it")

// lostUpdate is the failed status reported for an allocation lostLocally.
func lostUpdate(a *structs.Allocation) *structs.Allocation {
	const desc = "the client's local state has no record of this allocation (state file lost or damaged): its tasks cannot be recovered"
	states := make(map[string]*structs.TaskState)
	if a.Job != nil {
		if tg := a.Job.LookupTaskGroup(a.TaskGroup); tg != nil {
			for _, t := range tg.Tasks {
				old := a.TaskStates[t.Name]
				st := &structs.TaskState{State: structs.TaskStateDead, Failed: true}
				if old != nil {
					st = old.Copy()
					st.State, st.Failed = structs.TaskStateDead, true
				}
				st.FinishedAt = time.Now()
				ev := taskrunner.EventRestoreFailed(errLostState)
				ev.FailsTask = true
				st.Events = append(st.Events, ev)
				states[t.Name] = st
			}
		}
	}
	return &structs.Allocation{
		ID: a.ID, ClientStatus: structs.AllocClientStatusFailed, ClientDescription: desc, TaskStates: states,
	}
}
