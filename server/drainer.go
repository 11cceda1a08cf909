// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

// The drainer runs on the leader and moves allocations off draining nodes.
// It never stops an allocation itself: it marks allocations for migration
// (DesiredTransition.Migrate, through raft) together with an evaluation of
// their job, and the scheduler stops each marked allocation and places its
// replacement elsewhere. Per task group it keeps at most the group's
// migrate.max_parallel allocations moving: another is marked only when
// enough of the group is healthy. Without deployments "healthy" means
// running, every task started at least min_healthy_time ago. Batch
// allocations are left to finish; at the drain's deadline everything still
// there is marked. When no allocation is left the drain is complete: the
// node stays ineligible, its DrainStrategy is cleared and LastDrain says
// "complete".

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// drainerTick is the longest the drainer waits between two passes when
// nothing changes: min_healthy_time and deadlines pass without a write.
const drainerTick = time.Second

// drainer holds what one leader's drain loop needs.
type drainer struct {
	srv    *Server
	logger hclog.Logger
	now    func() time.Time
}

// startDrainer runs the drain loop until ctx (leadership) ends.
func (s *Server) startDrainer(ctx context.Context) {
	d := &drainer{srv: s, logger: s.cfg.Logger.Named("drainer"), now: time.Now}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		d.run(ctx)
	}()
}

// run makes a pass whenever nodes or allocations change, and at least
// every drainerTick. While no node drains it watches the nodes alone: a
// drain starts with a node write, and a busy cluster's allocation updates
// (thousands a second) would otherwise each cost a walk over every node.
func (d *drainer) run(ctx context.Context) {
	var index uint64
	draining := true // until the first pass says otherwise
	for {
		tables := []string{state.TableNodes}
		if draining {
			tables = append(tables, state.TableAllocs)
		}
		wctx, cancel := context.WithTimeout(ctx, drainerTick)
		idx, err := d.srv.state.BlockingQuery(wctx, index, func(snap *state.Snapshot) (uint64, error) {
			return snap.Index(tables...)
		})
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.logger.Error("watch nodes and allocations", "error", err)
			continue
		}
		index = idx
		draining, err = d.pass(d.srv.state.Snapshot())
		if err != nil && ctx.Err() == nil {
			d.logger.Error("drain pass", "error", err)
			draining = true
		}
	}
}

// pass advances every draining node once and reports whether some node
// was draining.
func (d *drainer) pass(snap *state.Snapshot) (bool, error) {
	nodes, err := snap.Nodes()
	if err != nil {
		return false, fmt.Errorf("list nodes: %w", err)
	}
	draining := false
	for _, n := range nodes {
		if n.DrainStrategy == nil {
			continue
		}
		draining = true
		if err := d.drainNode(snap, n); err != nil {
			return true, fmt.Errorf("drain node %s: %w", n.ID, err)
		}
	}
	return draining, nil
}

// groupKey names one task group of one job.
type groupKey struct {
	ns, job, group string
}

// drainNode marks what may move now on node, or completes its drain.
func (d *drainer) drainNode(snap *state.Snapshot, node *structs.Node) error {
	now := d.now()
	strategy := node.DrainStrategy
	hasDeadline, deadline := strategy.DeadlineTime()
	forced := hasDeadline && !now.Before(deadline)

	allocs, err := snap.AllocsByNode(node.ID)
	if err != nil {
		return err
	}
	pending := map[groupKey][]*structs.Allocation{}
	remaining := 0
	for _, a := range allocs {
		if a.TerminalStatus() || skipForDrain(a) {
			continue
		}
		remaining++
		if !a.DesiredTransition.ShouldMigrate() {
			k := groupKey{a.Namespace, a.JobID, a.TaskGroup}
			pending[k] = append(pending[k], a)
		}
	}
	if remaining == 0 {
		return d.complete(node, now)
	}

	mark := map[string]*structs.DesiredTransition{}
	jobs := map[structs.NamespacedID]*structs.Job{}
	keys := make([]groupKey, 0, len(pending))
	for k := range pending {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y groupKey) int {
		return strings.Compare(x.ns+"/"+x.job+"/"+x.group, y.ns+"/"+y.job+"/"+y.group)
	})
	for _, k := range keys {
		group := pending[k]
		slices.SortFunc(group, func(x, y *structs.Allocation) int { return strings.Compare(x.Name+x.ID, y.Name+y.ID) })
		job, err := snap.JobByID(k.ns, k.job)
		if err != nil {
			return err
		}
		n := len(group)
		if !forced {
			if n, err = d.migratable(snap, job, k, len(group), now); err != nil {
				return err
			}
		}
		for _, a := range group[:n] {
			yes := true
			mark[a.ID] = &structs.DesiredTransition{Migrate: &yes}
			if job != nil {
				jobs[job.NamespacedID()] = job
			}
		}
	}
	if len(mark) == 0 {
		return nil
	}
	update := &structs.AllocDesiredTransitionUpdate{Allocs: mark, UpdatedAt: now.UnixNano()}
	for _, job := range jobs {
		e := structs.NewEval(job, structs.EvalTriggerNodeDrain, now)
		e.NodeID = node.ID
		update.Evals = append(update.Evals, e)
	}
	if _, err := d.srv.raftApply(structs.AllocUpdateDesiredTransitionRequestType, update); err != nil {
		return fmt.Errorf("mark %d allocations for migration: %w", len(mark), err)
	}
	d.logger.Info("allocations marked for migration", "node_id", node.ID, "count", len(mark), "forced", forced)
	return nil
}

// skipForDrain reports whether a stays on a draining node whatever
// IgnoreSystemJobs says: system and sysbatch allocations belong to their
// node, and Drover has no system scheduler yet that would stop them.
func skipForDrain(a *structs.Allocation) bool {
	if a.Job == nil {
		return false
	}
	return a.Job.Type == structs.JobTypeSystem || a.Job.Type == structs.JobTypeSysbatch
}

// migratable is how many of the pending allocations of group k may be
// marked now: for a service group, as many as keep at least count -
// max_parallel of the group healthy; batch allocations wait for the
// deadline; allocations of a stopped, purged or shrunk-away group all go
// (the scheduler only stops them).
func (d *drainer) migratable(snap *state.Snapshot, job *structs.Job, k groupKey, pending int, now time.Time) (int, error) {
	if job == nil || job.Stop {
		return pending, nil
	}
	tg := job.LookupTaskGroup(k.group)
	if tg == nil {
		return pending, nil
	}
	if job.Type != structs.JobTypeService {
		return 0, nil
	}
	migrate := tg.Migrate
	if migrate == nil {
		migrate = structs.DefaultMigrateStrategy()
	}
	maxParallel := max(migrate.MaxParallel, 1)
	all, err := snap.AllocsByJob(k.ns, k.job)
	if err != nil {
		return 0, err
	}
	healthy := 0
	for _, a := range all {
		if a.TaskGroup == k.group && !a.TerminalStatus() && !a.DesiredTransition.ShouldMigrate() && allocHealthy(a, migrate.MinHealthyTime, now) {
			healthy++
		}
	}
	n := healthy - (tg.Count - maxParallel)
	return min(max(n, 0), pending), nil
}

// allocHealthy reports whether a counts as healthy for a migration: it
// runs and each of its tasks has been running for at least minHealthy.
func allocHealthy(a *structs.Allocation, minHealthy time.Duration, now time.Time) bool {
	if a.ClientStatus != structs.AllocClientStatusRunning || len(a.TaskStates) == 0 {
		return false
	}
	for _, ts := range a.TaskStates {
		if ts == nil || ts.State != structs.TaskStateRunning || ts.StartedAt.IsZero() || now.Sub(ts.StartedAt) < minHealthy {
			return false
		}
	}
	return true
}

// complete ends node's drain: it stays ineligible and LastDrain records
// the completion.
func (d *drainer) complete(node *structs.Node, now time.Time) error {
	last := &structs.DrainMetadata{StartedAt: node.DrainStrategy.StartedAt, UpdatedAt: now.UTC(), Status: structs.DrainStatusComplete}
	if node.LastDrain != nil {
		last.Meta = node.LastDrain.Meta
		last.AccessorID = node.LastDrain.AccessorID
	}
	update := &structs.NodeDrainUpdate{
		NodeID:      node.ID,
		Eligibility: structs.NodeSchedulingIneligible,
		LastDrain:   last,
		UpdatedAt:   now.UnixNano(),
	}
	if _, err := d.srv.raftApply(structs.NodeUpdateDrainRequestType, update); err != nil {
		return fmt.Errorf("complete drain: %w", err)
	}
	d.logger.Info("node drain complete", "node_id", node.ID)
	return nil
}
