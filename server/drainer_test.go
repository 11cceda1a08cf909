// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
)

// fastHeartbeatServer is a dev server whose nodes go down quickly.
func fastHeartbeatServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{DevMode: true, RPCAddr: "127.0.0.1:0", NodeName: t.Name(),
		MinHeartbeatTTL: 300 * time.Millisecond, HeartbeatGrace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	waitFor(t, 5*time.Second, "leadership", func() bool { return s.IsLeader() && s.broker.Enabled() })
	return s
}

func registerNode(t *testing.T, s *Server, n *structs.Node) {
	t.Helper()
	var resp structs.NodeUpdateResponse
	if err := s.Node().Register(&structs.NodeRegisterRequest{Node: n}, &resp); err != nil {
		t.Fatal(err)
	}
}

// heartbeat keeps nodes alive until the returned stop is called.
func heartbeat(t *testing.T, s *Server, nodes ...*structs.Node) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			for _, n := range nodes {
				var resp structs.NodeUpdateResponse
				_ = s.Node().UpdateStatus(&structs.NodeUpdateStatusRequest{NodeID: n.ID, SecretID: n.SecretID, Status: structs.NodeStatusReady}, &resp)
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// fakeClients plays the clients of nodes: pending allocations start
// running (every task started now) and stopped ones complete.
func fakeClients(t *testing.T, s *Server, nodes ...*structs.Node) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			for _, n := range nodes {
				allocs, _ := s.State().Snapshot().AllocsByNode(n.ID)
				var updates []*structs.Allocation
				for _, a := range allocs {
					switch {
					case a.DesiredStatus == structs.AllocDesiredStatusRun && a.ClientStatus == structs.AllocClientStatusPending:
						updates = append(updates, &structs.Allocation{ID: a.ID, ClientStatus: structs.AllocClientStatusRunning,
							TaskStates: map[string]*structs.TaskState{"t": {State: structs.TaskStateRunning, StartedAt: time.Now()}}})
					case a.DesiredStatus == structs.AllocDesiredStatusStop && a.ClientStatus == structs.AllocClientStatusRunning:
						updates = append(updates, &structs.Allocation{ID: a.ID, ClientStatus: structs.AllocClientStatusComplete,
							TaskStates: map[string]*structs.TaskState{"t": {State: structs.TaskStateDead, FinishedAt: time.Now()}}})
					}
				}
				if len(updates) > 0 {
					var resp structs.GenericResponse
					_ = s.Node().UpdateAlloc(&structs.AllocUpdateRequest{NodeID: n.ID, SecretID: n.SecretID, Allocs: updates}, &resp)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func nodeOf(t *testing.T, s *Server, id string) *structs.Node {
	t.Helper()
	n, err := s.State().Snapshot().NodeByID(id)
	if err != nil || n == nil {
		t.Fatalf("node %s: %v", id, err)
	}
	return n
}

// A node that misses its heartbeats goes down: its allocations become lost
// and are replaced on another node; when it comes back it is ready again
// and is told to stop what was replaced.
func TestNodeDownReplacesAndComesBack(t *testing.T) {
	s := fastHeartbeatServer(t)
	a := testNode(4000, 4096)
	registerNode(t, s, a)
	stopA := heartbeat(t, s, a)
	if _, _, err := s.RegisterJob(testJob("web", 2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "2 placements on a", func() bool { return len(liveAllocs(t, s, "web")) == 2 })
	original := liveAllocs(t, s, "web")

	b := testNode(4000, 4096)
	registerNode(t, s, b)
	heartbeat(t, s, b)
	stopA()
	waitFor(t, 10*time.Second, "node a down", func() bool { return nodeOf(t, s, a.ID).Status == structs.NodeStatusDown })
	waitFor(t, 10*time.Second, "replacements on b", func() bool {
		live := liveAllocs(t, s, "web")
		if len(live) != 2 {
			return false
		}
		for _, l := range live {
			if l.NodeID != b.ID || l.PreviousAllocation == "" {
				return false
			}
		}
		return true
	})
	snap := s.State().Snapshot()
	for _, o := range original {
		got, _ := snap.AllocByID(o.ID)
		if got.DesiredStatus != structs.AllocDesiredStatusStop || got.ClientStatus != structs.AllocClientStatusLost || got.NextAllocation == "" {
			t.Fatalf("original %s: desired %s client %s next %q", o.Name, got.DesiredStatus, got.ClientStatus, got.NextAllocation)
		}
	}

	// Node a comes back.
	heartbeat(t, s, a)
	waitFor(t, 5*time.Second, "node a ready", func() bool { return nodeOf(t, s, a.ID).Status == structs.NodeStatusReady })
	sent := pullNodeAllocs(t, s, a)
	if len(sent) != 2 {
		t.Fatalf("node a is sent %d allocations, want its 2", len(sent))
	}
	for _, al := range sent {
		if al.DesiredStatus != structs.AllocDesiredStatusStop {
			t.Fatalf("replaced allocation %s sent with desired status %s", al.ID, al.DesiredStatus)
		}
	}
}

// A failed allocation is rescheduled after the policy's delay, on the
// other node, through a delayed follow-up evaluation.
func TestFailedAllocRescheduledAfterDelay(t *testing.T) {
	s := testServer(t)
	a, b := testNode(4000, 4096), testNode(4000, 4096)
	registerNode(t, s, a)
	job := testJob("web", 1)
	job.TaskGroups[0].ReschedulePolicy = &structs.ReschedulePolicy{Delay: 400 * time.Millisecond, DelayFunction: structs.ReschedDelayFuncConstant, Unlimited: true}
	if _, _, err := s.RegisterJob(job); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "placement", func() bool { return len(liveAllocs(t, s, "web")) == 1 })
	first := liveAllocs(t, s, "web")[0]
	registerNode(t, s, b)
	failedAt := time.Now()
	var resp structs.GenericResponse
	if err := s.Node().UpdateAlloc(&structs.AllocUpdateRequest{NodeID: a.ID, SecretID: a.SecretID, Allocs: []*structs.Allocation{{
		ID: first.ID, ClientStatus: structs.AllocClientStatusFailed,
		TaskStates: map[string]*structs.TaskState{"t": {State: structs.TaskStateDead, Failed: true, FinishedAt: failedAt}},
	}}}, &resp); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "follow-up eval recorded on the failed allocation", func() bool {
		got, _ := s.State().Snapshot().AllocByID(first.ID)
		return got.FollowupEvalID != "" || got.NextAllocation != ""
	})
	waitFor(t, 10*time.Second, "replacement", func() bool { return len(liveAllocs(t, s, "web")) == 1 })
	repl := liveAllocs(t, s, "web")[0]
	if repl.PreviousAllocation != first.ID || repl.NodeID != b.ID {
		t.Fatalf("replacement %s on %s, previous %s", repl.ID, repl.NodeID, repl.PreviousAllocation)
	}
	if since := time.Unix(0, repl.CreateTime).Sub(failedAt); since < 400*time.Millisecond {
		t.Fatalf("replaced %s after the failure, before the 400ms delay", since)
	}
	if tr := repl.RescheduleTracker; tr == nil || len(tr.Events) != 1 || tr.Events[0].PrevAllocID != first.ID || tr.Events[0].PrevNodeID != a.ID {
		t.Fatalf("reschedule tracker = %+v", tr)
	}
	f, _ := s.State().Snapshot().EvalByID(mustAlloc(t, s, first.ID).FollowupEvalID)
	if f == nil || f.WaitUntil.IsZero() {
		t.Fatalf("follow-up eval %+v has no WaitUntil", f)
	}
}

func mustAlloc(t *testing.T, s *Server, id string) *structs.Allocation {
	t.Helper()
	a, err := s.State().Snapshot().AllocByID(id)
	if err != nil || a == nil {
		t.Fatalf("alloc %s: %v", id, err)
	}
	return a
}

// A drain moves a service group at most max_parallel at a time, waiting
// for replacements to be healthy for min_healthy_time, then completes.
func TestDrainRespectsMaxParallel(t *testing.T) {
	s := testServer(t)
	a, b := testNode(8000, 8192), testNode(8000, 8192)
	registerNode(t, s, a)
	fakeClients(t, s, a, b)
	job := testJob("web", 3)
	job.TaskGroups[0].Migrate = &structs.MigrateStrategy{MaxParallel: 1, HealthCheck: structs.UpdateHealthCheckTaskStates, MinHealthyTime: 300 * time.Millisecond, HealthyDeadline: time.Minute}
	if _, _, err := s.RegisterJob(job); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "3 running on a", func() bool {
		live := liveAllocs(t, s, "web")
		running := 0
		for _, l := range live {
			if l.ClientStatus == structs.AllocClientStatusRunning {
				running++
			}
		}
		return running == 3
	})
	registerNode(t, s, b)
	if _, err := s.UpdateNodeDrain(&NodeDrainArgs{NodeID: a.ID, DrainSpec: &structs.DrainSpec{Deadline: time.Minute}, Meta: map[string]string{"why": "test"}}); err != nil {
		t.Fatal(err)
	}
	n := nodeOf(t, s, a.ID)
	if n.DrainStrategy == nil || !n.Drain || n.SchedulingEligibility != structs.NodeSchedulingIneligible || n.LastDrain == nil || n.LastDrain.Status != structs.DrainStatusDraining {
		t.Fatalf("node after drain start: %+v", n)
	}

	maxMoving := 0
	waitFor(t, 20*time.Second, "drain complete", func() bool {
		// Replacements on b not yet healthy are migrations in flight.
		allocs, _ := s.State().Snapshot().AllocsByNode(b.ID)
		moving := 0
		for _, al := range allocs {
			if !al.TerminalStatus() && !allocHealthy(al, 300*time.Millisecond, time.Now()) {
				moving++
			}
		}
		maxMoving = max(maxMoving, moving)
		return nodeOf(t, s, a.ID).DrainStrategy == nil
	})
	if maxMoving > 1 {
		t.Fatalf("%d migrations in flight at once, max_parallel is 1", maxMoving)
	}
	n = nodeOf(t, s, a.ID)
	if n.Drain || n.SchedulingEligibility != structs.NodeSchedulingIneligible || n.LastDrain == nil || n.LastDrain.Status != structs.DrainStatusComplete || n.LastDrain.Meta["why"] != "test" {
		t.Fatalf("node after drain: drain %v eligibility %s last %+v", n.Drain, n.SchedulingEligibility, n.LastDrain)
	}
	for _, l := range liveAllocs(t, s, "web") {
		if l.NodeID != b.ID {
			t.Fatalf("allocation %s still on the drained node", l.Name)
		}
	}
	if got := len(liveAllocs(t, s, "web")); got != 3 {
		t.Fatalf("%d live after drain, want 3", got)
	}
}

// At the deadline (here: forced at once) everything moves together, and
// batch allocations, which otherwise wait for the deadline, move too.
func TestDrainForcedAtDeadline(t *testing.T) {
	s := testServer(t)
	a, b := testNode(8000, 8192), testNode(8000, 8192)
	registerNode(t, s, a)
	job := testJob("web", 3) // default migrate: max_parallel 1, min_healthy_time 10s
	batch := testJob("batch", 1)
	batch.Type = structs.JobTypeBatch
	batch.TaskGroups[0].Migrate = nil
	batch.Canonicalize()
	for _, j := range []*structs.Job{job, batch} {
		if _, _, err := s.RegisterJob(j); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "placements", func() bool {
		return len(liveAllocs(t, s, "web")) == 3 && len(liveAllocs(t, s, "batch")) == 1
	})
	registerNode(t, s, b)
	if _, err := s.UpdateNodeDrain(&NodeDrainArgs{NodeID: a.ID, DrainSpec: &structs.DrainSpec{Deadline: -time.Second}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "drain complete", func() bool { return nodeOf(t, s, a.ID).DrainStrategy == nil })
	for _, id := range []string{"web", "batch"} {
		for _, l := range liveAllocs(t, s, id) {
			if l.NodeID != b.ID {
				t.Fatalf("%s still on the drained node", l.Name)
			}
		}
	}
}

// An ineligible node gets no placements; eligible again, it gets the
// blocked work. A draining node cannot be made eligible.
func TestEligibilityToggling(t *testing.T) {
	s := testServer(t)
	a := testNode(4000, 4096)
	registerNode(t, s, a)
	if _, err := s.UpdateNodeEligibility(&NodeEligibilityArgs{NodeID: a.ID, Eligibility: structs.NodeSchedulingIneligible}); err != nil {
		t.Fatal(err)
	}
	evalID, _, err := s.RegisterJob(testJob("web", 2))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "eval blocked", func() bool {
		e, _ := s.State().Snapshot().EvalByID(evalID)
		return e != nil && e.Status == structs.EvalStatusComplete && e.BlockedEval != ""
	})
	if n := len(liveAllocs(t, s, "web")); n != 0 {
		t.Fatalf("%d placements on an ineligible node", n)
	}
	if _, err := s.UpdateNodeEligibility(&NodeEligibilityArgs{NodeID: a.ID, Eligibility: structs.NodeSchedulingEligible}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "placements once eligible", func() bool { return len(liveAllocs(t, s, "web")) == 2 })

	if _, err := s.UpdateNodeEligibility(&NodeEligibilityArgs{NodeID: a.ID, Eligibility: "maybe"}); err == nil {
		t.Fatal("invalid eligibility accepted")
	}
	// A drain without deadline that cannot progress (no other node).
	if _, err := s.UpdateNodeDrain(&NodeDrainArgs{NodeID: a.ID, DrainSpec: &structs.DrainSpec{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateNodeEligibility(&NodeEligibilityArgs{NodeID: a.ID, Eligibility: structs.NodeSchedulingEligible}); err == nil {
		t.Fatal("a draining node was made eligible")
	}
	// Cancelling with MarkEligible makes it eligible again.
	if _, err := s.UpdateNodeDrain(&NodeDrainArgs{NodeID: a.ID, MarkEligible: true}); err != nil {
		t.Fatal(err)
	}
	n := nodeOf(t, s, a.ID)
	if n.DrainStrategy != nil || n.Drain || n.SchedulingEligibility != structs.NodeSchedulingEligible || n.LastDrain == nil || n.LastDrain.Status != structs.DrainStatusCanceled {
		t.Fatalf("after cancel: drain %v eligibility %s last %+v", n.Drain, n.SchedulingEligibility, n.LastDrain)
	}
}
