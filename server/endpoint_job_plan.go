// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

// This file is verified job submission: Job.Plan, a dry run of registering
// a job (the diff against the stored version and what the real scheduler
// would do, computed on a snapshot and never written), and the job modify
// index check that lets `job run -check-index` refuse to overwrite a job
// that changed since it was planned.

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/server/jobdiff"
	"github.com/droverhq/drover/server/scheduler"
	"github.com/droverhq/drover/structs"
)

// JobPlanArgs asks for a dry run of registering a (canonicalised,
// validated) job. Diff asks for the diff against the stored job.
type JobPlanArgs struct {
	Job  *structs.Job
	Diff bool
}

// JobPlanReply is what registering the job would do. JobModifyIndex is the
// stored job's (0 when there is none): `job run -check-index` passes it back.
type JobPlanReply struct {
	JobModifyIndex     uint64
	Diff               *jobdiff.JobDiff
	Annotations        *PlanAnnotations
	FailedTGAllocs     map[string]*structs.AllocMetric
	NextPeriodicLaunch time.Time
	Warnings           string
	// Index is the state index the plan was computed at.
	Index uint64
}

// PlanAnnotations says per task group what the scheduler would do to its
// allocations (Nomad's api.PlanAnnotations).
type PlanAnnotations struct {
	DesiredTGUpdates map[string]*DesiredUpdates
	PreemptedAllocs  []*structs.AllocListStub
}

// DesiredUpdates counts a group's allocations by what the scheduler would
// do with them (Nomad's api.DesiredUpdates).
type DesiredUpdates struct {
	Ignore            uint64
	Place             uint64
	Migrate           uint64
	Stop              uint64
	InPlaceUpdate     uint64
	DestructiveUpdate uint64
	Canary            uint64
	Preemptions       uint64
}

// Plan runs the scheduler on a snapshot in which the job is registered, and
// reports the plan it would submit. Nothing is written: the plan goes to a
// planner that only records it.
func (j *JobEndpoint) Plan(args *JobPlanArgs, reply *JobPlanReply) error {
	if done, err := j.srv.forward("Job.Plan", args, reply); done {
		return err
	}
	if args.Job == nil {
		return fmt.Errorf("plan job: missing job")
	}
	// What registering would refuse, planning refuses the same way.
	if err := j.srv.admitJob(args.Job); err != nil {
		return err
	}
	out, err := planJob(j.srv.state.Snapshot(), args.Job, args.Diff, time.Now(), j.srv.cfg.Logger.Named("plan"))
	if err != nil {
		return fmt.Errorf("plan job %q: %w", args.Job.ID, err)
	}
	*reply = *out
	return nil
}

// PlanJob is Job.Plan for the HTTP layer, through the leader.
func (s *Server) PlanJob(job *structs.Job, diff bool) (*JobPlanReply, error) {
	var reply JobPlanReply
	if err := (&JobEndpoint{srv: s}).Plan(&JobPlanArgs{Job: job, Diff: diff}, &reply); err != nil {
		return nil, err
	}
	return &reply, nil
}

// planJob is the dry run against snap.
func planJob(snap *stateSnapshot, submitted *structs.Job, diff bool, now time.Time, logger hclog.Logger) (*JobPlanReply, error) {
	existing, err := snap.JobByID(submitted.Namespace, submitted.ID)
	if err != nil {
		return nil, fmt.Errorf("read stored job: %w", err)
	}
	latest, err := snap.LatestIndex()
	if err != nil {
		return nil, fmt.Errorf("read state index: %w", err)
	}
	reply := &JobPlanReply{Index: latest}
	if existing != nil {
		reply.JobModifyIndex = existing.JobModifyIndex
	}
	if diff {
		// Contextual, as Nomad's: the CLI decides how much to show.
		if reply.Diff, err = jobdiff.Jobs(existing, submitted, true); err != nil {
			return nil, err
		}
	}
	job := asRegistered(existing, submitted, latest+1, now)

	annotations := &PlanAnnotations{DesiredTGUpdates: map[string]*DesiredUpdates{}}
	for _, tg := range job.TaskGroups {
		annotations.DesiredTGUpdates[tg.Name] = &DesiredUpdates{}
	}
	reply.Annotations = annotations
	if job.IsPeriodic() && job.Periodic.Enabled {
		next, err := NextPeriodicLaunch(job.Periodic, now)
		if err != nil {
			return nil, err
		}
		reply.NextPeriodicLaunch = next
	}
	// A periodic or parameterized job is a template: registering it
	// schedules nothing (see Register).
	if job.IsPeriodic() || job.IsParameterized() {
		annotateDiff(reply)
		return reply, nil
	}

	planner := &dryRunPlanner{}
	st := &plannedState{State: snap, job: job}
	sched, err := scheduler.New(job.Type, logger, st, planner)
	if err != nil {
		return nil, err
	}
	eval := structs.NewEval(job, structs.EvalTriggerJobRegister, now)
	if err := sched.Process(eval); err != nil {
		return nil, fmt.Errorf("dry-run scheduler: %w", err)
	}
	if planner.eval != nil && len(planner.eval.FailedTGAllocs) > 0 {
		reply.FailedTGAllocs = planner.eval.FailedTGAllocs
	}
	allocs, err := snap.AllocsByJob(job.Namespace, job.ID)
	if err != nil {
		return nil, fmt.Errorf("read allocations of job: %w", err)
	}
	desiredUpdates(annotations, allocs, planner)
	annotateDiff(reply)
	return reply, nil
}

// asRegistered is submitted as the FSM would store it at index: with the
// stored job's version kept when the specification is unchanged, and a new
// version and job modify index otherwise (state.UpsertJob's rule). The
// scheduler tells up-to-date allocations by version and job modify index,
// so they must be what a real registration would give.
func asRegistered(existing, submitted *structs.Job, index uint64, now time.Time) *structs.Job {
	job := submitted.Copy()
	job.SubmitTime = now.UnixNano()
	job.Status = structs.JobStatusPending
	job.ModifyIndex = index
	if existing == nil {
		job.CreateIndex, job.JobModifyIndex, job.Version = index, index, 0
		return job
	}
	job.CreateIndex = existing.CreateIndex
	if sameSpec(existing, job) {
		job.Version, job.JobModifyIndex = existing.Version, existing.JobModifyIndex
	} else {
		job.Version, job.JobModifyIndex = existing.Version+1, index
	}
	return job
}

// sameSpec reports whether two versions of a job ask for the same thing,
// ignoring the fields the servers set.
func sameSpec(a, b *structs.Job) bool {
	strip := func(j *structs.Job) *structs.Job {
		c := j.Copy()
		c.Status, c.StatusDescription = "", ""
		c.Version, c.SubmitTime, c.Stable = 0, 0, false
		c.CreateIndex, c.ModifyIndex, c.JobModifyIndex = 0, 0, 0
		return c
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

// plannedState is a snapshot in which the planned job is already stored.
type plannedState struct {
	scheduler.State
	job *structs.Job
}

// JobByID implements scheduler.State.
func (p *plannedState) JobByID(namespace, id string) (*structs.Job, error) {
	if namespace == p.job.Namespace && id == p.job.ID {
		return p.job, nil
	}
	return p.State.JobByID(namespace, id)
}

// dryRunPlanner records what a scheduler would do. Every plan is accepted
// as a whole (the applier's re-check against newer state is exactly what a
// dry run cannot predict), and nothing is written.
type dryRunPlanner struct {
	plans   []*structs.Plan
	eval    *structs.Evaluation
	created []*structs.Evaluation
}

// SubmitPlan implements scheduler.Planner.
func (p *dryRunPlanner) SubmitPlan(plan *structs.Plan) (*structs.PlanResult, scheduler.State, error) {
	p.plans = append(p.plans, plan)
	return &structs.PlanResult{NodeUpdate: plan.NodeUpdate, NodeAllocation: plan.NodeAllocation}, nil, nil
}

// UpdateEval implements scheduler.Planner.
func (p *dryRunPlanner) UpdateEval(eval *structs.Evaluation) error {
	p.eval = eval
	return nil
}

// CreateEval implements scheduler.Planner.
func (p *dryRunPlanner) CreateEval(eval *structs.Evaluation) error {
	p.created = append(p.created, eval)
	return nil
}

// desiredUpdates counts, per group, what the recorded plans do to the
// job's allocations.
func desiredUpdates(a *PlanAnnotations, existing []*structs.Allocation, p *dryRunPlanner) {
	plans := p.plans
	followups := make(map[string]bool, len(p.created))
	for _, e := range p.created {
		followups[e.ID] = true
	}
	group := func(name string) *DesiredUpdates {
		du := a.DesiredTGUpdates[name]
		if du == nil {
			du = &DesiredUpdates{}
			a.DesiredTGUpdates[name] = du
		}
		return du
	}
	known := make(map[string]bool, len(existing))
	for _, al := range existing {
		known[al.ID] = true
	}
	touched := map[string]bool{}
	replaced := map[string]bool{} // stopped allocations whose replacement is not a new placement
	for _, plan := range plans {
		for _, stops := range plan.NodeUpdate {
			for _, al := range stops {
				if al.DesiredStatus == structs.AllocDesiredStatusEvict {
					// Another job's allocation evicted to make room
					// (preemption): counted with the placement it serves.
					a.PreemptedAllocs = append(a.PreemptedAllocs, al.Stub())
					continue
				}
				touched[al.ID] = true
				du := group(al.TaskGroup)
				switch al.DesiredDescription {
				case scheduler.StopDescUpdating:
					du.DestructiveUpdate++
					replaced[al.ID] = true
				case scheduler.StopDescMigrating:
					du.Migrate++
					replaced[al.ID] = true
				default:
					du.Stop++
				}
			}
		}
	}
	for _, plan := range plans {
		for _, placed := range plan.NodeAllocation {
			for _, al := range placed {
				du := group(al.TaskGroup)
				du.Preemptions += uint64(len(al.PreemptedAllocations))
				switch {
				case known[al.ID]:
					// An existing allocation updated where it runs, or a
					// failed one told of its delayed rescheduling.
					touched[al.ID] = true
					if !followups[al.FollowupEvalID] {
						du.InPlaceUpdate++
					}
				case replaced[al.PreviousAllocation]:
					// Counted with its stop.
				default:
					du.Place++
				}
			}
		}
	}
	for _, al := range existing {
		if !touched[al.ID] && !al.TerminalStatus() {
			group(al.TaskGroup).Ignore++
		}
	}
	// Placements that found no node are still wanted: Nomad counts them
	// as creates and explains them in FailedTGAllocs.
	if p.eval != nil {
		for name, n := range p.eval.QueuedAllocations {
			if n > 0 {
				group(name).Place += uint64(n)
			}
		}
	}
}

// annotateDiff copies the scheduler's counts onto the diff's groups under
// Nomad's update type names, which the CLI prints beside each group.
func annotateDiff(reply *JobPlanReply) {
	if reply.Diff == nil || reply.Annotations == nil {
		return
	}
	for _, g := range reply.Diff.TaskGroups {
		du := reply.Annotations.DesiredTGUpdates[g.Name]
		if du == nil {
			continue
		}
		updates := map[string]uint64{}
		for name, n := range map[string]uint64{
			jobdiff.UpdateTypeIgnore:            du.Ignore,
			jobdiff.UpdateTypeCreate:            du.Place,
			jobdiff.UpdateTypeMigrate:           du.Migrate,
			jobdiff.UpdateTypeDestroy:           du.Stop,
			jobdiff.UpdateTypeInplaceUpdate:     du.InPlaceUpdate,
			jobdiff.UpdateTypeDestructiveUpdate: du.DestructiveUpdate,
			jobdiff.UpdateTypeCanary:            du.Canary,
		} {
			if n > 0 {
				updates[name] = n
			}
		}
		if len(updates) > 0 {
			g.Updates = updates
		}
	}
}

// EnforceIndexErrorPrefix starts the error of a registration refused by
// its job modify index check (Nomad's wording); the HTTP layer answers it
// with 400. It is matched as text because errors cross RPC as strings.
const EnforceIndexErrorPrefix = "Enforcing job modify index"

// IsEnforceIndexError reports whether err is a refused index check.
func IsEnforceIndexError(err error) bool {
	return err != nil && strings.Contains(err.Error(), EnforceIndexErrorPrefix)
}

// checkJobModifyIndex refuses a registration unless the stored job's
// modify index is want (0: the job must not exist). The caller holds the
// job's write lock, so no other write of the job lands between this check
// and the registration.
func (j *JobEndpoint) checkJobModifyIndex(job *structs.Job, want uint64) error {
	existing, err := j.srv.state.Snapshot().JobByID(job.Namespace, job.ID)
	if err != nil {
		return fmt.Errorf("read job %q: %w", job.ID, err)
	}
	switch {
	case existing == nil && want != 0:
		return fmt.Errorf("%s %d: job does not exist", EnforceIndexErrorPrefix, want)
	case existing != nil && want == 0:
		return fmt.Errorf("%s 0: job already exists", EnforceIndexErrorPrefix)
	case existing != nil && existing.JobModifyIndex != want:
		return fmt.Errorf("%s %d: job exists with conflicting job modify index: %d", EnforceIndexErrorPrefix, want, existing.JobModifyIndex)
	}
	return nil
}

// RegisterJobAtIndex is RegisterJob that succeeds only while the stored
// job's modify index is jobModifyIndex (0: the job must be new).
func (s *Server) RegisterJobAtIndex(job *structs.Job, jobModifyIndex uint64) (string, uint64, error) {
	var reply JobRegisterReply
	args := &JobRegisterArgs{Job: job, EnforceIndex: true, JobModifyIndex: jobModifyIndex}
	if err := (&JobEndpoint{srv: s}).Register(args, &reply); err != nil {
		return "", 0, err
	}
	return reply.EvalID, reply.Index, s.waitApplied(reply.Index)
}

// jobLocks serialises the leader's writes of one job, so a modify index
// check and the write it guards are not interleaved with another write of
// the same job. Writes of different jobs do not wait for each other.
var jobLocks = &keyedLocks{held: map[jobLockKey]*keyedLock{}}

type jobLockKey struct {
	srv           *Server
	namespace, id string
}

type keyedLocks struct {
	mu   sync.Mutex
	held map[jobLockKey]*keyedLock
}

type keyedLock struct {
	mu      sync.Mutex
	waiters int
}

// lockJob takes the write lock of a job on s and returns its release.
func lockJob(s *Server, namespace, id string) (unlock func()) {
	k := jobLockKey{srv: s, namespace: namespace, id: id}
	jobLocks.mu.Lock()
	l := jobLocks.held[k]
	if l == nil {
		l = &keyedLock{}
		jobLocks.held[k] = l
	}
	l.waiters++
	jobLocks.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		jobLocks.mu.Lock()
		l.waiters--
		if l.waiters == 0 {
			delete(jobLocks.held, k)
		}
		jobLocks.mu.Unlock()
	}
}
