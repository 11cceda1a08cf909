// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNextPeriodicLaunch(t *testing.T) {
	tests := []struct {
		name  string
		cfg   structs.PeriodicConfig
		after string
		want  string
	}{
		{"every minute UTC", structs.PeriodicConfig{Spec: "* * * * *"}, "2026-03-01T10:00:30Z", "2026-03-01T10:01:00Z"},
		{"strictly after", structs.PeriodicConfig{Spec: "*/15 * * * *"}, "2026-03-01T10:15:00Z", "2026-03-01T10:30:00Z"},
		{"daily in New York (EST)", structs.PeriodicConfig{Spec: "0 9 * * *", TimeZone: "America/New_York"}, "2026-01-10T15:00:00Z", "2026-01-11T14:00:00Z"},
		{"daily in New York (EDT)", structs.PeriodicConfig{Spec: "0 9 * * *", TimeZone: "America/New_York"}, "2026-07-10T12:00:00Z", "2026-07-10T13:00:00Z"},
		{"half-hour zone", structs.PeriodicConfig{Spec: "0 0 * * *", TimeZone: "Asia/Kolkata"}, "2026-03-01T00:00:00Z", "2026-03-01T18:30:00Z"},
		{"earliest of several crons", structs.PeriodicConfig{Specs: []string{"0 12 * * *", "30 10 * * *", "0 0 1 * *"}}, "2026-03-01T10:00:00Z", "2026-03-01T10:30:00Z"},
		{"several crons, later one next", structs.PeriodicConfig{Specs: []string{"0 12 * * *", "30 10 * * *"}}, "2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z"},
		{"several crons in a zone", structs.PeriodicConfig{Specs: []string{"0 8 * * *", "0 20 * * *"}, TimeZone: "Europe/Paris"}, "2026-03-01T08:00:00Z", "2026-03-01T19:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NextPeriodicLaunch(&tt.cfg, mustTime(t, tt.after))
			if err != nil {
				t.Fatal(err)
			}
			if want := mustTime(t, tt.want); !got.Equal(want) {
				t.Fatalf("next launch = %s, want %s", got.UTC(), want)
			}
		})
	}
	if _, err := NextPeriodicLaunch(&structs.PeriodicConfig{Spec: "* * * * *", TimeZone: "Mars/Olympus"}, time.Now()); err == nil {
		t.Fatal("unknown time zone accepted")
	}
}

func periodicJob(id, spec string, overlap bool) *structs.Job {
	j := testJob(id, 1)
	j.Type = structs.JobTypeBatch
	j.Periodic = &structs.PeriodicConfig{Enabled: true, Spec: spec, ProhibitOverlap: overlap}
	j.Canonicalize()
	return j
}

func TestPeriodicChild(t *testing.T) {
	parent := periodicJob("report", "* * * * *", false)
	parent.CreateIndex, parent.Version, parent.Status = 7, 3, structs.JobStatusRunning
	c := PeriodicChild(parent, time.Unix(1700000000, 0))
	if c.ID != "report/periodic-1700000000" || c.Name != c.ID || c.ParentID != "report" {
		t.Fatalf("child identity: id=%q name=%q parent=%q", c.ID, c.Name, c.ParentID)
	}
	if c.Periodic != nil || c.IsPeriodic() || c.CreateIndex != 0 || c.Version != 0 || c.Status != "" {
		t.Fatalf("child keeps template state: %+v", c)
	}
	if parent.Periodic == nil || parent.ID != "report" {
		t.Fatal("parent modified")
	}
}

// periodicHarness runs a dispatcher over a bare state store; its launcher
// stores each child with a pending evaluation, as the leader does.
type periodicHarness struct {
	t     *testing.T
	store *state.StateStore
	index uint64
	d     *periodicDispatcher

	mu       sync.Mutex
	launched []*structs.Job
	evals    map[string]*structs.Evaluation
}

func newPeriodicHarness(t *testing.T, clock Clock) *periodicHarness {
	st, err := state.New()
	if err != nil {
		t.Fatal(err)
	}
	h := &periodicHarness{t: t, store: st, index: 1, evals: map[string]*structs.Evaluation{}}
	h.d = newPeriodicDispatcher(st, clock, h.launch, hclog.NewNullLogger())
	return h
}

func (h *periodicHarness) nextIndex() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.index++
	return h.index
}

func (h *periodicHarness) launch(child *structs.Job) (string, error) {
	e := structs.NewEval(child, structs.EvalTriggerJobRegister, time.Unix(0, 0))
	if err := h.store.UpsertJob(h.nextIndex(), child, e); err != nil {
		return "", err
	}
	h.mu.Lock()
	h.launched = append(h.launched, child)
	h.evals[child.ID] = e
	h.mu.Unlock()
	return e.ID, nil
}

func (h *periodicHarness) upsert(j *structs.Job) {
	if err := h.store.UpsertJob(h.nextIndex(), j, nil); err != nil {
		h.t.Fatal(err)
	}
}

// finish marks a child's evaluation complete: with no allocations the
// child is then dead.
func (h *periodicHarness) finish(childID string) {
	h.mu.Lock()
	e := h.evals[childID].Copy()
	h.mu.Unlock()
	e.Status = structs.EvalStatusComplete
	if err := h.store.UpsertEvals(h.nextIndex(), []*structs.Evaluation{e}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *periodicHarness) ids() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, c := range h.launched {
		out = append(out, c.ID)
	}
	return out
}

func (h *periodicHarness) pass(at time.Time) {
	if err := h.d.pass(h.store.Snapshot(), at); err != nil {
		h.t.Fatal(err)
	}
}

func equalIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPeriodicDispatcherLaunchesOnSchedule(t *testing.T) {
	h := newPeriodicHarness(t, realClock{})
	h.upsert(periodicJob("every-min", "* * * * *", false))
	h.upsert(testJob("plain", 1))
	t0 := mustTime(t, "2026-03-01T10:00:30Z")
	h.pass(t0)
	if len(h.ids()) != 0 {
		t.Fatalf("launched before its time: %v", h.ids())
	}
	if len(h.d.tracked) != 1 {
		t.Fatalf("tracked %d jobs, want only the periodic one", len(h.d.tracked))
	}
	if got := h.d.earliest(); !got.Equal(mustTime(t, "2026-03-01T10:01:00Z")) {
		t.Fatalf("earliest = %s", got)
	}
	h.pass(mustTime(t, "2026-03-01T10:01:00Z"))
	h.pass(mustTime(t, "2026-03-01T10:01:10Z")) // nothing new is due
	// A leader that fell behind launches once, then resumes the schedule.
	h.pass(mustTime(t, "2026-03-01T10:05:20Z"))
	want := []string{
		"every-min/periodic-" + unix(t, "2026-03-01T10:01:00Z"),
		"every-min/periodic-" + unix(t, "2026-03-01T10:02:00Z"),
	}
	if !equalIDs(h.ids(), want) {
		t.Fatalf("launched %v, want %v", h.ids(), want)
	}
	if got := h.d.earliest(); !got.Equal(mustTime(t, "2026-03-01T10:06:00Z")) {
		t.Fatalf("after catching up, next = %s", got)
	}
	child, _ := h.store.Snapshot().JobByID("default", want[0])
	if child == nil || child.ParentID != "every-min" || child.Periodic != nil {
		t.Fatalf("stored child: %+v", child)
	}
	sum, err := ChildrenSummary(h.store.Snapshot(), periodicJobFrom(t, h, "every-min"))
	if err != nil || sum == nil || sum.Pending != 2 || sum.Running != 0 || sum.Dead != 0 {
		t.Fatalf("children summary %+v, %v", sum, err)
	}
}

func periodicJobFrom(t *testing.T, h *periodicHarness, id string) *structs.Job {
	t.Helper()
	j, err := h.store.Snapshot().JobByID("default", id)
	if err != nil || j == nil {
		t.Fatalf("job %q: %v", id, err)
	}
	return j
}

func unix(t *testing.T, s string) string {
	t.Helper()
	return itoa(mustTime(t, s).Unix())
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestPeriodicProhibitOverlap(t *testing.T) {
	h := newPeriodicHarness(t, realClock{})
	h.upsert(periodicJob("exclusive", "* * * * *", true))
	h.pass(mustTime(t, "2026-03-01T10:00:30Z"))
	h.pass(mustTime(t, "2026-03-01T10:01:00Z"))
	first := h.ids()
	if len(first) != 1 {
		t.Fatalf("first launch: %v", first)
	}
	h.pass(mustTime(t, "2026-03-01T10:02:00Z"))
	if len(h.ids()) != 1 {
		t.Fatalf("launched over a live child: %v", h.ids())
	}
	h.finish(first[0])
	h.pass(mustTime(t, "2026-03-01T10:03:00Z"))
	if got := h.ids(); len(got) != 2 || got[1] != "exclusive/periodic-"+itoa(mustTime(t, "2026-03-01T10:03:00Z").Unix()) {
		t.Fatalf("after the child died: %v", got)
	}
	sum, err := ChildrenSummary(h.store.Snapshot(), periodicJobFrom(t, h, "exclusive"))
	if err != nil || sum.Dead != 1 || sum.Pending != 1 {
		t.Fatalf("children summary %+v, %v", sum, err)
	}
}

func TestPeriodicUntracksStoppedAndDisabled(t *testing.T) {
	h := newPeriodicHarness(t, realClock{})
	j := periodicJob("p", "* * * * *", false)
	h.upsert(j)
	h.pass(mustTime(t, "2026-03-01T10:00:30Z"))
	if len(h.d.tracked) != 1 {
		t.Fatal("periodic job not tracked")
	}
	stopped := j.Copy()
	stopped.Stop = true
	h.upsert(stopped)
	h.pass(mustTime(t, "2026-03-01T10:01:00Z"))
	if len(h.d.tracked) != 0 || len(h.ids()) != 0 {
		t.Fatalf("stopped job still tracked (%d) or launched %v", len(h.d.tracked), h.ids())
	}
	disabled := j.Copy()
	disabled.Periodic.Enabled = false
	h.upsert(disabled)
	h.pass(mustTime(t, "2026-03-01T10:02:00Z"))
	if len(h.d.tracked) != 0 || len(h.ids()) != 0 {
		t.Fatal("disabled periodic job tracked")
	}
}

// fakeClock is a manual clock: After channels fire when Advance passes
// their deadline.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

func (c *fakeClock) Advance(to time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = to
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(to) {
			w.ch <- to
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func TestPeriodicDispatcherRunLoop(t *testing.T) {
	clock := &fakeClock{now: mustTime(t, "2026-03-01T10:00:30Z")}
	h := newPeriodicHarness(t, clock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.d.run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	// Registering a job wakes the loop, which arms a timer for it.
	h.upsert(periodicJob("loop", "* * * * *", false))
	waitFor(t, 5*time.Second, "timer for the first launch", func() bool { return clock.pending() > 0 })
	clock.Advance(mustTime(t, "2026-03-01T10:01:00Z"))
	want := "loop/periodic-" + itoa(mustTime(t, "2026-03-01T10:01:00Z").Unix())
	waitFor(t, 5*time.Second, "first child", func() bool {
		j, _ := h.store.Snapshot().JobByID("default", want)
		return j != nil
	})
}
