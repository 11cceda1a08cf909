// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/droverhq/drover/server/jobdiff"
	"github.com/droverhq/drover/structs"
)

// planOf plans job on s and checks that planning wrote nothing.
func planOf(t *testing.T, s *Server, job *structs.Job) *JobPlanReply {
	t.Helper()
	before, _ := s.State().Snapshot().LatestIndex()
	evalsBefore, _ := s.State().Snapshot().Evals("", "")
	reply, err := s.PlanJob(job, true)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := s.State().Snapshot().LatestIndex()
	evalsAfter, _ := s.State().Snapshot().Evals("", "")
	if after != before || len(evalsAfter) != len(evalsBefore) {
		t.Fatalf("plan wrote state: index %d -> %d, evals %d -> %d", before, after, len(evalsBefore), len(evalsAfter))
	}
	return reply
}

func TestPlanJob(t *testing.T) {
	s := testServer(t)
	var resp structs.NodeUpdateResponse
	if err := s.Node().Register(&structs.NodeRegisterRequest{Node: testNode(4000, 8192)}, &resp); err != nil {
		t.Fatal(err)
	}

	// A new job: everything is placed, nothing is stored.
	p := planOf(t, s, testJob("web", 3))
	if p.JobModifyIndex != 0 || p.Diff.Type != jobdiff.TypeAdded || p.FailedTGAllocs != nil {
		t.Fatalf("plan of new job: %+v diff %+v", p, p.Diff)
	}
	if du := *p.Annotations.DesiredTGUpdates["web"]; du != (DesiredUpdates{Place: 3}) {
		t.Fatalf("new job updates = %+v", du)
	}
	if p.Diff.TaskGroups[0].Updates[jobdiff.UpdateTypeCreate] != 3 {
		t.Fatalf("diff group updates = %v", p.Diff.TaskGroups[0].Updates)
	}
	if j, _ := s.State().Snapshot().JobByID("default", "web"); j != nil {
		t.Fatal("plan stored the job")
	}

	if _, _, err := s.RegisterJob(testJob("web", 3)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "3 placements", func() bool { return len(liveAllocs(t, s, "web")) == 3 })
	stored, _ := s.State().Snapshot().JobByID("default", "web")

	withConfig := testJob("web", 3)
	withConfig.TaskGroups[0].Tasks[0].Config["command"] = "/bin/false"
	withService := testJob("web", 3)
	withService.TaskGroups[0].Tasks[0].Services = []*structs.Service{{Name: "web", Provider: "nomad"}}
	withService.Canonicalize()

	tests := []struct {
		name     string
		job      *structs.Job
		diffType string
		want     DesiredUpdates
		failed   bool
	}{
		{"unchanged", testJob("web", 3), jobdiff.TypeNone, DesiredUpdates{Ignore: 3}, false},
		// A new count is a new job version: the allocations kept move to
		// it in place, as Nomad's "(7 create, 1 in-place update)".
		{"scale up", testJob("web", 5), jobdiff.TypeEdited, DesiredUpdates{Place: 2, InPlaceUpdate: 3}, false},
		{"scale down", testJob("web", 1), jobdiff.TypeEdited, DesiredUpdates{Stop: 2, InPlaceUpdate: 1}, false},
		{"destructive", withConfig, jobdiff.TypeEdited, DesiredUpdates{DestructiveUpdate: 3}, false},
		{"in place", withService, jobdiff.TypeEdited, DesiredUpdates{InPlaceUpdate: 3}, false},
		// 4000 MHz hold eight 500 MHz allocations: two of the seven
		// creates fail, and are explained.
		{"beyond capacity", testJob("web", 10), jobdiff.TypeEdited, DesiredUpdates{Place: 7, InPlaceUpdate: 3}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planOf(t, s, tt.job)
			if p.JobModifyIndex != stored.JobModifyIndex {
				t.Errorf("JobModifyIndex = %d, want the stored %d", p.JobModifyIndex, stored.JobModifyIndex)
			}
			if p.Diff.Type != tt.diffType {
				t.Errorf("diff type = %s, want %s", p.Diff.Type, tt.diffType)
			}
			if got := *p.Annotations.DesiredTGUpdates["web"]; got != tt.want {
				t.Errorf("updates = %+v, want %+v", got, tt.want)
			}
			if m := p.FailedTGAllocs["web"]; (m != nil) != tt.failed {
				t.Errorf("failed allocs = %+v, want failure %v", p.FailedTGAllocs, tt.failed)
			} else if m != nil && m.NodesExhausted == 0 {
				t.Errorf("failure metric names no exhausted node: %+v", m)
			}
		})
	}
	if n := len(liveAllocs(t, s, "web")); n != 3 {
		t.Fatalf("plans changed the allocations: %d live", n)
	}
}

func TestPlanPeriodicJob(t *testing.T) {
	s := testServer(t)
	job := testJob("cron", 1)
	job.Type = structs.JobTypeBatch
	job.Periodic = &structs.PeriodicConfig{Enabled: true, Spec: "*/15 * * * *", SpecType: structs.PeriodicSpecCron}
	job.Canonicalize()
	p := planOf(t, s, job)
	if p.NextPeriodicLaunch.IsZero() || !p.NextPeriodicLaunch.After(time.Now()) || p.NextPeriodicLaunch.Minute()%15 != 0 {
		t.Fatalf("next launch = %v", p.NextPeriodicLaunch)
	}
	if du := *p.Annotations.DesiredTGUpdates["web"]; du != (DesiredUpdates{}) {
		t.Fatalf("a periodic template schedules nothing, got %+v", du)
	}
}

func TestRegisterEnforceIndex(t *testing.T) {
	s := testServer(t)
	tests := []struct {
		name  string
		index func() uint64
		err   string
	}{
		{"absent job, nonzero index", func() uint64 { return 7 }, "Enforcing job modify index 7: job does not exist"},
		{"absent job, zero index", func() uint64 { return 0 }, ""},
		{"existing job, zero index", func() uint64 { return 0 }, "Enforcing job modify index 0: job already exists"},
		{"existing job, stale index", func() uint64 { return 1 }, "job exists with conflicting job modify index: "},
		{"existing job, current index", func() uint64 {
			j, _ := s.State().Snapshot().JobByID("default", "web")
			return j.JobModifyIndex
		}, ""},
	}
	count := 1
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			count++ // each registration changes the job
			_, _, err := s.RegisterJobAtIndex(testJob("web", count), tt.index())
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !IsEnforceIndexError(err)):
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

// Two registrations checked against the same index: exactly one wins, the
// other sees the first one's write.
func TestRegisterEnforceIndexRace(t *testing.T) {
	s := testServer(t)
	if _, _, err := s.RegisterJob(testJob("web", 1)); err != nil {
		t.Fatal(err)
	}
	j, _ := s.State().Snapshot().JobByID("default", "web")
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = s.RegisterJobAtIndex(testJob("web", 2+i), j.JobModifyIndex)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !IsEnforceIndexError(err):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d registrations passed the same index check, want 1: %v", won, errs)
	}
}

// A dry run of a job that fits only by preemption shows the evictions,
// and evicts nothing.
func TestPlanJobShowsPreemptions(t *testing.T) {
	s := testServer(t)
	var resp structs.NodeUpdateResponse
	if err := s.Node().Register(&structs.NodeRegisterRequest{Node: testNode(1000, 8192)}, &resp); err != nil {
		t.Fatal(err)
	}
	cfg := structs.DefaultSchedulerConfiguration()
	cfg.PreemptionConfig.ServiceSchedulerEnabled = true
	if _, err := s.SetSchedulerConfig(cfg, false); err != nil {
		t.Fatal(err)
	}
	low := testJob("low", 2) // 2 × 500 MHz fill the node
	low.Priority = 20
	if _, _, err := s.RegisterJob(low); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "2 placements", func() bool { return len(liveAllocs(t, s, "low")) == 2 })

	urgent := testJob("urgent", 1)
	urgent.Priority = 90
	p := planOf(t, s, urgent)
	if du := *p.Annotations.DesiredTGUpdates["web"]; du.Place != 1 || du.Preemptions != 1 {
		t.Fatalf("updates = %+v, want 1 place with 1 preemption", du)
	}
	if n := len(p.Annotations.PreemptedAllocs); n != 1 || p.Annotations.PreemptedAllocs[0].JobID != "low" {
		t.Fatalf("preempted allocs = %+v", p.Annotations.PreemptedAllocs)
	}
	if n := len(liveAllocs(t, s, "low")); n != 2 {
		t.Fatalf("the dry run evicted: %d live", n)
	}
}
