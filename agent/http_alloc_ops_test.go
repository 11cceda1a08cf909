// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	nomad "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/client"
	"github.com/droverhq/drover/client/allocrunner/taskrunner"
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

func TestAllocSignalLocal(t *testing.T) {
	fake := &fakeAllocClient{allocID: "a1"}
	h := &HTTPServer{allocs: fake, logger: hclog.NewNullLogger(), mux: http.NewServeMux()}
	h.routes()
	ts := httptest.NewServer(h.mux)
	defer ts.Close()
	nc, err := nomad.NewClient(&nomad.Config{Address: ts.URL})
	if err != nil {
		t.Fatal(err)
	}

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
	nc, err := nomad.NewClient(&nomad.Config{Address: base})
	if err != nil {
		t.Fatal(err)
	}
	err = nc.Allocations().Signal(&nomad.Allocation{ID: "0b5e0c39-3e4c-4c8e-9c4e-3a7a7e1f1d00"}, nil, "", "SIGHUP")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Signal of an unknown allocation: %v", err)
	}
}
