// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/structs"
)

func victim(id string, priority int, cpu, mem int64) preemptible {
	return preemptible{
		alloc:    &structs.Allocation{ID: id},
		priority: priority,
		res:      structs.ComparableResources{CPU: cpu, MemoryMB: mem},
	}
}

func TestSelectVictims(t *testing.T) {
	res := func(cpu, mem int64) structs.ComparableResources {
		return structs.ComparableResources{CPU: cpu, MemoryMB: mem}
	}
	cases := []struct {
		name     string
		free     structs.ComparableResources
		ask      structs.ComparableResources
		cands    []preemptible
		priority int
		want     []string
		ok       bool
	}{
		{
			name: "fits without eviction", free: res(500, 500), ask: res(100, 100),
			cands: []preemptible{victim("a", 10, 100, 100)}, priority: 50, ok: true,
		},
		{
			name: "only clearly lower priorities are evicted", free: res(0, 0), ask: res(100, 100),
			cands: []preemptible{victim("close", 45, 500, 500)}, priority: 50, ok: false,
		},
		{
			name: "priority exactly delta below is preemptible", free: res(0, 0), ask: res(100, 100),
			cands: []preemptible{victim("a", 40, 100, 100)}, priority: 50, want: []string{"a"}, ok: true,
		},
		{
			name: "lowest priority first", free: res(0, 0), ask: res(100, 100),
			cands:    []preemptible{victim("mid", 30, 100, 100), victim("low", 10, 100, 100)},
			priority: 50, want: []string{"low"}, ok: true,
		},
		{
			name: "several small victims when needed", free: res(50, 50), ask: res(250, 250),
			cands:    []preemptible{victim("a", 10, 100, 100), victim("b", 10, 100, 100), victim("c", 10, 100, 100)},
			priority: 50, want: []string{"a", "b"}, ok: true,
		},
		{
			name: "among equal priorities the better cover first", free: res(0, 0), ask: res(300, 300),
			// Same priority: the large one covers more and comes first,
			// so the small one is never needed.
			cands:    []preemptible{victim("small", 10, 100, 100), victim("large", 10, 400, 400)},
			priority: 50, want: []string{"large"}, ok: true,
		},
		{
			name: "a victim made redundant is dropped", free: res(0, 0), ask: res(300, 300),
			// "low" is taken first but cannot fit the ask alone; "mid"
			// then suffices, so "low" is dropped by pruning.
			cands:    []preemptible{victim("low", 5, 100, 100), victim("mid", 20, 300, 300)},
			priority: 50, want: []string{"mid"}, ok: true,
		},
		{
			name: "not enough even with every victim", free: res(0, 0), ask: res(1000, 100),
			cands:    []preemptible{victim("a", 10, 100, 100), victim("b", 10, 100, 100)},
			priority: 50, ok: false,
		},
		{
			name: "memory shortfall prefers memory-heavy victims", free: res(1000, 0), ask: res(100, 200),
			cands:    []preemptible{victim("cpu", 10, 800, 50), victim("mem", 10, 10, 250)},
			priority: 50, want: []string{"mem"}, ok: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := selectVictims(tc.free, tc.ask, tc.cands, tc.priority)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			var ids []string
			for _, v := range got {
				ids = append(ids, v.alloc.ID)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("victims = %v, want %v", ids, tc.want)
			}
		})
	}
}

// preemptionRun processes one evaluation of job against h's state with
// the scheduler configuration cfg.
func preemptionRun(t *testing.T, h *harness, cfg *structs.SchedulerConfiguration, job *structs.Job) *structs.Evaluation {
	t.Helper()
	h.state.upsertJob(job)
	st := &configState{memState: h.state, cfg: cfg}
	sched, err := New(job.Type, hclog.NewNullLogger(), st, h.planner)
	if err != nil {
		t.Fatal(err)
	}
	eval := &structs.Evaluation{ID: structs.GenerateUUID(), Namespace: structs.DefaultNamespace, Priority: job.Priority,
		Type: job.Type, TriggeredBy: structs.EvalTriggerJobRegister, JobID: job.ID, Status: structs.EvalStatusPending}
	if err := sched.Process(eval); err != nil {
		t.Fatal(err)
	}
	return h.planner.lastEval(t)
}

func withPriority(j *structs.Job, p int) *structs.Job { j.Priority = p; return j }

// Preemption evicts the lowest-priority allocations that make room, only
// where the scheduler configuration enables it for the job's type, and
// only from jobs at least 10 priority points lower.
func TestPreemption(t *testing.T) {
	serviceOn := structs.DefaultSchedulerConfiguration()
	serviceOn.PreemptionConfig.ServiceSchedulerEnabled = true
	cases := []struct {
		name        string
		cfg         *structs.SchedulerConfiguration
		jobType     string
		priority    int
		lowPriority []int // priorities of the jobs filling node n1 (one 1000 MHz alloc each)
		wantEvicted []int // indexes into lowPriority
	}{
		{name: "service preemption is off by default", cfg: structs.DefaultSchedulerConfiguration(),
			jobType: structs.JobTypeService, priority: 80, lowPriority: []int{20, 20}},
		{name: "service preemption when enabled", cfg: serviceOn,
			jobType: structs.JobTypeService, priority: 80, lowPriority: []int{20, 30}, wantEvicted: []int{0}},
		{name: "jobs within 10 points are safe", cfg: serviceOn,
			jobType: structs.JobTypeService, priority: 50, lowPriority: []int{45, 41}},
		{name: "system jobs preempt by default", cfg: structs.DefaultSchedulerConfiguration(),
			jobType: structs.JobTypeSystem, priority: 80, lowPriority: []int{30, 20}, wantEvicted: []int{1}},
		{name: "batch preemption off by default", cfg: structs.DefaultSchedulerConfiguration(),
			jobType: structs.JobTypeBatch, priority: 80, lowPriority: []int{20, 20}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.state.upsertNode(testNode("n1", 2000, 4096))
			var low []*structs.Allocation
			for i, p := range tc.lowPriority {
				j := withPriority(testJob(fmt.Sprintf("low%d", i), 1, 1000, 512), p)
				h.state.upsertJob(j)
				low = append(low, h.addAlloc(j, "n1", 0, structs.AllocClientStatusRunning))
			}
			job := withPriority(testJob("urgent", 1, 800, 256), tc.priority)
			job.Type = tc.jobType
			eval := preemptionRun(t, h, tc.cfg, job)

			placed := h.state.liveAllocs("urgent")
			if len(tc.wantEvicted) == 0 {
				if len(placed) != 0 || eval.QueuedAllocations["web"] != 1 {
					t.Fatalf("placed %d, queued %v: want nothing placed", len(placed), eval.QueuedAllocations)
				}
				for _, a := range low {
					if h.state.allocs[a.ID].DesiredStatus != structs.AllocDesiredStatusRun {
						t.Fatalf("allocation of priority %d evicted", a.Job.Priority)
					}
				}
				return
			}
			if len(placed) != 1 {
				t.Fatalf("placed %d allocations, want 1 (eval %+v)", len(placed), eval.FailedTGAllocs)
			}
			var wantIDs []string
			for _, i := range tc.wantEvicted {
				v := h.state.allocs[low[i].ID]
				if v.DesiredStatus != structs.AllocDesiredStatusEvict || v.PreemptedByAllocation != placed[0].ID ||
					v.DesiredDescription != descPreempted+placed[0].ID {
					t.Fatalf("victim %d: %s %q by %q", i, v.DesiredStatus, v.DesiredDescription, v.PreemptedByAllocation)
				}
				wantIDs = append(wantIDs, v.ID)
			}
			if !slices.Equal(placed[0].PreemptedAllocations, wantIDs) {
				t.Fatalf("PreemptedAllocations = %v, want %v", placed[0].PreemptedAllocations, wantIDs)
			}
			evicted := 0
			for _, a := range low {
				if h.state.allocs[a.ID].DesiredStatus == structs.AllocDesiredStatusEvict {
					evicted++
				}
			}
			if evicted != len(tc.wantEvicted) {
				t.Fatalf("%d allocations evicted, want %d", evicted, len(tc.wantEvicted))
			}
			// Each preempted job is evaluated again, once.
			var again []string
			for _, e := range h.planner.created {
				if e.TriggeredBy == structs.EvalTriggerPreemption {
					again = append(again, e.JobID)
				}
			}
			var wantJobs []string
			for _, i := range tc.wantEvicted {
				wantJobs = append(wantJobs, low[i].JobID)
			}
			if !slices.Equal(again, wantJobs) {
				t.Fatalf("preemption evaluations for %v, want %v", again, wantJobs)
			}
		})
	}
}

// Among nodes that preemption could free, the one whose evictions matter
// least wins.
func TestPreemptionPrefersLeastImportantVictims(t *testing.T) {
	cfg := structs.DefaultSchedulerConfiguration()
	cfg.PreemptionConfig.ServiceSchedulerEnabled = true
	h := newHarness(t)
	for _, n := range []string{"a", "b"} {
		h.state.upsertNode(testNode(n, 1000, 2048))
	}
	mid := withPriority(testJob("mid", 1, 1000, 512), 40)
	low := withPriority(testJob("low", 1, 1000, 512), 10)
	h.state.upsertJob(mid)
	h.state.upsertJob(low)
	h.addAlloc(mid, "a", 0, structs.AllocClientStatusRunning)
	lowAlloc := h.addAlloc(low, "b", 0, structs.AllocClientStatusRunning)

	preemptionRun(t, h, cfg, withPriority(testJob("urgent", 1, 500, 256), 90))
	placed := h.state.liveAllocs("urgent")
	if len(placed) != 1 || placed[0].NodeID != "b" || !slices.Equal(placed[0].PreemptedAllocations, []string{lowAlloc.ID}) {
		t.Fatalf("placed %+v, want on b evicting the priority-10 allocation", placed)
	}
}

// A static port held by a lower-priority allocation is freed by evicting
// it; the new allocation gets that port.
func TestPreemptionFreesStaticPort(t *testing.T) {
	h := newHarness(t)
	node := testNode("n1", 4000, 8192)
	node.NodeResources.Networks = []*structs.NetworkResource{{Device: "eth0", IP: "10.0.0.1", CIDR: "10.0.0.1/32"}}
	h.state.upsertNode(node)
	withPort := func(j *structs.Job) *structs.Job {
		j.TaskGroups[0].Networks = []*structs.NetworkResource{{ReservedPorts: []structs.Port{{Label: "http", Value: 8080}}}}
		return j
	}
	low := withPort(withPriority(testJob("low", 1, 100, 128), 20))
	job := withPort(withPriority(testJob("agent", 1, 100, 128), 80))
	job.Type = structs.JobTypeSystem
	// The low-priority allocation holds the port: place it first.
	preemptionRun(t, h, structs.DefaultSchedulerConfiguration(), low)
	if got := h.state.liveAllocs("low"); len(got) != 1 {
		t.Fatalf("low job placed %d allocations", len(got))
	}
	preemptionRun(t, h, structs.DefaultSchedulerConfiguration(), job)
	placed := h.state.liveAllocs("agent")
	if len(placed) != 1 || len(placed[0].PreemptedAllocations) != 1 {
		t.Fatalf("system allocation %+v: want one, evicting the port holder", placed)
	}
	if ports := placed[0].AllocatedResources.Shared.Ports; len(ports) != 1 || ports[0].Value != 8080 {
		t.Fatalf("ports %+v, want 8080", ports)
	}
	if len(h.state.liveAllocs("low")) != 0 {
		t.Fatal("the port holder still runs")
	}
}

// A system job asking a reserved core evicts a lower-priority holder of
// the node's cores, and gets one of them.
func TestPreemptionFreesCores(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(coreNode("n1", 2, 1000, ""))
	low := withPriority(coreJob("low", 1, 2), 20) // both cores
	preemptionRun(t, h, structs.DefaultSchedulerConfiguration(), low)
	if got := h.state.liveAllocs("low"); len(got) != 1 {
		t.Fatalf("low job placed %d allocations", len(got))
	}
	agent := withPriority(coreJob("agent", 1, 1), 80)
	agent.Type = structs.JobTypeSystem
	preemptionRun(t, h, structs.DefaultSchedulerConfiguration(), agent)
	placed := h.state.liveAllocs("agent")
	if len(placed) != 1 || len(placed[0].PreemptedAllocations) != 1 {
		t.Fatalf("system allocation %+v: want one, evicting the core holder", placed)
	}
	if cores := structs.AllocReservedCores(placed[0].AllocatedResources); len(cores) != 1 {
		t.Fatalf("reserved cores %v, want one", cores)
	}
	checkCores(t, h)
}
