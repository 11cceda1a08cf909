// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/client"
	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/plugins"
)

// fakeAllocClient stands in for the agent's client: it runs one
// allocation with tasks "web" (signals work) and "old" (its driver
// has no signals) and records the signals it was asked to send.
type fakeAllocClient struct {
	allocID string
	mu      sync.Mutex
	calls   []string
}

func (f *fakeAllocClient) AllocDir(allocID string) (string, bool) {
	return "/nonexistent", allocID == f.allocID
}

func (f *fakeAllocClient) SignalAlloc(_ context.Context, allocID, task, sig string) error {
	switch {
	case allocID != f.allocID:
		return fmt.Errorf("signal allocation %q: %w", allocID, client.ErrUnknownAlloc)
	case task == "old":
		return taskrunner.ErrSignalsUnsupported
	case task != "" && task != "web":
		return fmt.Errorf("signal allocation %q: %w %q", allocID, client.ErrUnknownTask, task)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, task+" "+sig)
	return nil
}

func (f *fakeAllocClient) RestartAlloc(_ context.Context, allocID, task string, allTasks bool) error {
	switch {
	case allocID != f.allocID:
		return fmt.Errorf("restart allocation %q: %w", allocID, client.ErrUnknownAlloc)
	case task == "old":
		return fmt.Errorf("restart task %q: %w", task, taskrunner.ErrTaskNotRunning)
	case task != "" && task != "web":
		return fmt.Errorf("restart allocation %q: %w %q", allocID, client.ErrUnknownTask, task)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("restart %s all=%v", task, allTasks))
	return nil
}

func (f *fakeAllocClient) AllocStats(_ context.Context, allocID string) (*client.AllocResourceUsage, error) {
	if allocID != f.allocID {
		return nil, fmt.Errorf("stats of allocation %q: %w", allocID, client.ErrUnknownAlloc)
	}
	u := &plugins.ResourceUsage{MemoryStats: &plugins.MemoryStats{RSS: 4096}, CpuStats: &plugins.CpuStats{Percent: 12.5}}
	return &client.AllocResourceUsage{ResourceUsage: u, Tasks: map[string]*plugins.TaskResourceUsage{"web": {ResourceUsage: u, Timestamp: 7}}, Timestamp: 7}, nil
}

func (f *fakeAllocClient) HostStats(context.Context) (*client.HostStats, error) {
	return &client.HostStats{Memory: &client.HostMemoryStats{Total: 1 << 30}, CPU: []*client.HostCPUStats{{CPU: "cpu0", Idle: 90}}, Uptime: 60}, nil
}

func (f *fakeAllocClient) NodeID() string { return "node-1" }

func TestAllocRestartAndStatsLocal(t *testing.T) {
	fake := &fakeAllocClient{allocID: "a1"}
	nc := fakeClientAPI(t, fake)
	allocs := nc.Allocations()
	tests := []struct {
		name      string
		call      func() error
		wantCall  string
		wantError string
	}{
		{"one task", func() error { return allocs.Restart(&nomad.Allocation{ID: "a1"}, "web", nil) }, "restart web all=false", ""},
		{"running tasks", func() error { return allocs.Restart(&nomad.Allocation{ID: "a1"}, "", nil) }, "restart  all=false", ""},
		{"all tasks", func() error { return allocs.RestartAllTasks(&nomad.Allocation{ID: "a1"}, nil) }, "restart  all=true", ""}, //nolint:staticcheck // Nomad's deprecated call must keep working.
		{"task not running", func() error { return allocs.Restart(&nomad.Allocation{ID: "a1"}, "old", nil) }, "", "400"},
		{"unknown task", func() error { return allocs.Restart(&nomad.Allocation{ID: "a1"}, "db", nil) }, "", "400"},
		{"alloc elsewhere, no server", func() error { return allocs.Restart(&nomad.Allocation{ID: "a2"}, "", nil) }, "", "404"},
		{"stop without server", func() error { _, err := allocs.Stop(&nomad.Allocation{ID: "a1"}, nil); return err }, "", "501"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake.mu.Lock()
			fake.calls = nil
			fake.mu.Unlock()
			err := tc.call()
			if tc.wantError == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError)) {
				t.Fatalf("error %v, want it to contain %q", err, tc.wantError)
			}
			fake.mu.Lock()
			got := strings.Join(fake.calls, ",")
			fake.mu.Unlock()
			if got != tc.wantCall {
				t.Fatalf("client calls %q, want %q", got, tc.wantCall)
			}
		})
	}

	usage, err := allocs.Stats(&nomad.Allocation{ID: "a1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if web := usage.Tasks["web"]; web == nil || web.ResourceUsage.MemoryStats.RSS != 4096 || usage.ResourceUsage.CpuStats.Percent != 12.5 || usage.Timestamp != 7 {
		t.Fatalf("alloc stats %+v", usage)
	}
	for _, node := range []string{"", "node-1"} {
		hs, err := nc.Nodes().Stats(node, nil)
		if err != nil {
			t.Fatalf("host stats of %q: %v", node, err)
		}
		if hs.Memory.Total != 1<<30 || len(hs.CPU) != 1 || hs.CPU[0].Idle != 90 || hs.Uptime != 60 {
			t.Fatalf("host stats %+v", hs)
		}
	}
	if _, err := nc.Nodes().Stats("node-2", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("host stats of another node without a server: %v", err)
	}
}

func TestAllocStopUnknownOnServer(t *testing.T) {
	_, base := testServerAgent(t)
	nc := officialClient(t, base)
	_, err := nc.Allocations().Stop(&nomad.Allocation{ID: "0b5e0c39-3e4c-4c8e-9c4e-3a7a7e1f1d00"}, nil)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Stop of an unknown allocation: %v", err)
	}
}

func TestAllocSignalLocal(t *testing.T) {
	fake := &fakeAllocClient{allocID: "a1"}
	nc := fakeClientAPI(t, fake)

	tests := []struct {
		name      string
		alloc     string
		task      string
		signal    string
		wantCall  string
		wantError string
	}{
		{"one task", "a1", "web", "SIGHUP", "web SIGHUP", ""},
		{"all tasks", "a1", "", "SIGUSR1", " SIGUSR1", ""},
		{"unknown task", "a1", "db", "SIGHUP", "", "400"},
		{"driver without signals", "a1", "old", "SIGHUP", "", "driver does not support signals"},
		{"missing signal", "a1", "web", "", "", "missing Signal"},
		{"alloc elsewhere, no server", "a2", "", "SIGHUP", "", "404"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake.mu.Lock()
			fake.calls = nil
			fake.mu.Unlock()
			err := nc.Allocations().Signal(&nomad.Allocation{ID: tc.alloc}, nil, tc.task, tc.signal)
			if tc.wantError == "" && err != nil {
				t.Fatalf("Signal: %v", err)
			}
			if tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError)) {
				t.Fatalf("Signal error %v, want it to contain %q", err, tc.wantError)
			}
			fake.mu.Lock()
			calls := fake.calls
			fake.mu.Unlock()
			if got := strings.Join(calls, ","); got != tc.wantCall {
				t.Fatalf("client calls %q, want %q", got, tc.wantCall)
			}
		})
	}
}

func TestAllocSignalUnknownAllocOnServer(t *testing.T) {
	_, base := testServerAgent(t)
	nc := officialClient(t, base)
	err := nc.Allocations().Signal(&nomad.Allocation{ID: "0b5e0c39-3e4c-4c8e-9c4e-3a7a7e1f1d00"}, nil, "", "SIGHUP")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Signal of an unknown allocation: %v", err)
	}
}
