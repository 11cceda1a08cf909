// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file is the service and batch scheduler: it reconciles the job with
// its allocations, places what is missing, submits one plan, retries against
// fresher state when the plan applier rejects part of it, and records the
// outcome on the evaluation (and in blocked or follow-up evaluations).

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/droverhq/drover/structs"
	"github.com/hashicorp/go-hclog"
)

// maxPlanAttempts bounds how many plans one evaluation submits. Each
// attempt after the first re-plans from scratch against the fresher
// snapshot the planner returned, so it only places what is still missing.
const maxPlanAttempts = 5

// followUpWait is how long the evaluation created after maxPlanAttempts
// waits before it is processed: long enough for the contention that kept
// rejecting plans to settle.
const followUpWait = 30 * time.Second

// ErrInvalidJob is wrapped by Process errors caused by the job itself (an
// unknown constraint operator, a malformed regexp or version constraint).
// The evaluation has already been marked failed with the reason; retrying it
// cannot succeed.
var ErrInvalidJob = errors.New("invalid job")

// genericScheduler schedules service and batch jobs, and, with system
// set, system and sysbatch jobs: those share the plan loop and the
// evaluation bookkeeping here and differ only in how the plan is computed
// (system.go).
type genericScheduler struct {
	logger  hclog.Logger
	state   State
	planner Planner
	batch   bool
	system  bool
	now     func() time.Time
}

func newGenericScheduler(jobType string, logger hclog.Logger, state State, planner Planner) *genericScheduler {
	return &genericScheduler{
		logger:  logger,
		state:   state,
		planner: planner,
		batch:   jobType == structs.JobTypeBatch,
		system:  jobType == structs.JobTypeSystem || jobType == structs.JobTypeSysbatch,
		now:     time.Now,
	}
}

// attempt is one computed plan with what it could not place.
type attempt struct {
	plan    *structs.Plan
	job     *structs.Job
	placed  map[string]string // new allocation ID → group
	queued  map[string]int    // group → allocations not placed
	failed  map[string]*structs.AllocMetric
	inplace int
	stops   int
	// followups are evaluations that come back for failed allocations
	// whose reschedule delay has not passed; they are created before the
	// plan that records their IDs on those allocations.
	followups []*structs.Evaluation
}

// Process schedules eval's job and records the result on the evaluation.
func (s *genericScheduler) Process(eval *structs.Evaluation) error {
	logger := s.logger.With("eval_id", eval.ID, "job_id", eval.JobID, "namespace", eval.Namespace)
	state := s.state
	var last *attempt
	for n := 1; n <= maxPlanAttempts; n++ {
		at, err := s.computePlan(eval, state)
		if err != nil {
			if errors.Is(err, ErrInvalidJob) {
				return s.failEval(eval, err.Error(), err)
			}
			return fmt.Errorf("schedule eval %s: %w", eval.ID, err)
		}
		last = at
		logger.Debug("computed plan", "attempt", n, "place", len(at.placed), "inplace", at.inplace, "stop", at.stops, "queued", sum(at.queued))
		for _, f := range at.followups {
			if err := s.planner.CreateEval(f); err != nil {
				return fmt.Errorf("schedule eval %s: create follow-up eval: %w", eval.ID, err)
			}
			logger.Debug("created follow-up eval for delayed rescheduling", "follow_up_eval_id", f.ID, "wait_until", f.WaitUntil)
		}
		if at.plan.IsNoOp() {
			return s.complete(eval, at, nil)
		}
		result, newState, err := s.planner.SubmitPlan(at.plan)
		if err != nil {
			return fmt.Errorf("schedule eval %s: submit plan: %w", eval.ID, err)
		}
		if result == nil {
			return fmt.Errorf("schedule eval %s: submit plan: planner returned no result", eval.ID)
		}
		if err := s.evaluatePreempted(state, result, eval.ID); err != nil {
			return fmt.Errorf("schedule eval %s: %w", eval.ID, err)
		}
		if result.RefreshIndex == 0 {
			return s.complete(eval, at, result)
		}
		if newState == nil {
			return fmt.Errorf("schedule eval %s: plan partly rejected (refresh index %d) but no newer state given", eval.ID, result.RefreshIndex)
		}
		logger.Debug("plan partly rejected, refreshing", "attempt", n, "refresh_index", result.RefreshIndex)
		state = newState
	}
	return s.failMaxAttempts(eval, last)
}

// computePlan plans eval against state.
func (s *genericScheduler) computePlan(eval *structs.Evaluation, state State) (*attempt, error) {
	index, err := state.LatestIndex()
	if err != nil {
		return nil, fmt.Errorf("read state index: %w", err)
	}
	job, err := state.JobByID(eval.Namespace, eval.JobID)
	if err != nil {
		return nil, fmt.Errorf("read job: %w", err)
	}
	allocs, err := state.AllocsByJob(eval.Namespace, eval.JobID)
	if err != nil {
		return nil, fmt.Errorf("read allocations of job: %w", err)
	}
	priority := eval.Priority
	if priority == 0 && job != nil {
		priority = job.Priority
	}
	at := &attempt{
		plan:   &structs.Plan{EvalID: eval.ID, Priority: priority, SnapshotIndex: index},
		job:    job,
		placed: map[string]string{},
		queued: map[string]int{},
		failed: map[string]*structs.AllocMetric{},
	}
	if job.Stopped() {
		for _, st := range reconcileStopped(allocs).stops {
			at.plan.AppendStoppedAlloc(st.alloc, st.desc, "")
			at.stops++
		}
		return at, nil
	}
	at.plan.Job = job
	cj, err := compileJob(job)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidJob, err)
	}
	tainted, err := taintedNodes(state, allocs)
	if err != nil {
		return nil, err
	}
	if s.system {
		return s.computeSystemPlan(eval, state, cj, allocs, tainted, at)
	}
	rec := reconcile(job, allocs, s.batch, tainted)
	now := s.now()
	p, err := newPlacer(state, cj, eval.ID, now)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}

	// Failed allocations: replace the due ones now, and come back later
	// for the ones still in their delay.
	var delayed []delayedReschedule
	for _, gp := range rec.groups {
		out := planReschedules(gp, job.LookupTaskGroup(gp.name), eval.ID, now)
		gp.place = append(gp.place, out.now...)
		delayed = append(delayed, out.later...)
	}
	followups, annotated := followupEvals(eval, job, delayed, now)
	at.followups = followups
	for _, a := range annotated {
		at.plan.AppendAlloc(a)
	}

	// Updates: in place when the node still suits the new job, otherwise
	// stop and replace under the same name.
	var inplace []*structs.Allocation
	for _, gp := range rec.groups {
		cg := cj.groups[gp.name]
		for _, a := range gp.inplace {
			if cj.stillFeasible(cg, p.node(a.NodeID)) {
				inplace = append(inplace, a)
			} else {
				gp.destructive = append(gp.destructive, a)
			}
		}
		for _, a := range gp.destructive {
			rec.stops = append(rec.stops, stopReq{alloc: a, desc: descUpdating})
			gp.place = append(gp.place, placeReq{group: gp.name, name: a.Name, index: allocIndex(a.Name), previous: a})
		}
		slices.SortStableFunc(gp.place, func(x, y placeReq) int { return x.index - y.index })
	}

	stopped := make(map[string]bool, len(rec.stops))
	for _, st := range rec.stops {
		stopped[st.alloc.ID] = true
		at.plan.AppendStoppedAlloc(st.alloc, st.desc, st.clientStatus)
	}
	at.stops = len(rec.stops)
	p.setExisting(allocs, stopped)

	for _, a := range inplace {
		updated := a.Copy()
		updated.Job = job
		updated.EvalID = eval.ID
		updated.ModifyTime = now.UnixNano()
		at.plan.AppendAlloc(updated)
	}
	at.inplace = len(inplace)

	for _, gp := range rec.groups {
		at.queued[gp.name] = 0
		placed, failedMetric, failures, err := p.placeGroup(cj.groups[gp.name], gp.place)
		if err != nil {
			return nil, fmt.Errorf("place group %q: %w", gp.name, err)
		}
		for _, a := range placed {
			at.plan.AppendAlloc(a)
			at.placed[a.ID] = gp.name
		}
		if failures > 0 {
			at.queued[gp.name] = failures
			at.failed[gp.name] = failedMetric
		}
	}
	appendEvictions(at.plan, p.preemption.victims)
	at.stops += len(p.preemption.victims)
	return at, nil
}

// evaluatePreempted creates the evaluations that find a new home for the
// allocations result evicted.
func (s *genericScheduler) evaluatePreempted(state State, result *structs.PlanResult, evalID string) error {
	evals, err := preemptedJobEvals(state, result, evalID, s.now().UnixNano())
	if err != nil {
		return err
	}
	for _, e := range evals {
		if err := s.planner.CreateEval(e); err != nil {
			return fmt.Errorf("create evaluation for preempted job %q: %w", e.JobID, err)
		}
		s.logger.Debug("created evaluation for preempted allocations", "eval_id", evalID, "preempted_job_id", e.JobID, "new_eval_id", e.ID)
	}
	return nil
}

// complete records a finished evaluation. Placements the applier did not
// commit (without asking for a refresh) count as queued like failed ones.
func (s *genericScheduler) complete(eval *structs.Evaluation, at *attempt, result *structs.PlanResult) error {
	if result != nil {
		committed := map[string]bool{}
		for _, allocs := range result.NodeAllocation {
			for _, a := range allocs {
				committed[a.ID] = true
			}
		}
		for id, group := range at.placed {
			if !committed[id] {
				at.queued[group]++
			}
		}
	}
	e := eval.Copy()
	e.Status = structs.EvalStatusComplete
	e.StatusDescription = ""
	e.QueuedAllocations = at.queued
	e.FailedTGAllocs = nil
	if len(at.failed) > 0 {
		e.FailedTGAllocs = at.failed
	}
	e.SnapshotIndex = at.plan.SnapshotIndex
	e.ModifyTime = s.now().UnixNano()
	if sum(at.queued) > 0 {
		blocked := s.blockedEval(e, at.job)
		if err := s.planner.CreateEval(blocked); err != nil {
			return fmt.Errorf("schedule eval %s: create blocked eval: %w", eval.ID, err)
		}
		e.BlockedEval = blocked.ID
		s.logger.Debug("created blocked eval", "eval_id", eval.ID, "blocked_eval_id", blocked.ID, "queued", sum(at.queued))
	}
	if err := s.planner.UpdateEval(e); err != nil {
		return fmt.Errorf("schedule eval %s: update eval: %w", eval.ID, err)
	}
	return nil
}

// blockedEval waits for capacity for what e could not place. The server's
// blocked-evals tracker keeps one per job and unblocks it when nodes or
// allocations change.
func (s *genericScheduler) blockedEval(e *structs.Evaluation, job *structs.Job) *structs.Evaluation {
	now := s.now().UnixNano()
	b := &structs.Evaluation{
		ID:                structs.GenerateUUID(),
		Namespace:         e.Namespace,
		Priority:          e.Priority,
		Type:              e.Type,
		TriggeredBy:       structs.EvalTriggerQueuedAllocs,
		JobID:             e.JobID,
		JobModifyIndex:    e.JobModifyIndex,
		Status:            structs.EvalStatusBlocked,
		StatusDescription: "created to place remaining allocations",
		PreviousEval:      e.ID,
		CreateTime:        now,
		ModifyTime:        now,
	}
	if job != nil {
		b.JobModifyIndex = job.JobModifyIndex
	}
	return b
}

// failMaxAttempts fails eval after maxPlanAttempts rejected plans and
// creates a delayed follow-up evaluation to try again.
func (s *genericScheduler) failMaxAttempts(eval *structs.Evaluation, last *attempt) error {
	now := s.now()
	follow := &structs.Evaluation{
		ID:                structs.GenerateUUID(),
		Namespace:         eval.Namespace,
		Priority:          eval.Priority,
		Type:              eval.Type,
		TriggeredBy:       structs.EvalTriggerMaxPlans,
		JobID:             eval.JobID,
		JobModifyIndex:    eval.JobModifyIndex,
		Status:            structs.EvalStatusPending,
		StatusDescription: "created after the previous evaluation reached the maximum plan attempts",
		Wait:              followUpWait,
		WaitUntil:         now.Add(followUpWait),
		PreviousEval:      eval.ID,
		CreateTime:        now.UnixNano(),
		ModifyTime:        now.UnixNano(),
	}
	if err := s.planner.CreateEval(follow); err != nil {
		return fmt.Errorf("schedule eval %s: create follow-up eval: %w", eval.ID, err)
	}
	e := eval.Copy()
	e.Status = structs.EvalStatusFailed
	e.StatusDescription = fmt.Sprintf("maximum of %d plan attempts reached; follow-up evaluation %s retries in %s", maxPlanAttempts, follow.ID, followUpWait)
	e.NextEval = follow.ID
	if last != nil {
		// Nothing of the last attempt is known to be committed.
		queued := last.queued
		for _, group := range last.placed {
			queued[group]++
		}
		e.QueuedAllocations = queued
		e.SnapshotIndex = last.plan.SnapshotIndex
	}
	e.ModifyTime = now.UnixNano()
	s.logger.Warn("eval failed: maximum plan attempts reached", "eval_id", eval.ID, "follow_up_eval_id", follow.ID)
	if err := s.planner.UpdateEval(e); err != nil {
		return fmt.Errorf("schedule eval %s: update eval: %w", eval.ID, err)
	}
	return nil
}

// failEval marks eval failed with desc and returns cause (wrapped).
func (s *genericScheduler) failEval(eval *structs.Evaluation, desc string, cause error) error {
	e := eval.Copy()
	e.Status = structs.EvalStatusFailed
	e.StatusDescription = desc
	e.ModifyTime = s.now().UnixNano()
	s.logger.Warn("eval failed", "eval_id", eval.ID, "job_id", eval.JobID, "error", cause)
	if err := s.planner.UpdateEval(e); err != nil {
		return fmt.Errorf("schedule eval %s: update eval: %w (after: %w)", eval.ID, err, cause)
	}
	return fmt.Errorf("schedule eval %s: %w", eval.ID, cause)
}

// taintedNodes returns the nodes of allocs' live allocations that are down,
// gone (nil) or draining: reconcile moves allocations off them.
func taintedNodes(state State, allocs []*structs.Allocation) (map[string]*structs.Node, error) {
	out := map[string]*structs.Node{}
	seen := map[string]bool{}
	for _, a := range allocs {
		if !isLive(a) || seen[a.NodeID] {
			continue
		}
		seen[a.NodeID] = true
		n, err := state.NodeByID(a.NodeID)
		if err != nil {
			return nil, fmt.Errorf("read node %s: %w", a.NodeID, err)
		}
		if n == nil || n.Status == structs.NodeStatusDown || n.DrainStrategy != nil || n.Drain {
			out[a.NodeID] = n
		}
	}
	return out, nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
