// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// In-memory State and a Planner that applies plans to it, the test doubles
// every scheduler test drives Process with.

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
	"github.com/hashicorp/go-hclog"
)

// memState is a State held in maps. clone gives an independent snapshot.
// Nodes come back ordered by ID, as the state store's ID index yields them;
// the ordered list is kept until the next node change, so a benchmark
// times the scheduler rather than this fake's sorting.
type memState struct {
	index     uint64
	nodes     map[string]*structs.Node
	nodesByID []*structs.Node // cache of Nodes(), nil when stale
	jobs      map[structs.NamespacedID]*structs.Job
	allocs    map[string]*structs.Allocation
	byNode    map[string]map[string]*structs.Allocation
}

func newMemState() *memState {
	return &memState{
		index:  1,
		nodes:  map[string]*structs.Node{},
		jobs:   map[structs.NamespacedID]*structs.Job{},
		allocs: map[string]*structs.Allocation{},
		byNode: map[string]map[string]*structs.Allocation{},
	}
}

func (s *memState) clone() *memState {
	c := &memState{
		index:  s.index,
		nodes:  maps.Clone(s.nodes),
		jobs:   maps.Clone(s.jobs),
		allocs: maps.Clone(s.allocs),
		byNode: make(map[string]map[string]*structs.Allocation, len(s.byNode)),
	}
	for k, v := range s.byNode {
		c.byNode[k] = maps.Clone(v)
	}
	return c
}

func (s *memState) upsertNode(n *structs.Node) { s.index++; s.nodes[n.ID] = n; s.nodesByID = nil }
func (s *memState) upsertJob(j *structs.Job) {
	s.index++
	if j.Namespace == "" {
		j.Namespace = structs.DefaultNamespace
	}
	s.jobs[j.NamespacedID()] = j
}
func (s *memState) deleteJob(j *structs.Job) { s.index++; delete(s.jobs, j.NamespacedID()) }

func (s *memState) upsertAlloc(a *structs.Allocation) {
	if old, ok := s.allocs[a.ID]; ok && old.NodeID != a.NodeID {
		delete(s.byNode[old.NodeID], a.ID)
	}
	s.allocs[a.ID] = a
	if s.byNode[a.NodeID] == nil {
		s.byNode[a.NodeID] = map[string]*structs.Allocation{}
	}
	s.byNode[a.NodeID][a.ID] = a
}

func (s *memState) Nodes() ([]*structs.Node, error) {
	if s.nodesByID == nil {
		s.nodesByID = slices.Collect(maps.Values(s.nodes))
		slices.SortFunc(s.nodesByID, func(a, b *structs.Node) int { return strings.Compare(a.ID, b.ID) })
	}
	return slices.Clone(s.nodesByID), nil
}
func (s *memState) NodeByID(id string) (*structs.Node, error) { return s.nodes[id], nil }
func (s *memState) JobByID(ns, id string) (*structs.Job, error) {
	return s.jobs[structs.NamespacedID{ID: id, Namespace: ns}], nil
}
func (s *memState) AllocsByJob(ns, jobID string) ([]*structs.Allocation, error) {
	var out []*structs.Allocation
	for _, a := range s.allocs {
		if a.Namespace == ns && a.JobID == jobID {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b *structs.Allocation) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
func (s *memState) AllocsByNode(nodeID string) ([]*structs.Allocation, error) {
	return slices.Collect(maps.Values(s.byNode[nodeID])), nil
}
func (s *memState) LatestIndex() (uint64, error) { return s.index, nil }

// NodeUsage sums the node's live allocations, as the state store keeps it.
func (s *memState) NodeUsage(nodeID string) (structs.ComparableResources, error) {
	var used structs.ComparableResources
	for _, a := range s.byNode[nodeID] {
		if !a.TerminalStatus() {
			used.Add(a.AllocatedResources.Comparable())
		}
	}
	return used, nil
}

// liveAllocs returns the non-terminal allocations of job, sorted by name.
func (s *memState) liveAllocs(jobID string) []*structs.Allocation {
	var out []*structs.Allocation
	for _, a := range s.allocs {
		if a.JobID == jobID && !a.TerminalStatus() {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b *structs.Allocation) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// recordingPlanner applies plans to its state and records everything.
// rejectNodes, when set, is asked per submission which nodes' placements
// the "applier" refuses, which forces a refresh.
type recordingPlanner struct {
	state       *memState
	plans       []*structs.Plan
	updated     []*structs.Evaluation
	created     []*structs.Evaluation
	rejectNodes func(submission int) map[string]bool
}

func (p *recordingPlanner) SubmitPlan(plan *structs.Plan) (*structs.PlanResult, State, error) {
	p.plans = append(p.plans, plan)
	var reject map[string]bool
	if p.rejectNodes != nil {
		reject = p.rejectNodes(len(p.plans))
	}
	p.state.index++
	result := &structs.PlanResult{NodeUpdate: plan.NodeUpdate, NodeAllocation: map[string][]*structs.Allocation{}, AllocIndex: p.state.index}
	for _, allocs := range plan.NodeUpdate {
		for _, a := range allocs {
			p.state.upsertAlloc(a)
		}
	}
	for node, allocs := range plan.NodeAllocation {
		if reject[node] {
			result.RefreshIndex = p.state.index
			continue
		}
		for _, a := range allocs {
			a.CreateIndex, a.ModifyIndex = p.state.index, p.state.index
			p.state.upsertAlloc(a)
		}
		result.NodeAllocation[node] = allocs
	}
	if result.RefreshIndex != 0 {
		return result, p.state.clone(), nil
	}
	return result, nil, nil
}

func (p *recordingPlanner) UpdateEval(e *structs.Evaluation) error {
	p.updated = append(p.updated, e)
	return nil
}

func (p *recordingPlanner) CreateEval(e *structs.Evaluation) error {
	p.created = append(p.created, e)
	return nil
}

// lastEval is the final recorded state of the processed evaluation.
func (p *recordingPlanner) lastEval(t *testing.T) *structs.Evaluation {
	t.Helper()
	if len(p.updated) == 0 {
		t.Fatal("eval was never updated")
	}
	return p.updated[len(p.updated)-1]
}

// harness wires a memState, a recordingPlanner and a scheduler.
type harness struct {
	t       *testing.T
	state   *memState
	planner *recordingPlanner
}

func newHarness(t *testing.T) *harness {
	s := newMemState()
	return &harness{t: t, state: s, planner: &recordingPlanner{state: s}}
}

// process runs one evaluation of job and returns Process's error.
func (h *harness) process(job *structs.Job) (*structs.Evaluation, error) {
	h.t.Helper()
	eval := &structs.Evaluation{
		ID: structs.GenerateUUID(), Namespace: structs.DefaultNamespace, Priority: 50,
		Type: job.Type, TriggeredBy: structs.EvalTriggerJobRegister, JobID: job.ID, Status: structs.EvalStatusPending,
	}
	sched, err := New(job.Type, hclog.NewNullLogger(), h.state, h.planner)
	if err != nil {
		h.t.Fatalf("new scheduler: %v", err)
	}
	return eval, sched.Process(eval)
}

// mustProcess runs an evaluation that must not error and returns its final state.
func (h *harness) mustProcess(job *structs.Job) *structs.Evaluation {
	h.t.Helper()
	if _, err := h.process(job); err != nil {
		h.t.Fatalf("process: %v", err)
	}
	return h.planner.lastEval(h.t)
}

// testNode is a ready node in dc1 with a healthy exec driver.
func testNode(id string, cpu, mem int64) *structs.Node {
	return &structs.Node{
		ID:                    id,
		Name:                  "name-" + id,
		Datacenter:            "dc1",
		NodeClass:             "standard",
		Status:                structs.NodeStatusReady,
		SchedulingEligibility: structs.NodeSchedulingEligible,
		Attributes:            map[string]string{"kernel.name": "linux", "cpu.arch": "amd64"},
		Meta:                  map[string]string{},
		NodeResources: &structs.NodeResources{
			Cpu:    structs.NodeCpuResources{CpuShares: cpu},
			Memory: structs.NodeMemoryResources{MemoryMB: mem},
			Disk:   structs.NodeDiskResources{DiskMB: 100_000},
		},
		Drivers: map[string]*structs.DriverInfo{"exec": {Detected: true, Healthy: true}},
	}
}

// testJob is a service job with one group "web" of count tasks asking
// cpu MHz and mem MB.
func testJob(id string, count int, cpu, mem int) *structs.Job {
	return &structs.Job{
		ID: id, Name: id, Namespace: structs.DefaultNamespace, Type: structs.JobTypeService,
		Priority: 50, Datacenters: []string{"dc1"}, Version: 1, JobModifyIndex: 10, CreateIndex: 10,
		TaskGroups: []*structs.TaskGroup{{
			Name: "web", Count: count,
			EphemeralDisk: &structs.EphemeralDisk{SizeMB: 100},
			Tasks: []*structs.Task{{
				Name: "server", Driver: "exec",
				Config:    map[string]any{"command": "/bin/sleep"},
				Resources: &structs.Resources{CPU: cpu, MemoryMB: mem},
			}},
		}},
	}
}

// newVersion returns a copy of job as the next registered version.
func newVersion(job *structs.Job, edit func(*structs.Job)) *structs.Job {
	j := job.Copy()
	j.Version++
	j.JobModifyIndex += 10
	edit(j)
	return j
}

func allocNames(allocs []*structs.Allocation) []string {
	out := make([]string, len(allocs))
	for i, a := range allocs {
		out[i] = a.Name
	}
	slices.Sort(out)
	return out
}

func names(job string, idx ...int) []string {
	out := make([]string, len(idx))
	for i, n := range idx {
		out[i] = fmt.Sprintf("%s.web[%d]", job, n)
	}
	slices.Sort(out)
	return out
}

// addAlloc stores a running allocation of job's group "web" on node.
func (h *harness) addAlloc(job *structs.Job, node string, index int, status string) *structs.Allocation {
	tg := job.TaskGroups[0]
	a := &structs.Allocation{
		ID: structs.GenerateUUID(), Namespace: job.Namespace, Name: structs.AllocName(job.ID, tg.Name, index),
		NodeID: node, JobID: job.ID, Job: job, TaskGroup: tg.Name, AllocatedResources: allocatedResources(tg, false),
		DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: status, CreateIndex: uint64(index + 1),
		ModifyTime: time.Now().UnixNano(),
	}
	h.state.upsertAlloc(a)
	return a
}

// placeCase places existing (when set), then job, on nodes, and checks
// that job got placed allocations of group "web" and, when failures > 0,
// that that many failed on dimension failDim. It returns the harness.
func placeCase(t *testing.T, nodes []*structs.Node, existing, job *structs.Job, placed int, failDim string, failures int) *harness {
	t.Helper()
	h := newHarness(t)
	for _, n := range nodes {
		h.state.upsertNode(n)
	}
	if existing != nil {
		h.state.upsertJob(existing)
		h.mustProcess(existing)
	}
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	if got := len(h.state.liveAllocs(job.ID)); got != placed {
		t.Errorf("placed %d, want %d", got, placed)
	}
	m := eval.FailedTGAllocs["web"]
	switch {
	case failures == 0 && m != nil:
		t.Errorf("unexpected failure %+v", m)
	case failures > 0 && (m == nil || m.DimensionExhausted[failDim] == 0):
		t.Errorf("failure metric = %+v, want dimension %q", m, failDim)
	case failures > 0 && eval.QueuedAllocations["web"] != failures:
		t.Errorf("queued = %v, want %d", eval.QueuedAllocations, failures)
	}
	return h
}
