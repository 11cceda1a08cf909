// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"net"
	"net/rpc"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/droverhq/drover/structs"
)

func testServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{DevMode: true, RPCAddr: "127.0.0.1:0", NodeName: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	waitFor(t, 5*time.Second, "leadership", func() bool { return s.IsLeader() && s.broker.Enabled() })
	return s
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testNode(cpu, mem int64) *structs.Node {
	return &structs.Node{
		ID: structs.GenerateUUID(), SecretID: structs.GenerateUUID(), Name: "n", Datacenter: "dc1",
		Attributes:    map[string]string{"kernel.name": "linux"},
		NodeResources: &structs.NodeResources{Cpu: structs.NodeCpuResources{CpuShares: cpu}, Memory: structs.NodeMemoryResources{MemoryMB: mem}, Disk: structs.NodeDiskResources{DiskMB: 10000}},
		Drivers:       map[string]*structs.DriverInfo{"raw_exec": {Detected: true, Healthy: true}},
	}
}

func testJob(id string, count int) *structs.Job {
	j := &structs.Job{ID: id, Type: structs.JobTypeService, Datacenters: []string{"dc1"},
		TaskGroups: []*structs.TaskGroup{{Name: "web", Count: count, Tasks: []*structs.Task{{
			Name: "t", Driver: "raw_exec", Config: map[string]any{"command": "/bin/true"},
			Resources: &structs.Resources{CPU: 500, MemoryMB: 256}}}}}}
	j.Canonicalize()
	return j
}

func liveAllocs(t *testing.T, s *Server, jobID string) []*structs.Allocation {
	t.Helper()
	allocs, err := s.State().Snapshot().AllocsByJob("default", jobID)
	if err != nil {
		t.Fatal(err)
	}
	var out []*structs.Allocation
	for _, a := range allocs {
		if !a.TerminalStatus() {
			out = append(out, a)
		}
	}
	return out
}

func TestRegisterPlaceStop(t *testing.T) {
	s := testServer(t)
	node := testNode(4000, 4096)
	var resp structs.NodeUpdateResponse
	if err := s.Node().Register(&structs.NodeRegisterRequest{Node: node}, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.HeartbeatTTL < 10*time.Second {
		t.Fatalf("TTL %v below the minimum", resp.HeartbeatTTL)
	}
	evalID, _, err := s.RegisterJob(testJob("web", 3))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "3 placements", func() bool { return len(liveAllocs(t, s, "web")) == 3 })
	waitFor(t, 5*time.Second, "eval complete", func() bool {
		e, _ := s.State().Snapshot().EvalByID(evalID)
		return e != nil && e.Status == structs.EvalStatusComplete
	})
	for _, a := range liveAllocs(t, s, "web") {
		if a.Job == nil || a.NodeID != node.ID || a.AllocatedResources.Comparable().CPU != 500 {
			t.Fatalf("bad alloc %+v", a)
		}
	}

	if _, _, err := s.DeregisterJob("default", "web", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "allocations stopped", func() bool { return len(liveAllocs(t, s, "web")) == 0 })
}

// A job that does not fit blocks, and is placed once a node with room
// registers.
func TestBlockedEvalUnblocksOnNewNode(t *testing.T) {
	s := testServer(t)
	var resp structs.NodeUpdateResponse
	if err := s.Node().Register(&structs.NodeRegisterRequest{Node: testNode(1000, 4096)}, &resp); err != nil {
		t.Fatal(err)
	}
	evalID, _, err := s.RegisterJob(testJob("big", 3)) // 1500 MHz: two do not fit
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "eval with failed placements", func() bool {
		e, _ := s.State().Snapshot().EvalByID(evalID)
		return e != nil && e.Status == structs.EvalStatusComplete && e.FailedTGAllocs["web"] != nil && e.BlockedEval != ""
	})
	if n := len(liveAllocs(t, s, "big")); n != 2 {
		t.Fatalf("placed %d, want 2 on a 1000 MHz node", n)
	}
	if err := s.Node().Register(&structs.NodeRegisterRequest{Node: testNode(4000, 4096)}, &resp); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the third placement", func() bool { return len(liveAllocs(t, s, "big")) == 3 })
}

// deliver enqueues an evaluation of job and takes it from the broker the
// way a worker does, returning its delivery token.
func deliver(t *testing.T, s *Server, job *structs.Job) (*structs.Evaluation, string) {
	t.Helper()
	e := structs.NewEval(job, structs.EvalTriggerJobRegister, time.Now())
	s.broker.Enqueue(e)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, token, err := s.broker.Dequeue(ctx)
	if err != nil || got.ID != e.ID {
		t.Fatalf("dequeue: %v", err)
	}
	return got, token
}

// testServerNoWorkers is a dev server whose evaluations nobody takes but
// the test.
func testServerNoWorkers(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{DevMode: true, RPCAddr: "127.0.0.1:0", NodeName: t.Name(), NumSchedulers: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	waitFor(t, 5*time.Second, "leadership", func() bool { return s.IsLeader() && s.broker.Enabled() })
	return s
}

// The plan applier refuses placements that no longer fit.
func TestPlanApplierRejectsOvercommit(t *testing.T) {
	s := testServerNoWorkers(t)
	node := testNode(1000, 4096)
	var resp structs.NodeUpdateResponse
	if err := s.Node().Register(&structs.NodeRegisterRequest{Node: node}, &resp); err != nil {
		t.Fatal(err)
	}
	job := testJob("x", 1)
	mk := func() *structs.Allocation {
		return &structs.Allocation{ID: structs.GenerateUUID(), NodeID: node.ID, JobID: "x", Namespace: "default", TaskGroup: "web",
			DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusPending, Job: job,
			AllocatedResources: &structs.AllocatedResources{Tasks: map[string]*structs.AllocatedTaskResources{"t": {Cpu: structs.AllocatedCpuResources{CpuShares: 600}}}}}
	}
	eval, token := deliver(t, s, job)
	plan := &structs.Plan{EvalID: eval.ID, EvalToken: token, Job: job, NodeAllocation: map[string][]*structs.Allocation{node.ID: {mk()}}}
	ctx := context.Background()
	res, err := s.submitPlan(ctx, plan)
	if err != nil || res.RefreshIndex != 0 || len(res.NodeAllocation[node.ID]) != 1 {
		t.Fatalf("first plan: %+v %v", res, err)
	}
	plan2 := &structs.Plan{EvalID: eval.ID, EvalToken: token, Job: job, NodeAllocation: map[string][]*structs.Allocation{node.ID: {mk()}}}
	res, err = s.submitPlan(ctx, plan2)
	if err != nil {
		t.Fatal(err)
	}
	if res.RefreshIndex == 0 || len(res.NodeAllocation[node.ID]) != 0 {
		t.Fatalf("overcommitting plan accepted: %+v", res)
	}
}

// A plan from a delivery that is no longer outstanding (the evaluation
// went to another worker) never commits: one evaluation cannot place
// twice.
func TestPlanApplierRefusesStaleDelivery(t *testing.T) {
	s := testServerNoWorkers(t)
	node := testNode(4000, 4096)
	var resp structs.NodeUpdateResponse
	if err := s.Node().Register(&structs.NodeRegisterRequest{Node: node}, &resp); err != nil {
		t.Fatal(err)
	}
	job := testJob("dup", 1)
	eval, staleToken := deliver(t, s, job)
	if err := s.broker.Nack(eval.ID, staleToken); err != nil { // e.g. the nack timeout fired
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	again, token, err := s.broker.Dequeue(ctx) // the redelivery
	if err != nil || again.ID != eval.ID {
		t.Fatalf("redelivery: %v", err)
	}
	alloc := func() *structs.Allocation {
		return &structs.Allocation{ID: structs.GenerateUUID(), EvalID: eval.ID, NodeID: node.ID, JobID: "dup", Namespace: "default",
			TaskGroup: "web", DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusPending, Job: job,
			AllocatedResources: &structs.AllocatedResources{Tasks: map[string]*structs.AllocatedTaskResources{"t": {Cpu: structs.AllocatedCpuResources{CpuShares: 100}}}}}
	}
	stale := &structs.Plan{EvalID: eval.ID, EvalToken: staleToken, Job: job, NodeAllocation: map[string][]*structs.Allocation{node.ID: {alloc()}}}
	if _, err := s.submitPlan(context.Background(), stale); err == nil || !strings.Contains(err.Error(), "token does not match") {
		t.Fatalf("stale delivery's plan: err = %v", err)
	}
	current := &structs.Plan{EvalID: eval.ID, EvalToken: token, Job: job, NodeAllocation: map[string][]*structs.Allocation{node.ID: {alloc()}}}
	if res, err := s.submitPlan(context.Background(), current); err != nil || len(res.NodeAllocation[node.ID]) != 1 {
		t.Fatalf("current delivery's plan: %+v %v", res, err)
	}
	if n := len(liveAllocs(t, s, "dup")); n != 1 {
		t.Fatalf("%d allocations placed, want 1", n)
	}
}

// Clients reach the Node endpoint over the RPC port, and a blocking
// GetClientAllocIndexes returns when the node gets allocations, and
// GetAllocs sends them with their job, once.
func TestNodeRPCBlockingAllocs(t *testing.T) {
	s := testServer(t)
	conn, err := net.Dial("tcp", s.RPCAddr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte{RPCProtocolMsgpack}); err != nil {
		t.Fatal(err)
	}
	c := rpc.NewClientWithCodec(codec.GoRpc.ClientCodec(conn, structs.MsgpackHandle))
	defer c.Close()
	node := testNode(4000, 4096)
	var resp structs.NodeUpdateResponse
	if err := c.Call("Node.Register", &structs.NodeRegisterRequest{Node: node}, &resp); err != nil {
		t.Fatal(err)
	}
	var first structs.NodeClientAllocsResponse
	if err := c.Call("Node.GetClientAllocIndexes", &structs.NodeAllocsRequest{NodeID: node.ID, SecretID: node.SecretID}, &first); err != nil {
		t.Fatal(err)
	}
	done := make(chan *structs.NodeClientAllocsResponse, 1)
	go func() {
		var r structs.NodeClientAllocsResponse
		err := c.Call("Node.GetClientAllocIndexes", &structs.NodeAllocsRequest{NodeID: node.ID, SecretID: node.SecretID, MinIndex: first.Index, MaxWait: 10 * time.Second}, &r)
		if err != nil {
			t.Error(err)
		}
		done <- &r
	}()
	if _, _, err := s.RegisterJob(testJob("rpc", 2)); err != nil {
		t.Fatal(err)
	}
	var listed *structs.NodeClientAllocsResponse
	select {
	case listed = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("blocking GetClientAllocIndexes did not return")
	}
	// The blocking query may wake at the first of the two placements.
	waitFor(t, 5*time.Second, "both placements", func() bool { return len(liveAllocs(t, s, "rpc")) == 2 })
	var ids []string
	for _, a := range liveAllocs(t, s, "rpc") {
		ids = append(ids, a.ID)
	}
	var pulled structs.AllocsGetResponse
	if err := c.Call("Node.GetAllocs", &structs.AllocsGetRequest{NodeID: node.ID, SecretID: node.SecretID, AllocIDs: ids, MinIndex: listed.Index}, &pulled); err != nil {
		t.Fatal(err)
	}
	// The two allocations run one job version: it travels once.
	if len(pulled.Jobs) != 1 || len(pulled.Allocs) != 2 || pulled.Allocs[0].Job != nil {
		t.Fatalf("GetAllocs sent %d jobs for %d allocations (first with job %v)", len(pulled.Jobs), len(pulled.Allocs), pulled.Allocs[0].Job != nil)
	}
	if err := pulled.AttachJobs(); err != nil {
		t.Fatal(err)
	}
	for _, a := range pulled.Allocs {
		if a.Job == nil || a.Job.TaskGroups[0].Tasks[0].Config["command"] != "/bin/true" {
			t.Fatalf("allocation %s over RPC without its job: %+v", a.ID, a.Job)
		}
	}
	if pulled.Allocs[0].Job != pulled.Allocs[1].Job {
		t.Fatal("allocations of one job version do not share the job")
	}
	var bad structs.NodeClientAllocsResponse
	if err := c.Call("Node.GetClientAllocIndexes", &structs.NodeAllocsRequest{NodeID: node.ID, SecretID: "wrong"}, &bad); err == nil {
		t.Fatal("wrong secret accepted")
	}
}

// pullNodeAllocs is what a client does to learn its allocations: list
// them, then pull them with their jobs.
func pullNodeAllocs(t *testing.T, s *Server, node *structs.Node) []*structs.Allocation {
	t.Helper()
	var listed structs.NodeClientAllocsResponse
	if err := s.Node().GetClientAllocIndexes(&structs.NodeAllocsRequest{NodeID: node.ID, SecretID: node.SecretID}, &listed); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range listed.Allocs {
		ids = append(ids, id)
	}
	var pulled structs.AllocsGetResponse
	if err := s.Node().GetAllocs(&structs.AllocsGetRequest{NodeID: node.ID, SecretID: node.SecretID, AllocIDs: ids, MinIndex: listed.Index}, &pulled); err != nil {
		t.Fatal(err)
	}
	if err := pulled.AttachJobs(); err != nil {
		t.Fatal(err)
	}
	return pulled.Allocs
}
