// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"context"
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
)

func testJob(id string) *structs.Job {
	return &structs.Job{
		ID: id, Name: id, Namespace: "default", Type: structs.JobTypeService, Priority: 50,
		Datacenters: []string{"dc1"},
		TaskGroups: []*structs.TaskGroup{{Name: "web", Count: 2, Tasks: []*structs.Task{{
			Name: "t", Driver: "raw_exec", Resources: &structs.Resources{CPU: 100, MemoryMB: 64},
		}}}},
	}
}

func newStore(t *testing.T) *StateStore {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUpsertJobVersions(t *testing.T) {
	s := newStore(t)
	job := testJob("web")
	if err := s.UpsertJob(10, job, nil); err != nil {
		t.Fatal(err)
	}
	// Same spec again: version and JobModifyIndex stay.
	if err := s.UpsertJob(11, job, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Snapshot().JobByID("default", "web")
	if got.Version != 0 || got.JobModifyIndex != 10 || got.ModifyIndex != 11 || got.CreateIndex != 10 {
		t.Fatalf("resubmit: version=%d jmi=%d mi=%d ci=%d", got.Version, got.JobModifyIndex, got.ModifyIndex, got.CreateIndex)
	}
	changed := job.Copy()
	changed.TaskGroups[0].Count = 5
	if err := s.UpsertJob(12, changed, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Snapshot().JobByID("default", "web")
	if got.Version != 1 || got.JobModifyIndex != 12 {
		t.Fatalf("change: version=%d jmi=%d", got.Version, got.JobModifyIndex)
	}
	if job.CreateIndex != 0 {
		t.Fatal("UpsertJob mutated its argument")
	}
}

func TestBlockingQueryWakesOnChange(t *testing.T) {
	s := newStore(t)
	if err := s.UpsertJob(5, testJob("a"), nil); err != nil {
		t.Fatal(err)
	}
	result := make(chan uint64, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		idx, err := s.BlockingQuery(ctx, 5, func(snap *Snapshot) (uint64, error) {
			return snap.Index(TableJobs)
		})
		if err != nil {
			t.Error(err)
		}
		result <- idx
	}()
	select {
	case idx := <-result:
		t.Fatalf("returned before any change, at index %d", idx)
	case <-time.After(50 * time.Millisecond):
	}
	if err := s.UpsertJob(6, testJob("b"), nil); err != nil {
		t.Fatal(err)
	}
	select {
	case idx := <-result:
		if idx != 6 {
			t.Fatalf("index = %d, want 6", idx)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocking query did not wake on change")
	}
}

func TestBlockingQueryTimesOut(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	idx, err := s.BlockingQuery(ctx, 100, func(snap *Snapshot) (uint64, error) { return snap.Index(TableJobs) })
	if err != nil || idx != 1 { // empty tables report 1, never 0
		t.Fatalf("idx=%d err=%v", idx, err)
	}
}

// A caller may keep the snapshot of the query's last run and read it after
// BlockingQuery returns, whether it woke on a change or timed out; earlier
// snapshots are released while it blocks.
func TestBlockingQueryLastSnapshotReadable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change bool
	}{{"woken", true}, {"timed out", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if err := s.UpsertJob(5, testJob("a"), nil); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			var kept, first *Snapshot
			done := make(chan error, 1)
			started := make(chan struct{})
			go func() {
				_, err := s.BlockingQuery(ctx, 5, func(snap *Snapshot) (uint64, error) {
					if first == nil {
						first = snap
						close(started)
					}
					kept = snap
					return snap.Index(TableJobs)
				})
				done <- err
			}()
			<-started
			if tc.change {
				if err := s.UpsertJob(6, testJob("b"), nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			job, err := kept.JobByID("default", "a")
			if err != nil || job == nil {
				t.Fatalf("kept snapshot: job=%v err=%v", job, err)
			}
			if first == kept || first.txn != nil {
				t.Fatal("the first snapshot was not released while blocked")
			}
		})
	}
}

func TestPlanResultsAndClientUpdates(t *testing.T) {
	s := newStore(t)
	job := testJob("web")
	if err := s.UpsertJob(1, job, nil); err != nil {
		t.Fatal(err)
	}
	stored, _ := s.Snapshot().JobByID("default", "web")
	alloc := &structs.Allocation{ID: structs.GenerateUUID(), Namespace: "default", JobID: "web", NodeID: "n1", TaskGroup: "web",
		DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusPending, EvalID: "e1"}
	if err := s.ApplyPlanResults(2, &structs.ApplyPlanResultsRequest{Job: stored, AllocsUpdated: []*structs.Allocation{alloc}, UpdatedAt: 99}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Snapshot().AllocByID(alloc.ID)
	if got.Job == nil || got.Job.ID != "web" || got.CreateIndex != 2 || got.CreateTime != 99 {
		t.Fatalf("placed alloc: %+v", got)
	}
	if err := s.UpdateAllocsFromClient(3, &structs.AllocClientUpdate{Allocs: []*structs.Allocation{{ID: alloc.ID, ClientStatus: structs.AllocClientStatusRunning}}}); err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	sum, err := snap.JobSummary(stored)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Summary["web"].Running != 1 {
		t.Fatalf("summary = %+v", sum.Summary)
	}
	if st, _ := snap.JobStatus(stored); st != structs.JobStatusRunning {
		t.Fatalf("status = %s", st)
	}
	// A stop from a later plan keeps the client's status.
	stop := &structs.Allocation{ID: alloc.ID, DesiredStatus: structs.AllocDesiredStatusStop, DesiredDescription: "alloc is stopped"}
	if err := s.ApplyPlanResults(4, &structs.ApplyPlanResultsRequest{AllocsStopped: []*structs.Allocation{stop}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Snapshot().AllocByID(alloc.ID)
	if got.DesiredStatus != structs.AllocDesiredStatusStop || got.ClientStatus != structs.AllocClientStatusRunning || got.Job == nil {
		t.Fatalf("stopped alloc: %+v", got)
	}
}

func TestDumpRestoreRoundTrip(t *testing.T) {
	s := newStore(t)
	_ = s.UpsertJob(1, testJob("a"), structs.NewEval(testJob("a"), structs.EvalTriggerJobRegister, time.Unix(1, 0)))
	_ = s.UpsertNode(2, &structs.Node{ID: "n1", SecretID: "s", Status: structs.NodeStatusReady})
	dump, err := s.Snapshot().Dump()
	if err != nil {
		t.Fatal(err)
	}
	abandoned := s.AbandonCh()
	other := newStore(t)
	if err := other.Restore(dump); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(dump); err != nil {
		t.Fatal(err)
	}
	select {
	case <-abandoned:
	default:
		t.Fatal("restore did not wake blocked readers")
	}
	snap := other.Snapshot()
	if j, _ := snap.JobByID("default", "a"); j == nil {
		t.Fatal("job lost in restore")
	}
	if n, _ := snap.NodeByID("n1"); n == nil || n.SecretID != "s" {
		t.Fatal("node lost in restore")
	}
	if idx, _ := snap.LatestIndex(); idx != 2 {
		t.Fatalf("latest index = %d", idx)
	}
}
