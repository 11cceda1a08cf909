// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"maps"
	"slices"
	"testing"

	"github.com/droverhq/drover/structs"
	"github.com/hashicorp/go-hclog"
)

// sysJob is a system (or sysbatch) job with one group "web" asking cpu MHz
// and mem MB on every node.
func sysJob(typ string, cpu, mem int) *structs.Job {
	j := testJob("sys", 1, cpu, mem)
	j.Type = typ
	return j
}

// processTrigger runs one evaluation of job triggered by trigger.
func (h *harness) processTrigger(job *structs.Job, trigger string) *structs.Evaluation {
	h.t.Helper()
	eval := &structs.Evaluation{
		ID: structs.GenerateUUID(), Namespace: structs.DefaultNamespace, Priority: job.Priority,
		Type: job.Type, TriggeredBy: trigger, JobID: job.ID, Status: structs.EvalStatusPending,
	}
	sched, err := New(job.Type, hclog.NewNullLogger(), h.state, h.planner)
	if err != nil {
		h.t.Fatalf("new scheduler: %v", err)
	}
	if err := sched.Process(eval); err != nil {
		h.t.Fatalf("process: %v", err)
	}
	return h.planner.lastEval(h.t)
}

// liveNodes returns the sorted node IDs of job's live allocations.
func (h *harness) liveNodes(jobID string) []string {
	var out []string
	for _, a := range h.state.liveAllocs(jobID) {
		out = append(out, a.NodeID)
	}
	slices.Sort(out)
	return out
}

// setClientStatus records a client-reported status on a's current version.
func (h *harness) setClientStatus(a *structs.Allocation, status string) {
	c := a.Copy()
	c.ClientStatus = status
	h.state.upsertAlloc(c)
}

func TestSystemPlacesOnePerEligibleNode(t *testing.T) {
	cases := []struct {
		name  string
		nodes func() []*structs.Node
		edit  func(*structs.Job)
		want  []string
	}{
		{
			name: "every ready node",
			nodes: func() []*structs.Node {
				return []*structs.Node{testNode("a", 4000, 8192), testNode("b", 4000, 8192), testNode("c", 4000, 8192)}
			},
			want: []string{"a", "b", "c"},
		},
		{
			name: "not down, ineligible, draining, other datacenter or pool, or without the driver",
			nodes: func() []*structs.Node {
				down := testNode("down", 4000, 8192)
				down.Status = structs.NodeStatusDown
				inel := testNode("inel", 4000, 8192)
				inel.SchedulingEligibility = structs.NodeSchedulingIneligible
				drain := testNode("drain", 4000, 8192)
				drain.Drain = true
				dc2 := testNode("dc2", 4000, 8192)
				dc2.Datacenter = "dc2"
				pool := testNode("pool", 4000, 8192)
				pool.NodePool = "gpu"
				nodrv := testNode("nodrv", 4000, 8192)
				nodrv.Drivers = map[string]*structs.DriverInfo{"docker": {Detected: true, Healthy: true}}
				return []*structs.Node{testNode("a", 4000, 8192), down, inel, drain, dc2, pool, nodrv}
			},
			want: []string{"a"},
		},
		{
			name: "job and task constraints",
			nodes: func() []*structs.Node {
				win := testNode("win", 4000, 8192)
				win.Attributes["kernel.name"] = "windows"
				arm := testNode("arm", 4000, 8192)
				arm.Attributes["cpu.arch"] = "arm64"
				return []*structs.Node{testNode("a", 4000, 8192), win, arm}
			},
			edit: func(j *structs.Job) {
				j.Constraints = []*structs.Constraint{{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "="}}
				j.TaskGroups[0].Tasks[0].Constraints = []*structs.Constraint{{LTarget: "${attr.cpu.arch}", RTarget: "amd64", Operand: "="}}
			},
			want: []string{"a"},
		},
		{
			name: "datacenter wildcard and the all pool",
			nodes: func() []*structs.Node {
				dc2 := testNode("dc2", 4000, 8192)
				dc2.Datacenter = "dc2"
				dc2.NodePool = "gpu"
				other := testNode("east", 4000, 8192)
				other.Datacenter = "east"
				return []*structs.Node{testNode("a", 4000, 8192), dc2, other}
			},
			edit: func(j *structs.Job) { j.Datacenters = []string{"dc*"}; j.NodePool = "all" },
			want: []string{"a", "dc2"},
		},
	}
	for _, typ := range []string{structs.JobTypeSystem, structs.JobTypeSysbatch} {
		for _, tc := range cases {
			t.Run(typ+"/"+tc.name, func(t *testing.T) {
				h := newHarness(t)
				for _, n := range tc.nodes() {
					h.state.upsertNode(n)
				}
				job := sysJob(typ, 500, 256)
				if tc.edit != nil {
					tc.edit(job)
				}
				h.state.upsertJob(job)
				eval := h.mustProcess(job)
				if eval.Status != structs.EvalStatusComplete || len(eval.FailedTGAllocs) != 0 || eval.QueuedAllocations["web"] != 0 || eval.BlockedEval != "" {
					t.Fatalf("eval = %+v", eval)
				}
				if got := h.liveNodes("sys"); !slices.Equal(got, tc.want) {
					t.Fatalf("nodes = %v, want %v", got, tc.want)
				}
				for _, a := range h.state.liveAllocs("sys") {
					if a.Name != "sys.web[0]" || a.Job != job || a.NodeName != "name-"+a.NodeID || a.Metrics == nil || a.Metrics.Scores.Map()[a.NodeID+".binpack"] <= 0 {
						t.Errorf("alloc = %+v", a)
					}
				}
				// A converged job plans nothing.
				plans := len(h.planner.plans)
				h.mustProcess(job)
				if len(h.planner.plans) != plans {
					t.Errorf("converged job submitted a plan")
				}
			})
		}
	}
}

func TestSystemNodeChanges(t *testing.T) {
	cases := []struct {
		name string
		// change alters the cluster after the first evaluation; it may
		// return an edited job to register.
		change    func(h *harness, job *structs.Job) *structs.Job
		wantNodes []string
		// wantStops maps node → (description, client status) of stopped
		// allocations.
		wantStops map[string][2]string
	}{
		{
			name: "new node gets one",
			change: func(h *harness, job *structs.Job) *structs.Job {
				h.state.upsertNode(testNode("c", 4000, 8192))
				return job
			},
			wantNodes: []string{"a", "b", "c"},
		},
		{
			name: "ineligible node becomes eligible",
			change: func(h *harness, job *structs.Job) *structs.Job {
				n := h.state.nodes["x"].Copy()
				n.SchedulingEligibility = structs.NodeSchedulingEligible
				h.state.upsertNode(n)
				return job
			},
			wantNodes: []string{"a", "b", "x"},
		},
		{
			name: "down node loses its allocation, not replaced",
			change: func(h *harness, job *structs.Job) *structs.Job {
				n := h.state.nodes["b"].Copy()
				n.Status = structs.NodeStatusDown
				h.state.upsertNode(n)
				return job
			},
			wantNodes: []string{"a"},
			wantStops: map[string][2]string{"b": {descLost, structs.AllocClientStatusLost}},
		},
		{
			name: "gone node loses its allocation",
			change: func(h *harness, job *structs.Job) *structs.Job {
				delete(h.state.nodes, "b")
				h.state.nodesByID = nil
				return job
			},
			wantNodes: []string{"a"},
			wantStops: map[string][2]string{"b": {descLost, structs.AllocClientStatusLost}},
		},
		{
			name: "drained allocation migrates away, not replaced",
			change: func(h *harness, job *structs.Job) *structs.Job {
				n := h.state.nodes["b"].Copy()
				n.DrainStrategy = &structs.DrainStrategy{}
				n.SchedulingEligibility = structs.NodeSchedulingIneligible
				h.state.upsertNode(n)
				for _, a := range h.state.liveAllocs("sys") {
					if a.NodeID == "b" {
						c := a.Copy()
						migrate := true
						c.DesiredTransition.Migrate = &migrate
						h.state.upsertAlloc(c)
					}
				}
				return job
			},
			wantNodes: []string{"a"},
			wantStops: map[string][2]string{"b": {descMigrating, structs.AllocClientStatusPending}},
		},
		{
			name: "ineligible node keeps what it runs",
			change: func(h *harness, job *structs.Job) *structs.Job {
				n := h.state.nodes["b"].Copy()
				n.SchedulingEligibility = structs.NodeSchedulingIneligible
				h.state.upsertNode(n)
				return job
			},
			wantNodes: []string{"a", "b"},
		},
		{
			name: "node that no longer meets a constraint is stopped",
			change: func(h *harness, job *structs.Job) *structs.Job {
				n := h.state.nodes["b"].Copy()
				n.Attributes = maps.Clone(n.Attributes)
				n.Attributes["kernel.name"] = "windows"
				h.state.upsertNode(n)
				return newVersion(job, func(j *structs.Job) {
					j.Constraints = []*structs.Constraint{{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "="}}
				})
			},
			wantNodes: []string{"a"},
			wantStops: map[string][2]string{"b": {descNodeInfeasible, structs.AllocClientStatusPending}},
		},
		{
			name: "failed allocation is replaced on its node",
			change: func(h *harness, job *structs.Job) *structs.Job {
				for _, a := range h.state.liveAllocs("sys") {
					if a.NodeID == "b" {
						h.setClientStatus(a, structs.AllocClientStatusFailed)
					}
				}
				return job
			},
			wantNodes: []string{"a", "b"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.state.upsertNode(testNode("a", 4000, 8192))
			h.state.upsertNode(testNode("b", 4000, 8192))
			x := testNode("x", 4000, 8192)
			x.SchedulingEligibility = structs.NodeSchedulingIneligible
			h.state.upsertNode(x)
			job := sysJob(structs.JobTypeSystem, 500, 256)
			h.state.upsertJob(job)
			h.mustProcess(job)
			before := map[string]*structs.Allocation{}
			for _, a := range h.state.liveAllocs("sys") {
				before[a.NodeID] = a
			}

			job = tc.change(h, job)
			h.state.upsertJob(job)
			plans := len(h.planner.plans)
			eval := h.processTrigger(job, structs.EvalTriggerNodeUpdate)
			if eval.Status != structs.EvalStatusComplete || len(eval.FailedTGAllocs) != 0 {
				t.Fatalf("eval = %+v", eval)
			}
			if got := h.liveNodes("sys"); !slices.Equal(got, tc.wantNodes) {
				t.Fatalf("nodes = %v, want %v", got, tc.wantNodes)
			}
			stops := map[string][2]string{}
			for _, p := range h.planner.plans[plans:] {
				for node, allocs := range p.NodeUpdate {
					for _, a := range allocs {
						stops[node] = [2]string{a.DesiredDescription, a.ClientStatus}
					}
				}
			}
			if !maps.Equal(stops, tc.wantStops) {
				t.Errorf("stops = %v, want %v", stops, tc.wantStops)
			}
			// Allocations on nodes that keep theirs are untouched, and
			// a replacement links to what it replaces.
			for _, a := range h.state.liveAllocs("sys") {
				old := before[a.NodeID]
				switch {
				case old == nil:
				case old.ClientStatus == structs.AllocClientStatusRunning || old.ClientStatus == structs.AllocClientStatusPending:
					if h.state.allocs[old.ID].ClientStatus == structs.AllocClientStatusFailed {
						if a.PreviousAllocation != old.ID {
							t.Errorf("replacement on %s links %q, want %q", a.NodeID, a.PreviousAllocation, old.ID)
						}
					} else if a.ID != old.ID {
						t.Errorf("allocation on %s was replaced", a.NodeID)
					}
				}
			}
		})
	}
}

func TestSystemResourceExhaustion(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("a", 4000, 8192))
	h.state.upsertNode(testNode("small1", 200, 8192))
	h.state.upsertNode(testNode("small2", 4000, 100))
	job := sysJob(structs.JobTypeSystem, 500, 256)
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	if got := h.liveNodes("sys"); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("nodes = %v", got)
	}
	if eval.QueuedAllocations["web"] != 2 || eval.BlockedEval == "" {
		t.Fatalf("eval = %+v", eval)
	}
	m := eval.FailedTGAllocs["web"]
	if m == nil || m.NodesExhausted != 2 || m.CoalescedFailures != 1 || m.DimensionExhausted["cpu"] != 1 || m.DimensionExhausted["memory"] != 1 || m.ClassExhausted["standard"] != 2 {
		t.Fatalf("failed metric = %+v", m)
	}
	if len(h.planner.created) != 1 || h.planner.created[0].Status != structs.EvalStatusBlocked || h.planner.created[0].ID != eval.BlockedEval {
		t.Fatalf("created = %+v", h.planner.created)
	}

	// Room made on small1 (the other job left): the blocked eval places there.
	n := testNode("small1", 4000, 8192)
	h.state.upsertNode(n)
	eval = h.processTrigger(job, structs.EvalTriggerQueuedAllocs)
	if got := h.liveNodes("sys"); !slices.Equal(got, []string{"a", "small1"}) || eval.QueuedAllocations["web"] != 1 {
		t.Fatalf("nodes = %v, eval = %+v", got, eval)
	}
}

func TestSystemUpdate(t *testing.T) {
	cases := []struct {
		name        string
		edit        func(*structs.Job)
		destructive bool
	}{
		{"priority only: in place", func(j *structs.Job) { j.Priority = 70 }, false},
		{"env changed: destructive", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Env = map[string]string{"A": "1"} }, true},
		{"resources changed: destructive", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Resources.CPU = 600 }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.state.upsertNode(testNode("a", 4000, 8192))
			h.state.upsertNode(testNode("b", 4000, 8192))
			job := sysJob(structs.JobTypeSystem, 500, 256)
			h.state.upsertJob(job)
			h.mustProcess(job)
			old := map[string]string{}
			for _, a := range h.state.liveAllocs("sys") {
				old[a.NodeID] = a.ID
			}
			v2 := newVersion(job, tc.edit)
			h.state.upsertJob(v2)
			eval := h.processTrigger(v2, structs.EvalTriggerJobRegister)
			if eval.Status != structs.EvalStatusComplete || len(eval.FailedTGAllocs) != 0 {
				t.Fatalf("eval = %+v", eval)
			}
			live := h.state.liveAllocs("sys")
			if got := h.liveNodes("sys"); !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("nodes = %v", got)
			}
			for _, a := range live {
				if a.Job != v2 {
					t.Errorf("alloc on %s runs version %d", a.NodeID, a.Job.Version)
				}
				if replaced := a.ID != old[a.NodeID]; replaced != tc.destructive {
					t.Errorf("alloc on %s replaced = %v, want %v", a.NodeID, replaced, tc.destructive)
				}
				if tc.destructive {
					if a.PreviousAllocation != old[a.NodeID] || h.state.allocs[old[a.NodeID]].DesiredDescription != descUpdating {
						t.Errorf("replacement %+v of %+v", a, h.state.allocs[old[a.NodeID]])
					}
				}
			}
		})
	}
}

func TestSystemStop(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("a", 4000, 8192))
	h.state.upsertNode(testNode("b", 4000, 8192))
	job := sysJob(structs.JobTypeSystem, 500, 256)
	h.state.upsertJob(job)
	h.mustProcess(job)
	stopped := job.Copy()
	stopped.Stop = true
	h.state.upsertJob(stopped)
	h.processTrigger(stopped, structs.EvalTriggerJobDeregister)
	if live := h.state.liveAllocs("sys"); len(live) != 0 {
		t.Fatalf("live after stop: %v", h.liveNodes("sys"))
	}
	for _, a := range h.state.allocs {
		if a.DesiredStatus != structs.AllocDesiredStatusStop || a.DesiredDescription != descNotNeeded {
			t.Errorf("alloc = %+v", a)
		}
	}
}

func TestSysbatch(t *testing.T) {
	cases := []struct {
		name string
		// finish sets client statuses after the first evaluation, by node.
		finish  map[string]string
		change  func(h *harness, job *structs.Job) *structs.Job
		trigger string
		want    []string // nodes with live allocations afterwards
	}{
		{
			name:    "completed and failed are not rerun",
			finish:  map[string]string{"a": structs.AllocClientStatusComplete, "b": structs.AllocClientStatusFailed},
			change:  func(h *harness, job *structs.Job) *structs.Job { return job },
			trigger: structs.EvalTriggerRetryFailedAlloc,
			want:    nil,
		},
		{
			name:   "new node gets one while the job runs",
			finish: map[string]string{"a": structs.AllocClientStatusComplete, "b": structs.AllocClientStatusRunning},
			change: func(h *harness, job *structs.Job) *structs.Job {
				h.state.upsertNode(testNode("c", 4000, 8192))
				return job
			},
			trigger: structs.EvalTriggerNodeUpdate,
			want:    []string{"b", "c"},
		},
		{
			name:   "new node of a finished job gets none",
			finish: map[string]string{"a": structs.AllocClientStatusComplete, "b": structs.AllocClientStatusComplete},
			change: func(h *harness, job *structs.Job) *structs.Job {
				h.state.upsertNode(testNode("c", 4000, 8192))
				return job
			},
			trigger: structs.EvalTriggerNodeUpdate,
			want:    nil,
		},
		{
			name:   "changed tasks run again everywhere",
			finish: map[string]string{"a": structs.AllocClientStatusComplete, "b": structs.AllocClientStatusComplete},
			change: func(h *harness, job *structs.Job) *structs.Job {
				return newVersion(job, func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Env = map[string]string{"RUN": "2"} })
			},
			trigger: structs.EvalTriggerJobRegister,
			want:    []string{"a", "b"},
		},
		{
			name:   "a new version with the same tasks does not rerun",
			finish: map[string]string{"a": structs.AllocClientStatusComplete, "b": structs.AllocClientStatusComplete},
			change: func(h *harness, job *structs.Job) *structs.Job {
				return newVersion(job, func(j *structs.Job) { j.Priority = 80 })
			},
			trigger: structs.EvalTriggerJobRegister,
			want:    nil,
		},
		{
			name:   "lost allocation runs again when its node returns",
			finish: map[string]string{"a": structs.AllocClientStatusComplete, "b": structs.AllocClientStatusLost},
			change: func(h *harness, job *structs.Job) *structs.Job {
				return job
			},
			trigger: structs.EvalTriggerJobRegister,
			want:    []string{"b"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.state.upsertNode(testNode("a", 4000, 8192))
			h.state.upsertNode(testNode("b", 4000, 8192))
			job := sysJob(structs.JobTypeSysbatch, 500, 256)
			h.state.upsertJob(job)
			h.mustProcess(job)
			if got := h.liveNodes("sys"); !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("first placement on %v", got)
			}
			for _, a := range h.state.liveAllocs("sys") {
				h.setClientStatus(a, tc.finish[a.NodeID])
			}
			job = tc.change(h, job)
			h.state.upsertJob(job)
			eval := h.processTrigger(job, tc.trigger)
			if eval.Status != structs.EvalStatusComplete || len(eval.FailedTGAllocs) != 0 {
				t.Fatalf("eval = %+v", eval)
			}
			if got := h.liveNodes("sys"); !slices.Equal(got, tc.want) {
				t.Fatalf("nodes = %v, want %v", got, tc.want)
			}
		})
	}
}

// A group no node may run is not a wait for capacity: the evaluation
// completes, names the constraints that excluded the nodes (as Nomad warns
// since 1.1), and blocks nothing; a node that qualifies later gets it.
func TestSystemNoFeasibleNodeWarns(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(testNode("a", 4000, 8192))
	h.state.upsertNode(testNode("b", 4000, 8192))
	job := sysJob(structs.JobTypeSystem, 500, 256)
	job.TaskGroups[0].Constraints = []*structs.Constraint{{LTarget: "${meta.rack}", Operand: "is_set"}}
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	if got := h.liveNodes("sys"); len(got) != 0 {
		t.Fatalf("placed on %v", got)
	}
	if eval.Status != structs.EvalStatusComplete || eval.BlockedEval != "" || eval.QueuedAllocations["web"] != 0 || len(h.planner.created) != 0 {
		t.Fatalf("eval = %+v, created %d", eval, len(h.planner.created))
	}
	m := eval.FailedTGAllocs["web"]
	if m == nil || m.NodesEvaluated != 2 || m.NodesFiltered != 2 || len(m.ConstraintFiltered) != 1 {
		t.Fatalf("failed metric = %+v", m)
	}
	for cons, n := range m.ConstraintFiltered {
		if n != 2 || cons == "" {
			t.Fatalf("constraint filtered = %v", m.ConstraintFiltered)
		}
	}

	// One node qualifies: the next evaluation places there and warns no more.
	n := testNode("b", 4000, 8192)
	n.Meta = map[string]string{"rack": "r1"}
	h.state.upsertNode(n)
	eval = h.processTrigger(job, structs.EvalTriggerNodeUpdate)
	if got := h.liveNodes("sys"); !slices.Equal(got, []string{"b"}) || len(eval.FailedTGAllocs) != 0 {
		t.Fatalf("nodes = %v, eval failures = %v", got, eval.FailedTGAllocs)
	}
}
