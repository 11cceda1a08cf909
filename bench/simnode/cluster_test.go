// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package simnode

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/server"
	"github.com/droverhq/drover/structs"
)

func testServer(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.New(server.Config{DevMode: true, RPCAddr: "127.0.0.1:0", NodeName: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	deadline := time.Now().Add(10 * time.Second)
	for !s.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("server did not become leader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

func testJob(id string, count int) *structs.Job {
	j := &structs.Job{ID: id, Type: structs.JobTypeService, Datacenters: []string{"dc1"},
		TaskGroups: []*structs.TaskGroup{{Name: "web", Count: count, Tasks: []*structs.Task{{
			Name: "t", Driver: Driver, Config: map[string]any{"command": "/bin/true"},
			Resources: &structs.Resources{CPU: 100, MemoryMB: 64}}}}}}
	j.Canonicalize()
	return j
}

// TestClusterRunsWhatTheServerPlaces drives a real server: the simulated
// nodes register over RPC, see the allocations the scheduler places on
// them, and report them running, which the server then records.
func TestClusterRunsWhatTheServerPlaces(t *testing.T) {
	srv := testServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Start(ctx, Config{Servers: []string{srv.RPCAddr()}, Nodes: 12, Conns: 3, SyncInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	snap := srv.State().Snapshot()
	for _, id := range c.NodeIDs() {
		n, err := snap.NodeByID(id)
		if err != nil || n == nil || n.Status != structs.NodeStatusReady {
			t.Fatalf("node %s after Start: %+v, %v", id, n, err)
		}
	}

	const count = 40
	if _, _, err := srv.RegisterJob(testJob("sim", count)); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitRunning(ctx, count, nil); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Running != count || st.LastRunning.IsZero() || st.Errors != 0 {
		t.Fatalf("stats %+v, want %d running and no errors", st, count)
	}
	// The server records what the nodes reported (the write is
	// acknowledged before the count moves, so no wait is needed).
	allocs, err := srv.State().Snapshot().AllocsByJob(structs.DefaultNamespace, "sim")
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	for _, id := range c.NodeIDs() {
		ours[id] = true
	}
	running := 0
	for _, a := range allocs {
		if !ours[a.NodeID] {
			t.Fatalf("alloc %s on node %s, not a simulated one", a.ID, a.NodeID)
		}
		if a.ClientStatus == structs.AllocClientStatusRunning && a.TaskStates["t"].State == structs.TaskStateRunning {
			running++
		}
	}
	if running != count {
		t.Fatalf("server has %d of %d allocations running", running, count)
	}
}

func TestWaitRunningStopsOnCheckError(t *testing.T) {
	srv := testServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Start(ctx, Config{Servers: []string{srv.RPCAddr()}, Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.WaitRunning(ctx, 1, func() error { return errTest })
	if !errors.Is(err, errTest) {
		t.Fatalf("WaitRunning = %v, want the check's error", err)
	}
}

var errTest = errors.New("check failed")

func TestStartRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no nodes", Config{Servers: []string{"127.0.0.1:1"}}, "Nodes must be positive"},
		{"no servers", Config{Nodes: 1}, "no server RPC addresses"},
		{"unreachable server", Config{Nodes: 1, Servers: []string{"127.0.0.1:1"}}, "register 1 of 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cl, err := Start(ctx, c.cfg)
			if err == nil {
				cl.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestNewNodeIsDeterministicAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for i := range 5000 {
		n := NewNode(i, "dc1", 25)
		if seen[n.ID] || seen[n.SecretID] {
			t.Fatalf("node %d repeats an ID", i)
		}
		seen[n.ID], seen[n.SecretID] = true, true
		if i == 7 && (n.ID != NewNode(7, "dc1", 25).ID || n.Meta["rack"] != "r7") {
			t.Fatalf("node 7 not deterministic: %s rack %s", n.ID, n.Meta["rack"])
		}
		if !n.Ready() || !n.Drivers[Driver].Healthy {
			t.Fatalf("node %d not schedulable", i)
		}
	}
}

func TestHeartbeatIntervalIsAboutHalfTheTTL(t *testing.T) {
	cases := []struct {
		ttl      time.Duration
		min, max time.Duration
	}{
		{10 * time.Second, 4 * time.Second, 6 * time.Second},
		{100 * time.Second, 40 * time.Second, 60 * time.Second},
		{0, 4 * time.Second, 6 * time.Second},
	}
	for _, c := range cases {
		for range 100 {
			if d := heartbeatInterval(c.ttl); d < c.min || d > c.max {
				t.Fatalf("heartbeatInterval(%s) = %s, want %s..%s", c.ttl, d, c.min, c.max)
			}
		}
	}
}
