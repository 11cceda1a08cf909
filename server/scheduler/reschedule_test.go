// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
	"github.com/hashicorp/go-hclog"
)

// processAt runs one evaluation of job with the scheduler's clock at now.
// evalID may name the evaluation (a follow-up); empty picks a new one.
func (h *harness) processAt(job *structs.Job, now time.Time, evalID string) *structs.Evaluation {
	h.t.Helper()
	if evalID == "" {
		evalID = structs.GenerateUUID()
	}
	eval := &structs.Evaluation{
		ID: evalID, Namespace: structs.DefaultNamespace, Priority: 50,
		Type: job.Type, TriggeredBy: structs.EvalTriggerNodeUpdate, JobID: job.ID, Status: structs.EvalStatusPending,
	}
	s := newGenericScheduler(job.Type, hclog.NewNullLogger(), h.state, h.planner)
	s.now = func() time.Time { return now }
	if err := s.Process(eval); err != nil {
		h.t.Fatalf("process: %v", err)
	}
	return h.planner.lastEval(h.t)
}

// replacementOf returns the live allocation that replaced prev, or nil.
func (h *harness) replacementOf(prev *structs.Allocation) *structs.Allocation {
	for _, a := range h.state.liveAllocs(prev.JobID) {
		if a.PreviousAllocation == prev.ID {
			return a
		}
	}
	return nil
}

func TestLostAllocsOnDownNodeReplaced(t *testing.T) {
	h := newHarness(t)
	down := testNode("down", 4000, 8192)
	down.Status = structs.NodeStatusDown
	h.state.upsertNode(down)
	h.state.upsertNode(testNode("up", 4000, 8192))
	job := testJob("web", 3, 100, 128)
	h.state.upsertJob(job)
	lost0 := h.addAlloc(job, "down", 0, structs.AllocClientStatusRunning)
	lost1 := h.addAlloc(job, "down", 1, structs.AllocClientStatusRunning)
	stay := h.addAlloc(job, "up", 2, structs.AllocClientStatusRunning)

	h.processAt(job, time.Now(), "")
	for _, prev := range []*structs.Allocation{lost0, lost1} {
		got := h.state.allocs[prev.ID]
		if got.DesiredStatus != structs.AllocDesiredStatusStop || got.ClientStatus != structs.AllocClientStatusLost || got.DesiredDescription != descLost {
			t.Errorf("%s: desired %s client %s (%q), want stop/lost", prev.Name, got.DesiredStatus, got.ClientStatus, got.DesiredDescription)
		}
		repl := h.replacementOf(prev)
		if repl == nil {
			t.Fatalf("%s was not replaced", prev.Name)
		}
		if repl.NodeID != "up" || repl.Name != prev.Name {
			t.Errorf("replacement of %s: %s on %s", prev.Name, repl.Name, repl.NodeID)
		}
		if repl.RescheduleTracker != nil {
			t.Errorf("replacement of a lost allocation carries a reschedule tracker")
		}
	}
	if h.state.allocs[stay.ID].TerminalStatus() {
		t.Errorf("the allocation on the ready node was stopped")
	}
	if live := h.state.liveAllocs("web"); len(live) != 3 {
		t.Errorf("live = %v, want 3", allocNames(live))
	}
}

func TestMigrateMarkedAllocsOnDrainingNode(t *testing.T) {
	h := newHarness(t)
	draining := testNode("draining", 4000, 8192)
	draining.Drain = true
	draining.SchedulingEligibility = structs.NodeSchedulingIneligible
	draining.DrainStrategy = &structs.DrainStrategy{StartedAt: time.Now()}
	h.state.upsertNode(draining)
	h.state.upsertNode(testNode("other", 4000, 8192))
	job := testJob("web", 2, 100, 128)
	h.state.upsertJob(job)
	marked := h.addAlloc(job, "draining", 0, structs.AllocClientStatusRunning)
	yes := true
	marked.DesiredTransition.Migrate = &yes
	unmarked := h.addAlloc(job, "draining", 1, structs.AllocClientStatusRunning)

	h.processAt(job, time.Now(), "")
	if got := h.state.allocs[marked.ID]; got.DesiredStatus != structs.AllocDesiredStatusStop || got.DesiredDescription != descMigrating || got.ClientStatus != structs.AllocClientStatusRunning {
		t.Errorf("marked: desired %s (%q) client %s", got.DesiredStatus, got.DesiredDescription, got.ClientStatus)
	}
	if repl := h.replacementOf(marked); repl == nil || repl.NodeID != "other" {
		t.Fatalf("marked allocation not migrated to the other node: %+v", repl)
	}
	if h.state.allocs[unmarked.ID].TerminalStatus() {
		t.Errorf("an allocation the drainer did not mark was stopped")
	}
}

func TestRescheduleDelayFunctions(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	ev := func(ago time.Duration, delay time.Duration) *structs.RescheduleEvent {
		return &structs.RescheduleEvent{RescheduleTime: t0.Add(-ago).UnixNano(), PrevAllocID: "x", PrevNodeID: "n0", Delay: delay}
	}
	cases := []struct {
		name      string
		fn        string
		maxDelay  time.Duration
		events    []*structs.RescheduleEvent
		wantDelay time.Duration
	}{
		{"constant first", structs.ReschedDelayFuncConstant, 0, nil, 10 * time.Second},
		{"constant again", structs.ReschedDelayFuncConstant, 0, []*structs.RescheduleEvent{ev(5*time.Second, 10*time.Second)}, 10 * time.Second},
		{"exponential first", structs.ReschedDelayFuncExponential, time.Hour, nil, 10 * time.Second},
		{"exponential doubles", structs.ReschedDelayFuncExponential, time.Hour, []*structs.RescheduleEvent{ev(5*time.Second, 40*time.Second)}, 80 * time.Second},
		{"exponential capped", structs.ReschedDelayFuncExponential, time.Minute, []*structs.RescheduleEvent{ev(5*time.Second, 40*time.Second)}, time.Minute},
		{"fibonacci second", structs.ReschedDelayFuncFibonacci, time.Hour, []*structs.RescheduleEvent{ev(5*time.Second, 10*time.Second)}, 10 * time.Second},
		{"fibonacci sums", structs.ReschedDelayFuncFibonacci, time.Hour, []*structs.RescheduleEvent{ev(30*time.Second, 20*time.Second), ev(5*time.Second, 30*time.Second)}, 50 * time.Second},
		{"reset after a long run", structs.ReschedDelayFuncExponential, time.Hour, []*structs.RescheduleEvent{ev(30*time.Minute, 40*time.Second)}, 10 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.state.upsertNode(testNode("a", 4000, 8192))
			h.state.upsertNode(testNode("b", 4000, 8192))
			job := testJob("web", 1, 100, 128)
			job.TaskGroups[0].ReschedulePolicy = &structs.ReschedulePolicy{
				Delay: 10 * time.Second, DelayFunction: tc.fn, MaxDelay: tc.maxDelay, Unlimited: true,
			}
			h.state.upsertJob(job)
			failed := h.addAlloc(job, "a", 0, structs.AllocClientStatusFailed)
			failed.ModifyTime = t0.UnixNano()
			failed.RescheduleTracker = &structs.RescheduleTracker{Events: tc.events}

			// Before the delay passes: a follow-up evaluation, no placement.
			h.processAt(job, t0.Add(time.Second), "")
			if len(h.planner.created) != 1 {
				t.Fatalf("created %d evals, want 1 follow-up", len(h.planner.created))
			}
			follow := h.planner.created[0]
			if want := t0.Add(tc.wantDelay); !follow.WaitUntil.Equal(want) || follow.Status != structs.EvalStatusPending || follow.TriggeredBy != structs.EvalTriggerRetryFailedAlloc {
				t.Fatalf("follow-up: %s %s WaitUntil %s, want pending alloc-failure at %s", follow.Status, follow.TriggeredBy, follow.WaitUntil, want)
			}
			if got := h.state.allocs[failed.ID].FollowupEvalID; got != follow.ID {
				t.Fatalf("FollowupEvalID = %q, want %q", got, follow.ID)
			}
			if len(h.state.liveAllocs("web")) != 0 {
				t.Fatalf("replacement placed before the delay")
			}
			// Another evaluation in the meantime creates no second follow-up.
			h.processAt(job, t0.Add(2*time.Second), "")
			if len(h.planner.created) != 1 {
				t.Fatalf("a second follow-up was created")
			}

			// The follow-up runs: the replacement is placed, on the other node.
			h.processAt(job, follow.WaitUntil, follow.ID)
			repl := h.replacementOf(failed)
			if repl == nil {
				t.Fatal("not rescheduled when the follow-up ran")
			}
			if repl.NodeID != "b" {
				t.Errorf("replacement on %s, the node it failed on", repl.NodeID)
			}
			events := repl.RescheduleTracker.Events
			last := events[len(events)-1]
			if last.PrevAllocID != failed.ID || last.PrevNodeID != "a" || last.Delay != tc.wantDelay {
				t.Errorf("last event = %+v, want prev %s on a with delay %s", last, failed.ID, tc.wantDelay)
			}
		})
	}
}

func TestRescheduleAttempts(t *testing.T) {
	t0 := time.Now()
	recent := &structs.RescheduleEvent{RescheduleTime: t0.Add(-10 * time.Minute).UnixNano(), PrevAllocID: "x", Delay: time.Second}
	old := &structs.RescheduleEvent{RescheduleTime: t0.Add(-3 * time.Hour).UnixNano(), PrevAllocID: "y", Delay: time.Second}
	cases := []struct {
		name   string
		policy *structs.ReschedulePolicy
		events []*structs.RescheduleEvent
		want   bool
	}{
		{"attempt left", &structs.ReschedulePolicy{Attempts: 2, Interval: time.Hour, DelayFunction: "constant"}, []*structs.RescheduleEvent{recent}, true},
		{"attempts exhausted in interval", &structs.ReschedulePolicy{Attempts: 1, Interval: time.Hour, DelayFunction: "constant"}, []*structs.RescheduleEvent{recent}, false},
		{"old attempts do not count", &structs.ReschedulePolicy{Attempts: 1, Interval: time.Hour, DelayFunction: "constant"}, []*structs.RescheduleEvent{old}, true},
		{"unlimited", &structs.ReschedulePolicy{Unlimited: true, DelayFunction: "constant"}, []*structs.RescheduleEvent{recent, recent, recent, recent, recent, recent}, true},
		{"disabled", &structs.ReschedulePolicy{Attempts: 0, Interval: time.Hour}, nil, false},
		{"no policy", nil, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.state.upsertNode(testNode("a", 4000, 8192))
			job := testJob("web", 1, 100, 128)
			job.TaskGroups[0].ReschedulePolicy = tc.policy
			h.state.upsertJob(job)
			failed := h.addAlloc(job, "a", 0, structs.AllocClientStatusFailed)
			failed.ModifyTime = t0.Add(-time.Minute).UnixNano()
			failed.RescheduleTracker = &structs.RescheduleTracker{Events: tc.events}
			h.processAt(job, t0, "")
			repl := h.replacementOf(failed)
			if (repl != nil) != tc.want {
				t.Fatalf("rescheduled = %v, want %v", repl != nil, tc.want)
			}
			if !tc.want && len(h.planner.created) != 0 {
				t.Fatalf("created a follow-up for an allocation that may not be rescheduled")
			}
			if repl != nil && tc.policy.Unlimited && len(repl.RescheduleTracker.Events) > maxUnlimitedEvents {
				t.Errorf("unlimited history grew to %d events", len(repl.RescheduleTracker.Events))
			}
		})
	}
}

func TestBatchRescheduleDefaults(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("a", 4000, 8192))
	h.state.upsertNode(testNode("b", 4000, 8192))
	job := testJob("batch", 1, 100, 128)
	job.Type = structs.JobTypeBatch
	job.TaskGroups[0].Tasks[0].Config = map[string]any{"command": "/bin/true"}
	job.Canonicalize()
	policy := job.TaskGroups[0].ReschedulePolicy
	if policy == nil || policy.Attempts != 1 || policy.Interval != 24*time.Hour || policy.Delay != 5*time.Second || policy.DelayFunction != structs.ReschedDelayFuncConstant || policy.Unlimited {
		t.Fatalf("batch default policy = %+v", policy)
	}
	h.state.upsertJob(job)
	t0 := time.Now()
	first := h.addAlloc(job, "a", 0, structs.AllocClientStatusFailed)
	first.ModifyTime = t0.UnixNano()

	// The one attempt: after 5 s.
	h.processAt(job, t0.Add(5*time.Second), "")
	second := h.replacementOf(first)
	if second == nil {
		t.Fatal("first failure of a batch allocation not rescheduled after 5s")
	}
	// The replacement fails too: no attempt left within 24 h.
	second.ClientStatus = structs.AllocClientStatusFailed
	second.ModifyTime = t0.Add(time.Minute).UnixNano()
	h.processAt(job, t0.Add(2*time.Minute), "")
	if third := h.replacementOf(second); third != nil {
		t.Fatalf("second failure rescheduled although attempts are exhausted")
	}
	if len(h.planner.created) != 0 {
		t.Fatalf("created %d evals, want none", len(h.planner.created))
	}
}

func TestServiceRescheduleDefaults(t *testing.T) {
	job := testJob("svc", 1, 100, 128)
	job.Canonicalize()
	p := job.TaskGroups[0].ReschedulePolicy
	if p == nil || !p.Unlimited || p.Delay != 30*time.Second || p.DelayFunction != structs.ReschedDelayFuncExponential || p.MaxDelay != time.Hour {
		t.Fatalf("service default policy = %+v", p)
	}
}

func TestFollowupEvalsBatchByWindow(t *testing.T) {
	now := time.Now()
	eval := &structs.Evaluation{ID: "e", Namespace: "default", JobID: "j", Type: "service", Priority: 50}
	job := &structs.Job{ID: "j", JobModifyIndex: 7}
	mk := func(id string, after time.Duration) delayedReschedule {
		return delayedReschedule{alloc: &structs.Allocation{ID: id}, when: now.Add(after)}
	}
	evals, annotated := followupEvals(eval, job, []delayedReschedule{mk("a", 10*time.Second), mk("b", 12*time.Second), mk("c", 30*time.Second)}, now)
	if len(evals) != 2 {
		t.Fatalf("evals = %d, want 2 (a+b, c)", len(evals))
	}
	if annotated[0].FollowupEvalID != evals[0].ID || annotated[1].FollowupEvalID != evals[0].ID || annotated[2].FollowupEvalID != evals[1].ID {
		t.Fatalf("allocations not grouped by window")
	}
	if !evals[0].WaitUntil.Equal(now.Add(10*time.Second)) || evals[0].JobModifyIndex != 7 || evals[0].PreviousEval != "e" {
		t.Fatalf("first follow-up = %+v", evals[0])
	}
}
