// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/droverhq/drover/api"
)

// testAlloc is a running allocation of job hello with the given tasks.
func testAlloc(tasks ...string) *api.Allocation {
	job := helloJob()
	tg := &api.TaskGroup{Name: api.Ptr("web")}
	a := &api.Allocation{
		ID: allocID, EvalID: evalID, Name: "hello.web[0]", NodeID: nodeID, NodeName: "node-1",
		JobID: "hello", Job: job, TaskGroup: "web", DesiredStatus: "run", ClientStatus: "running",
		ClientDescription: "Tasks are running", CreateTime: nanos(5 * time.Minute), ModifyTime: nanos(4 * time.Minute),
		TaskStates: map[string]*api.TaskState{},
	}
	for _, name := range tasks {
		tg.Tasks = append(tg.Tasks, &api.Task{Name: name})
	}
	job.TaskGroups = []*api.TaskGroup{tg}
	return a
}

func TestAllocStatus(t *testing.T) {
	alloc := testAlloc("server")
	started := testNow.Add(-4 * time.Minute)
	alloc.TaskStates["server"] = &api.TaskState{State: "running", StartedAt: started, Events: []*api.TaskEvent{
		{Type: "Received", Time: nanos(5 * time.Minute), DisplayMessage: "Task received by client"},
		{Type: "Task Setup", Time: nanos(5 * time.Minute), Message: "Building Task Directory"},
		{Type: "Started", Time: started.UnixNano(), DisplayMessage: "Task started by client"},
	}}
	body, _ := json.Marshal(alloc)
	var raw map[string]any
	json.Unmarshal(body, &raw)
	raw["AllocatedResources"] = map[string]any{
		"Tasks": map[string]any{"server": map[string]any{
			"Cpu": map[string]any{"CpuShares": 500}, "Memory": map[string]any{"MemoryMB": 256},
			"Networks": []any{map[string]any{"IP": "127.0.0.1",
				"DynamicPorts": []any{map[string]any{"Label": "http", "Value": 25000}}}},
		}},
		"Shared": map[string]any{"DiskMB": 300},
	}

	agent := newFakeAgent(t)
	agent.reply("GET /v1/allocations", 5, []api.AllocationListStub{{ID: allocID}})
	agent.reply("GET /v1/allocation/{id}", 5, raw)

	r := runCLI(t, agent, "", "alloc", "status", "c2b4606")
	r.check(t, ExitOK, `ID                  = c2b4606d
Eval ID             = 5e2badb6
Name                = hello.web[0]
Node ID             = 35085106
Node Name           = node-1
Job ID              = hello
Job Version         = 3
Client Status       = running
Client Description  = Tasks are running
Desired Status      = run
Desired Description = <none>
Created             = 5m ago
Modified            = 4m ago

Task "server" is "running"
Task Resources:
CPU      Memory   Disk     Addresses
500 MHz  256 MiB  300 MiB  http: 127.0.0.1:25000

Task Events:
Started At     = 2024-05-01T11:56:00Z
Finished At    = N/A
Total Restarts = 0
Last Restart   = N/A

Recent Events:
Time                  Type        Description
2024-05-01T11:56:00Z  Started     Task started by client
2024-05-01T11:55:00Z  Task Setup  Building Task Directory
2024-05-01T11:55:00Z  Received    Task received by client
`, "")
	// The 7-character prefix is trimmed to whole bytes for the agent.
	agent.wantRequests("GET /v1/allocations?prefix=c2b460", "GET /v1/allocation/"+allocID)

	r = runCLI(t, agent, "", "alloc", "status", "-short", allocID)
	if !strings.HasSuffix(r.stdout, `
Tasks
Name    State    Last Event  Time
server  running  Started     2024-05-01T11:56:00Z
`) || r.code != ExitOK {
		t.Errorf("-short: code %d, stdout:\n%s", r.code, r.stdout)
	}
}

func TestAllocStatusPrefixErrors(t *testing.T) {
	agent := newFakeAgent(t)
	agent.mux.HandleFunc("GET /v1/allocations", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("prefix") != "c2" {
			writeJSON(w, 5, []api.AllocationListStub{})
			return
		}
		writeJSON(w, 5, []api.AllocationListStub{
			{ID: allocID, EvalID: evalID, NodeID: nodeID, TaskGroup: "web", DesiredStatus: "run",
				ClientStatus: "running", CreateIndex: 2, CreateTime: nanos(time.Minute), ModifyTime: nanos(time.Minute)},
			{ID: "c2ffffff-0000-0000-0000-000000000000", EvalID: evalID, NodeID: nodeID, TaskGroup: "web",
				DesiredStatus: "stop", ClientStatus: "complete", CreateIndex: 1, CreateTime: nanos(time.Hour), ModifyTime: nanos(time.Hour)},
		})
	})
	tests := []struct {
		arg, stderr string
	}{
		{"c2", `Prefix matched multiple allocations

ID        Eval ID   Node ID   Task Group  Version  Desired  Status    Created  Modified
c2b4606d  5e2badb6  35085106  web         0        run      running   1m ago   1m ago
c2ffffff  5e2badb6  35085106  web         0        stop     complete  1h ago   1h ago
`},
		{"ab", "No allocation(s) with prefix or id \"ab\" found\n"},
		{"a", "Identifier must contain at least two characters.\n"},
	}
	for _, tt := range tests {
		r := runCLI(t, agent, "", "alloc", "status", tt.arg)
		r.check(t, ExitError, "", tt.stderr)
	}
}

// logFrames encodes data as the JSON frame stream of /v1/client/fs/logs.
func logFrames(chunks ...string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	off := 0
	for _, c := range chunks {
		off += len(c)
		enc.Encode(api.StreamFrame{Data: []byte(c), File: "alloc/logs/server.stdout.0", Offset: int64(off)})
	}
	return b.Bytes()
}

func TestAllocLogs(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/allocations", 5, []api.AllocationListStub{{ID: allocID}})
	agent.reply("GET /v1/allocation/{id}", 5, testAlloc("server"))
	// The client looks the node up to reach it directly; without an
	// advertised address it goes through the agent.
	agent.fail("GET /v1/node/{id}", 404, "node not found")
	agent.mux.HandleFunc("GET /v1/client/fs/logs/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Write(logFrames("one\ntwo\n", "three\nfour\n"))
	})

	r := runCLI(t, agent, "", "alloc", "logs", "c2b4606d")
	r.check(t, ExitOK, "one\ntwo\nthree\nfour\n", "")
	agent.wantRequests(
		"GET /v1/allocations?prefix=c2b4606d",
		"GET /v1/allocation/"+allocID,
		"GET /v1/node/"+nodeID,
		"GET /v1/client/fs/logs/"+allocID+"?follow=false&offset=0&origin=start&task=server&type=stdout",
	)

	agent.mu.Lock()
	agent.reqs = nil
	agent.mu.Unlock()
	r = runCLI(t, agent, "", "alloc", "logs", "-stderr", "-n", "2", allocID, "server")
	r.check(t, ExitOK, "three\nfour\n", "")
	agent.wantRequests(
		"GET /v1/allocations?prefix="+allocID+"",
		"GET /v1/allocation/"+allocID,
		"GET /v1/node/"+nodeID,
		"GET /v1/client/fs/logs/"+allocID+"?follow=false&offset=240&origin=end&task=server&type=stderr",
	)

	r = runCLI(t, agent, "", "alloc", "logs", allocID, "nope")
	r.check(t, ExitError, "", "Could not find task named \"nope\" in allocation \"c2b4606d\"\n")
}

func TestAllocLogsNeedsTaskWhenSeveral(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/allocations", 5, []api.AllocationListStub{{ID: allocID}})
	agent.reply("GET /v1/allocation/{id}", 5, testAlloc("server", "sidecar"))
	r := runCLI(t, agent, "", "alloc", "logs", allocID)
	r.check(t, ExitError, "", `Allocation "c2b4606d" is running the following tasks:
  * server
  * sidecar

Please specify the task.
`)
}

// syncBuffer is a bytes.Buffer safe to read while the CLI writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAllocLogsFollowStopsOnInterrupt(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/allocations", 5, []api.AllocationListStub{{ID: allocID}})
	agent.reply("GET /v1/allocation/{id}", 5, testAlloc("server"))
	agent.fail("GET /v1/node/{id}", 404, "node not found")
	agent.mux.HandleFunc("GET /v1/client/fs/logs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("follow") != "true" {
			t.Errorf("follow = %q", r.URL.Query().Get("follow"))
		}
		w.Write(logFrames("old\nlines\nlast\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // a followed log never ends on its own
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan result, 1)
	go func() {
		done <- runCLIContext(ctx, t, agent, "", out, "alloc", "logs", "-f", "-tail", "-n", "1", allocID)
	}()

	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "last\n" {
		if time.Now().After(deadline) {
			t.Fatalf("followed output = %q, want %q", out.String(), "last\n")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel() // what SIGINT does through Main's context
	select {
	case r := <-done:
		r.check(t, ExitOK, "last\n", "")
	case <-time.After(5 * time.Second):
		t.Fatal("alloc logs -f did not stop after interrupt")
	}
}
