// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file applies a group's `reschedule` block to its failed
// allocations: whether one may be replaced at all (attempts left in the
// interval, or unlimited), after which delay (constant, exponential or
// fibonacci, capped at max_delay), and, when that delay has not passed
// yet, the follow-up evaluation that will come back for it. Nothing here
// reads the clock: the scheduler passes now.

import (
	"slices"
	"time"

	"github.com/droverhq/drover/structs"
)

// followupBatchWindow groups failed allocations whose reschedule times fall
// within this window into one follow-up evaluation, as Nomad does, so a
// group failing at once does not make one evaluation per allocation. The
// evaluation runs at the window's first time; allocations it was created
// for are replaced when it runs even if their own time is a few seconds
// later.
const followupBatchWindow = 5 * time.Second

// maxUnlimitedEvents bounds the reschedule history an allocation carries
// under an unlimited policy: only the last delays matter for the next one.
const maxUnlimitedEvents = 5

// delayedReschedule is a failed allocation that may be replaced at when.
type delayedReschedule struct {
	alloc *structs.Allocation
	when  time.Time
}

// rescheduleOutcome is what the policy decided for one group.
type rescheduleOutcome struct {
	now   []placeReq          // replace in this plan
	later []delayedReschedule // replace when a follow-up evaluation runs
}

// planReschedules decides, for each allocation awaiting rescheduling in gp,
// what happens to it under tg's policy. evalID is the evaluation being
// processed: allocations whose follow-up it is are due.
func planReschedules(gp *groupPlan, tg *structs.TaskGroup, evalID string, now time.Time) rescheduleOutcome {
	var out rescheduleOutcome
	policy := tg.ReschedulePolicy
	for _, a := range gp.awaitingReschedule {
		if a.ClientStatus == structs.AllocClientStatusLost {
			// Lost allocations (a client that reports one lost) are
			// replaced at once, as when their node goes down.
			out.now = append(out.now, placeReq{group: gp.name, name: a.Name, index: allocIndex(a.Name), previous: a})
			continue
		}
		if !rescheduleEligible(policy, a, now) {
			continue
		}
		delay := nextDelay(policy, a, failTime(a))
		when := failTime(a).Add(delay)
		if !when.After(now) || (a.FollowupEvalID != "" && a.FollowupEvalID == evalID) {
			out.now = append(out.now, placeReq{
				group: gp.name, name: a.Name, index: allocIndex(a.Name), previous: a,
				reschedule: true, delay: delay,
			})
			continue
		}
		if a.FollowupEvalID != "" {
			continue // a follow-up evaluation already waits for it
		}
		out.later = append(out.later, delayedReschedule{alloc: a, when: when})
	}
	return out
}

// rescheduleEligible reports whether policy allows one more reschedule of
// a at now: the policy is enabled and, unless unlimited, fewer than
// Attempts reschedules happened in the last Interval.
func rescheduleEligible(policy *structs.ReschedulePolicy, a *structs.Allocation, now time.Time) bool {
	if !policy.Enabled() {
		return false
	}
	if policy.Unlimited {
		return true
	}
	used := 0
	if a.RescheduleTracker != nil {
		for _, ev := range a.RescheduleTracker.Events {
			if now.Sub(time.Unix(0, ev.RescheduleTime)) < policy.Interval {
				used++
			}
		}
	}
	return used < policy.Attempts
}

// nextDelay is the delay before a's replacement under policy: Delay for
// the first reschedule; then constant keeps Delay, exponential doubles the
// last delay, fibonacci adds the last two. The result is capped at
// MaxDelay. When the allocation ran longer than that delay before failing,
// the failures are not coming in quick succession and the delay starts
// over from Delay.
func nextDelay(policy *structs.ReschedulePolicy, a *structs.Allocation, failed time.Time) time.Duration {
	base := policy.Delay
	var events []*structs.RescheduleEvent
	if a.RescheduleTracker != nil {
		events = a.RescheduleTracker.Events
	}
	if len(events) == 0 {
		return base
	}
	last := events[len(events)-1]
	delay := base
	switch policy.DelayFunction {
	case structs.ReschedDelayFuncExponential:
		delay = last.Delay * 2
	case structs.ReschedDelayFuncFibonacci:
		if len(events) >= 2 {
			delay = last.Delay + events[len(events)-2].Delay
		}
	}
	if delay < base {
		delay = base // history from before a policy change
	}
	if policy.MaxDelay > 0 && delay > policy.MaxDelay {
		delay = policy.MaxDelay
	}
	if failed.Sub(time.Unix(0, last.RescheduleTime)) > delay {
		return base
	}
	return delay
}

// failTime is when a failed: the latest finish of its tasks, or its last
// modification when no task reported one.
func failTime(a *structs.Allocation) time.Time {
	var t time.Time
	for _, ts := range a.TaskStates {
		if ts != nil && ts.FinishedAt.After(t) {
			t = ts.FinishedAt
		}
	}
	if t.IsZero() {
		t = time.Unix(0, a.ModifyTime)
	}
	return t
}

// newRescheduleTracker is the history the replacement of prev carries:
// prev's events that still matter under policy, plus this reschedule.
func newRescheduleTracker(policy *structs.ReschedulePolicy, prev *structs.Allocation, now time.Time, delay time.Duration) *structs.RescheduleTracker {
	var kept []*structs.RescheduleEvent
	if prev.RescheduleTracker != nil {
		for _, ev := range prev.RescheduleTracker.Events {
			if policy != nil && !policy.Unlimited && now.Sub(time.Unix(0, ev.RescheduleTime)) >= policy.Interval {
				continue
			}
			c := *ev
			kept = append(kept, &c)
		}
	}
	if policy != nil && policy.Unlimited && len(kept) >= maxUnlimitedEvents {
		kept = kept[len(kept)-maxUnlimitedEvents+1:]
	}
	kept = append(kept, &structs.RescheduleEvent{
		RescheduleTime: now.UnixNano(),
		PrevAllocID:    prev.ID,
		PrevNodeID:     prev.NodeID,
		Delay:          delay,
	})
	return &structs.RescheduleTracker{Events: kept}
}

// followupEvals creates the evaluations that come back for delayed
// reschedules, one per followupBatchWindow, and returns them with the
// failed allocations annotated with their follow-up's ID (to store through
// the plan, so the next evaluation does not create another).
func followupEvals(eval *structs.Evaluation, job *structs.Job, delayed []delayedReschedule, now time.Time) ([]*structs.Evaluation, []*structs.Allocation) {
	if len(delayed) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(delayed, func(x, y delayedReschedule) int { return x.when.Compare(y.when) })
	var evals []*structs.Evaluation
	var annotated []*structs.Allocation
	var current *structs.Evaluation
	var windowStart time.Time
	for _, d := range delayed {
		if current == nil || d.when.Sub(windowStart) >= followupBatchWindow {
			windowStart = d.when
			current = &structs.Evaluation{
				ID:                structs.GenerateUUID(),
				Namespace:         eval.Namespace,
				Priority:          eval.Priority,
				Type:              eval.Type,
				TriggeredBy:       structs.EvalTriggerRetryFailedAlloc,
				JobID:             eval.JobID,
				JobModifyIndex:    job.JobModifyIndex,
				Status:            structs.EvalStatusPending,
				StatusDescription: "created for delayed rescheduling of failed allocations",
				Wait:              d.when.Sub(now),
				WaitUntil:         d.when,
				PreviousEval:      eval.ID,
				CreateTime:        now.UnixNano(),
				ModifyTime:        now.UnixNano(),
			}
			evals = append(evals, current)
		}
		a := d.alloc.Copy()
		a.FollowupEvalID = current.ID
		annotated = append(annotated, a)
	}
	return evals, annotated
}
