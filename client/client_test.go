// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

const waitLong = 10 * time.Second

type testClient struct {
	*Client
	servers *clienttest.Servers
	driver  *clienttest.Driver
}

func newTestClient(t *testing.T, ttl time.Duration, tweak func(*Config)) *testClient {
	t.Helper()
	servers := clienttest.NewServers(ttl)
	driver := clienttest.NewDriver()
	cfg := &Config{
		DataDir:                   t.TempDir(),
		NodeName:                  "test-node",
		Datacenter:                "dc9",
		Meta:                      map[string]string{"rack": "r1"},
		Reserved:                  Reserved{CPU: 100, MemoryMB: 64},
		Drivers:                   map[string]plugins.Driver{clienttest.DriverName: driver},
		DevMode:                   true,
		Version:                   "0.1.0-test",
		StatusBatchInterval:       20 * time.Millisecond,
		DriverFingerprintInterval: time.Hour,
		AllocsMaxWait:             time.Second,
	}
	if tweak != nil {
		tweak(cfg)
	}
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr})
	c, err := New(cfg, servers, logger)
	if err != nil {
		t.Fatal(err)
	}
	go c.Run(context.Background())
	t.Cleanup(c.Shutdown)
	select {
	case <-c.Registered():
	case <-time.After(waitLong):
		t.Fatal("client did not register")
	}
	return &testClient{Client: c, servers: servers, driver: driver}
}

func (tc *testClient) place(jobType string, configs ...map[string]any) *structs.Allocation {
	a := clienttest.Alloc(jobType, configs...)
	a.NodeID = tc.NodeID()
	tc.servers.AddAlloc(a)
	return a
}

// waitReported waits until the servers hold the given client status.
func (tc *testClient) waitReported(t *testing.T, allocID, status string) *structs.Allocation {
	t.Helper()
	var got *structs.Allocation
	clienttest.WaitFor(t, waitLong, func() error {
		got = tc.servers.ClientUpdate(allocID)
		if got == nil {
			return errors.New("no update yet")
		}
		if got.ClientStatus != status {
			return fmt.Errorf("client status %q, want %q", got.ClientStatus, status)
		}
		return nil
	})
	return got
}

func TestRegistersFingerprintedNode(t *testing.T) {
	tc := newTestClient(t, time.Minute, nil)
	n := tc.servers.Node(tc.NodeID())
	if n == nil {
		t.Fatal("node not registered")
	}
	checks := []struct{ name, got, want string }{
		{"status", n.Status, structs.NodeStatusReady},
		{"name", n.Name, "test-node"},
		{"dc", n.Datacenter, "dc9"},
		{"pool", n.NodePool, "default"},
		{"eligibility", n.SchedulingEligibility, structs.NodeSchedulingEligible},
		{"meta", n.Meta["rack"], "r1"},
		{"address", n.Attributes["unique.network.ip-address"], "127.0.0.1"},
		{"version", n.Attributes["nomad.version"], "0.1.0-test"},
		{"driver attr", n.Attributes["driver.mock"], "1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if d := n.Drivers[clienttest.DriverName]; d == nil || !d.Healthy || !d.Detected {
		t.Errorf("driver info %+v", d)
	}
	if n.ReservedResources.Cpu.CpuShares != 100 || n.ReservedResources.Memory.MemoryMB != 64 {
		t.Errorf("reserved %+v", n.ReservedResources)
	}
	if n.NodeResources.Cpu.CpuShares <= 0 || n.NodeResources.Memory.MemoryMB <= 0 || n.NodeResources.Disk.DiskMB <= 0 {
		t.Errorf("resources %+v", n.NodeResources)
	}
	if n.SecretID == "" {
		t.Error("no secret id")
	}
	b, err := os.ReadFile(filepath.Join(tc.cfg.DataDir, "client-id"))
	if err != nil || string(b) != tc.NodeID()+"\n" {
		t.Errorf("client-id = %q, %v", b, err)
	}
}

func TestServiceAllocRuns(t *testing.T) {
	tc := newTestClient(t, time.Minute, nil)
	a := tc.place(structs.JobTypeService, map[string]any{})
	got := tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
	if ts := got.TaskStates["t0"]; ts == nil || ts.State != structs.TaskStateRunning {
		t.Fatalf("task states %+v", got.TaskStates)
	}
	dir, ok := tc.AllocDir(a.ID)
	if !ok || dir != filepath.Join(tc.cfg.DataDir, "alloc", a.ID) {
		t.Fatalf("AllocDir = %q, %v", dir, ok)
	}
	if local, ok := tc.Alloc(a.ID); !ok || local.ClientStatus != structs.AllocClientStatusRunning || local.Job == nil {
		t.Fatalf("local alloc %+v", local)
	}
	if ts, ok := tc.TaskState(a.ID, "t0"); !ok || ts.State != structs.TaskStateRunning {
		t.Fatalf("TaskState = %+v", ts)
	}
}

func TestBatchAllocCompletes(t *testing.T) {
	tc := newTestClient(t, time.Minute, nil)
	a := tc.place(structs.JobTypeBatch, map[string]any{"run_for": "10ms"})
	got := tc.waitReported(t, a.ID, structs.AllocClientStatusComplete)
	if ts := got.TaskStates["t0"]; ts.Failed || ts.State != structs.TaskStateDead {
		t.Fatalf("task state %+v", ts)
	}
}

func TestFailingAllocFails(t *testing.T) {
	tc := newTestClient(t, time.Minute, nil)
	a := tc.place(structs.JobTypeService, map[string]any{"run_for": "5ms", "exit_code": 2})
	got := tc.waitReported(t, a.ID, structs.AllocClientStatusFailed)
	if ts := got.TaskStates["t0"]; ts.Restarts != 2 || !ts.Failed {
		t.Fatalf("task state restarts=%d failed=%v", ts.Restarts, ts.Failed)
	}
	if got.ClientDescription != "Failed tasks" {
		t.Fatalf("description %q", got.ClientDescription)
	}
}

func TestStopAndGC(t *testing.T) {
	tc := newTestClient(t, time.Minute, nil)
	a := tc.place(structs.JobTypeService, map[string]any{})
	tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
	dir, _ := tc.AllocDir(a.ID)

	tc.servers.StopAlloc(a.ID)
	got := tc.waitReported(t, a.ID, structs.AllocClientStatusComplete)
	var killed bool
	for _, e := range got.TaskStates["t0"].Events {
		killed = killed || e.Type == structs.TaskKilled
	}
	if !killed {
		t.Fatal("no Killed event after stop")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("a stopped alloc keeps its dir until GC: %v", err)
	}

	tc.servers.GCAlloc(a.ID)
	clienttest.WaitFor(t, waitLong, func() error {
		if _, ok := tc.AllocDir(a.ID); ok {
			return errors.New("alloc still known")
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			return fmt.Errorf("alloc dir still there: %v", err)
		}
		return nil
	})
}

func TestGCOfRunningAllocKillsIt(t *testing.T) {
	tc := newTestClient(t, time.Minute, nil)
	a := tc.place(structs.JobTypeService, map[string]any{})
	tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
	tc.servers.GCAlloc(a.ID)
	clienttest.WaitFor(t, waitLong, func() error {
		if n := tc.driver.Live(); n != 0 {
			return fmt.Errorf("%d tasks still live", n)
		}
		return nil
	})
}

func TestHeartbeatsFollowTTL(t *testing.T) {
	const ttl = 300 * time.Millisecond
	tc := newTestClient(t, ttl, nil)
	clienttest.WaitFor(t, waitLong, func() error {
		if n := len(tc.servers.Heartbeats()); n < 6 {
			return fmt.Errorf("%d heartbeats", n)
		}
		return nil
	})
	hb := tc.servers.Heartbeats()
	for i := 1; i < len(hb); i++ {
		gap := hb[i].Sub(hb[i-1])
		// 40–60% of the TTL, with slack for a busy machine.
		if gap < ttl/3 || gap > ttl {
			t.Errorf("heartbeat gap %v outside (%v, %v)", gap, ttl/3, ttl)
		}
	}
}

func TestReregistersWhenForgotten(t *testing.T) {
	tc := newTestClient(t, 200*time.Millisecond, nil)
	tc.servers.ForgetNode(tc.NodeID())
	clienttest.WaitFor(t, waitLong, func() error {
		if tc.servers.Node(tc.NodeID()) == nil || tc.servers.Registrations() < 2 {
			return fmt.Errorf("registrations %d", tc.servers.Registrations())
		}
		return nil
	})
}

func TestDriverHealthChangeReregisters(t *testing.T) {
	tc := newTestClient(t, time.Minute, func(c *Config) { c.DriverFingerprintInterval = 20 * time.Millisecond })
	tc.driver.SetHealth(plugins.HealthUnhealthy)
	clienttest.WaitFor(t, waitLong, func() error {
		n := tc.servers.Node(tc.NodeID())
		if d := n.Drivers[clienttest.DriverName]; d == nil || d.Healthy {
			return fmt.Errorf("driver info %+v", d)
		}
		if _, ok := n.Attributes["driver.mock"]; ok {
			return errors.New("unhealthy driver still advertised")
		}
		return nil
	})
}

func TestStatusSurvivesUpdateErrors(t *testing.T) {
	tc := newTestClient(t, time.Minute, nil)
	tc.servers.FailUpdates(1)
	a := tc.place(structs.JobTypeBatch, map[string]any{"run_for": "10ms"})
	tc.waitReported(t, a.ID, structs.AllocClientStatusComplete)
}

func TestUnrunnableAllocReportedFailed(t *testing.T) {
	tc := newTestClient(t, time.Minute, nil)
	a := clienttest.Alloc(structs.JobTypeService, map[string]any{})
	a.NodeID = tc.NodeID()
	a.TaskGroup = "missing"
	tc.servers.AddAlloc(a)
	got := tc.waitReported(t, a.ID, structs.AllocClientStatusFailed)
	if got.ClientDescription == "" {
		t.Fatal("no description")
	}
}

func TestShutdownKillsTasks(t *testing.T) {
	tc := newTestClient(t, time.Minute, func(c *Config) { c.KillTasksOnShutdown = true })
	a := tc.place(structs.JobTypeService, map[string]any{})
	tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
	tc.Shutdown()
	if n := tc.driver.Live(); n != 0 {
		t.Fatalf("%d tasks live after shutdown", n)
	}
}
