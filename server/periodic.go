// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/cronexpr"
	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// This file owns periodic jobs: the leader-side dispatcher that launches a
// child job of every periodic job at each time its crons name, and the
// Job.PeriodicForce endpoint that launches one now. The parent job is a
// template: it is stored without an evaluation and never placed itself.
// The dispatcher keeps no state of its own that matters across leaders:
// it is rebuilt from the state store whenever this server becomes leader.

// PeriodicLaunchSuffix separates a periodic parent's ID from the launch
// time in its children's IDs: "<parent>/periodic-<unix seconds>".
const PeriodicLaunchSuffix = "/periodic-"

// Clock is the time source of the periodic dispatcher; tests replace it to
// drive launches without sleeping.
type Clock interface {
	Now() time.Time
	// After sends the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// NextPeriodicLaunch returns the first launch of p strictly after t: the
// earliest next time of all its crons, evaluated in its time zone. It is
// the zero time when no cron fires again.
func NextPeriodicLaunch(p *structs.PeriodicConfig, t time.Time) (time.Time, error) {
	tz := p.TimeZone
	if tz == "" {
		tz = structs.DefaultPeriodicTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.Time{}, fmt.Errorf("periodic time zone %q: %w", tz, err)
	}
	var next time.Time
	for _, spec := range p.AllSpecs() {
		expr, err := cronexpr.Parse(spec)
		if err != nil {
			return time.Time{}, fmt.Errorf("periodic cron %q: %w", spec, err)
		}
		n := expr.Next(t.In(loc))
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next, nil
}

// PeriodicChild derives the job launched for parent at launch: a copy
// without the periodic block, named after the launch time, pointing back
// at its parent.
func PeriodicChild(parent *structs.Job, launch time.Time) *structs.Job {
	c := childOf(parent)
	c.ID = fmt.Sprintf("%s%s%d", parent.ID, PeriodicLaunchSuffix, launch.Unix())
	c.Name = c.ID
	c.Periodic = nil
	return c
}

// childOf copies a template job into a fresh job: no server bookkeeping,
// not stopped, with ParentID set.
func childOf(parent *structs.Job) *structs.Job {
	c := parent.Copy()
	c.ParentID = parent.ID
	c.Stop = false
	c.Status, c.StatusDescription = "", ""
	c.Stable = false
	c.Version, c.SubmitTime = 0, 0
	c.CreateIndex, c.ModifyIndex, c.JobModifyIndex = 0, 0, 0
	c.VersionTag = nil
	return c
}

// children returns the jobs whose parent is parent.
func children(snap *state.Snapshot, parent *structs.Job) ([]*structs.Job, error) {
	jobs, err := snap.Jobs(parent.Namespace, parent.ID+"/")
	if err != nil {
		return nil, fmt.Errorf("list children of job %q: %w", parent.ID, err)
	}
	out := jobs[:0:0]
	for _, j := range jobs {
		if j.ParentID == parent.ID {
			out = append(out, j)
		}
	}
	return out, nil
}

// ChildrenSummary counts a periodic or parameterized job's children by
// status, for the Children field of its JobSummary. It is nil for other
// jobs.
func ChildrenSummary(snap *state.Snapshot, parent *structs.Job) (*structs.JobChildrenSummary, error) {
	if !parent.IsPeriodic() && !parent.IsParameterized() {
		return nil, nil
	}
	kids, err := children(snap, parent)
	if err != nil {
		return nil, err
	}
	sum := &structs.JobChildrenSummary{}
	for _, k := range kids {
		status, err := snap.JobStatus(k)
		if err != nil {
			return nil, fmt.Errorf("status of job %q: %w", k.ID, err)
		}
		switch status {
		case structs.JobStatusRunning:
			sum.Running++
		case structs.JobStatusDead:
			sum.Dead++
		default:
			sum.Pending++
		}
	}
	return sum, nil
}

// liveChildren reports whether any child of parent is not dead yet: what
// prohibit_overlap waits for.
func liveChildren(snap *state.Snapshot, parent *structs.Job) (bool, error) {
	sum, err := ChildrenSummary(snap, parent)
	if err != nil || sum == nil {
		return false, err
	}
	return sum.Pending+sum.Running > 0, nil
}

// launchFunc registers child with its evaluation and returns that
// evaluation's ID.
type launchFunc func(child *structs.Job) (string, error)

// periodicDispatcher launches the children of periodic jobs on time. Only
// the leader runs one.
type periodicDispatcher struct {
	store  *state.StateStore
	clock  Clock
	launch launchFunc
	logger hclog.Logger

	tracked map[structs.NamespacedID]*periodicEntry
}

// periodicEntry is one tracked periodic job: its next launch, computed
// from the job version seen at jobModifyIndex.
type periodicEntry struct {
	jobModifyIndex uint64
	next           time.Time
}

func newPeriodicDispatcher(store *state.StateStore, clock Clock, launch launchFunc, logger hclog.Logger) *periodicDispatcher {
	return &periodicDispatcher{
		store:   store,
		clock:   clock,
		launch:  launch,
		logger:  logger,
		tracked: map[structs.NamespacedID]*periodicEntry{},
	}
}

// startPeriodic runs the periodic dispatcher until ctx (leadership) ends.
func (s *Server) startPeriodic(ctx context.Context) {
	d := newPeriodicDispatcher(s.state, realClock{}, s.registerChild, s.cfg.Logger.Named("periodic"))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		d.run(ctx)
	}()
}

// registerChild registers a child job (periodic or dispatched) with the
// evaluation that schedules it. The caller is the leader.
func (s *Server) registerChild(child *structs.Job) (string, error) {
	var reply JobRegisterReply
	if err := (&JobEndpoint{srv: s}).Register(&JobRegisterArgs{Job: child}, &reply); err != nil {
		return "", err
	}
	return reply.EvalID, nil
}

// run makes a pass whenever jobs change and whenever the earliest launch
// is due.
func (d *periodicDispatcher) run(ctx context.Context) {
	var index uint64
	for {
		snap := d.store.Snapshot()
		idx, err := snap.Index(state.TableJobs)
		if err != nil {
			d.logger.Error("read jobs index", "error", err)
		}
		// BlockingQuery does not block for index 0 (a jobs table never
		// written): 1 makes it wait for the first job.
		index = max(index, idx, 1)
		now := d.clock.Now()
		if err := d.pass(snap, now); err != nil {
			d.logger.Error("periodic pass", "error", err)
		}
		var timer <-chan time.Time
		if next := d.earliest(); !next.IsZero() {
			timer = d.clock.After(next.Sub(now))
		}
		if !d.wait(ctx, index, timer) {
			return
		}
	}
}

// wait blocks until the jobs table passes index, timer fires or ctx ends;
// it reports false when ctx ended.
func (d *periodicDispatcher) wait(ctx context.Context, index uint64, timer <-chan time.Time) bool {
	wctx, cancel := context.WithCancel(ctx)
	changed := make(chan struct{})
	go func() {
		defer close(changed)
		_, _ = d.store.BlockingQuery(wctx, index, func(snap *state.Snapshot) (uint64, error) {
			return snap.Index(state.TableJobs)
		})
	}()
	select {
	case <-changed:
	case <-timer:
	case <-ctx.Done():
	}
	cancel()
	<-changed
	return ctx.Err() == nil
}

// earliest returns the next launch of all tracked jobs, or zero.
func (d *periodicDispatcher) earliest() time.Time {
	var next time.Time
	for _, e := range d.tracked {
		if !e.next.IsZero() && (next.IsZero() || e.next.Before(next)) {
			next = e.next
		}
	}
	return next
}

// pass brings the tracked set up to date with snap (new, changed, stopped
// and removed periodic jobs) and launches every job whose time has come.
func (d *periodicDispatcher) pass(snap *state.Snapshot, now time.Time) error {
	jobs, err := snap.Jobs("*", "")
	if err != nil {
		return fmt.Errorf("list jobs: %w", err)
	}
	seen := map[structs.NamespacedID]bool{}
	var due []*structs.Job
	for _, j := range jobs {
		if !j.IsPeriodic() || !j.Periodic.Enabled || j.Stop {
			continue
		}
		key := j.NamespacedID()
		seen[key] = true
		e := d.tracked[key]
		if e == nil || e.jobModifyIndex != j.JobModifyIndex {
			next, err := NextPeriodicLaunch(j.Periodic, now)
			if err != nil {
				d.logger.Error("cannot schedule periodic job", "job_id", j.ID, "namespace", j.Namespace, "error", err)
				next = time.Time{}
			}
			e = &periodicEntry{jobModifyIndex: j.JobModifyIndex, next: next}
			d.tracked[key] = e
			d.logger.Debug("tracking periodic job", "job_id", j.ID, "next_launch", next)
		}
		if !e.next.IsZero() && !e.next.After(now) {
			due = append(due, j)
		}
	}
	for key := range d.tracked {
		if !seen[key] {
			delete(d.tracked, key)
			d.logger.Debug("periodic job no longer tracked", "job_id", key.ID, "namespace", key.Namespace)
		}
	}
	// Launch in a stable order so children appear predictably.
	sort.Slice(due, func(a, b int) bool { return due[a].ID < due[b].ID })
	for _, j := range due {
		e := d.tracked[j.NamespacedID()]
		d.launchOne(snap, j, e.next)
		// A leader that fell behind launches once, not once per missed
		// time: the next launch is the first one after now.
		next, err := NextPeriodicLaunch(j.Periodic, maxTime(e.next, now))
		if err != nil {
			next = time.Time{}
		}
		e.next = next
	}
	return nil
}

// launchOne launches parent's child for launch time at, unless
// prohibit_overlap holds it back.
func (d *periodicDispatcher) launchOne(snap *state.Snapshot, parent *structs.Job, at time.Time) {
	log := d.logger.With("job_id", parent.ID, "namespace", parent.Namespace, "launch", at)
	if parent.Periodic.ProhibitOverlap {
		live, err := liveChildren(snap, parent)
		if err != nil {
			log.Error("cannot check for a running child", "error", err)
			return
		}
		if live {
			log.Info("skipping periodic launch: a previous child is still running (prohibit_overlap)")
			return
		}
	}
	child := PeriodicChild(parent, at)
	evalID, err := d.launch(child)
	if err != nil {
		log.Error("periodic launch failed", "error", err)
		return
	}
	log.Info("launched periodic job", "child_id", child.ID, "eval_id", evalID)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// JobPeriodicForceArgs asks to launch a periodic job's child now.
type JobPeriodicForceArgs struct {
	Namespace string
	JobID     string
}

// PeriodicForce launches a child of a periodic job now, whatever its
// schedule and prohibit_overlap say, and returns the child's evaluation.
func (j *JobEndpoint) PeriodicForce(args *JobPeriodicForceArgs, reply *JobRegisterReply) error {
	if done, err := j.srv.forward("Job.PeriodicForce", args, reply); done {
		return err
	}
	ns := args.Namespace
	if ns == "" {
		ns = structs.DefaultNamespace
	}
	parent, err := j.srv.state.Snapshot().JobByID(ns, args.JobID)
	if err != nil {
		return fmt.Errorf("force periodic job %q: %w", args.JobID, err)
	}
	if parent == nil {
		return fmt.Errorf("job %q not found", args.JobID)
	}
	if !parent.IsPeriodic() {
		return fmt.Errorf("job %q is not periodic", args.JobID)
	}
	if parent.Stop {
		return fmt.Errorf("job %q is stopped", args.JobID)
	}
	child := PeriodicChild(parent, time.Now())
	var r JobRegisterReply
	if err := j.Register(&JobRegisterArgs{Job: child}, &r); err != nil {
		return fmt.Errorf("force periodic job %q: %w", args.JobID, err)
	}
	*reply = r
	return nil
}

// PeriodicForce launches a child of the periodic job now, through the
// leader, and returns the child's evaluation ID and the write's index once
// this server has applied it.
func (s *Server) PeriodicForce(namespace, jobID string) (string, uint64, error) {
	var reply JobRegisterReply
	args := &JobPeriodicForceArgs{Namespace: namespace, JobID: jobID}
	if err := (&JobEndpoint{srv: s}).PeriodicForce(args, &reply); err != nil {
		return "", 0, err
	}
	return reply.EvalID, reply.Index, s.waitApplied(reply.Index)
}
