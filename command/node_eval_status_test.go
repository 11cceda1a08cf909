// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"net/http"
	"testing"
	"time"

	"github.com/droverhq/drover/api"
)

func TestNodeStatusList(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/nodes", 5, []api.NodeListStub{
		{ID: nodeID, NodePool: "default", Datacenter: "dc1", Name: "node-1", SchedulingEligibility: "eligible", Status: "ready"},
		{ID: "f7476465-0000-0000-0000-000000000000", NodePool: "gpu", Datacenter: "dc2", Name: "node-2",
			NodeClass: "big", Drain: true, SchedulingEligibility: "ineligible", Status: "down"},
	})
	r := runCLI(t, agent, "", "node", "status")
	r.check(t, ExitOK, `ID        Node Pool  DC   Name    Class   Drain  Eligibility  Status
35085106  default    dc1  node-1  <none>  false  eligible     ready
f7476465  gpu        dc2  node-2  big     true   ineligible   down
`, "")
	agent.wantRequests("GET /v1/nodes")
}

func TestNodeStatusOneNode(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/nodes", 5, []api.NodeListStub{{ID: nodeID}})
	agent.reply("GET /v1/node/{id}", 5, map[string]any{
		"ID": nodeID, "Name": "node-1", "NodePool": "default", "Datacenter": "dc1",
		"SchedulingEligibility": "eligible", "Status": "ready",
		"Drivers": map[string]any{
			"raw_exec": map[string]any{"Detected": true, "Healthy": true},
			"exec":     map[string]any{"Detected": true, "Healthy": false},
			"docker":   map[string]any{"Detected": false},
		},
		"Events": []any{
			map[string]any{"Message": "Node registered", "Subsystem": "Cluster", "Timestamp": testNow.Add(-time.Hour)},
			map[string]any{"Message": "Node heartbeat missed", "Subsystem": "Cluster", "Timestamp": testNow.Add(-time.Minute)},
		},
		"NodeResources": map[string]any{"Cpu": map[string]any{"CpuShares": 4000},
			"Memory": map[string]any{"MemoryMB": 8192}, "Disk": map[string]any{"DiskMB": 51200}},
		"ReservedResources": map[string]any{"Cpu": map[string]any{"CpuShares": 100}},
	})
	running := testAlloc("server")
	agent.reply("GET /v1/node/{id}/allocations", 5, []any{map[string]any{
		"ID": running.ID, "EvalID": evalID, "NodeID": nodeID, "TaskGroup": "web", "JobID": "hello",
		"Job": map[string]any{"Version": 3}, "DesiredStatus": "run", "ClientStatus": "running",
		"CreateTime": nanos(time.Hour), "ModifyTime": nanos(time.Hour),
		"AllocatedResources": map[string]any{"Tasks": map[string]any{"server": map[string]any{
			"Cpu": map[string]any{"CpuShares": 500}, "Memory": map[string]any{"MemoryMB": 256}}},
			"Shared": map[string]any{"DiskMB": 300}},
	}})

	r := runCLI(t, agent, "", "node", "status", "3508")
	r.check(t, ExitOK, `ID          = 35085106
Name        = node-1
Node Pool   = default
Class       = <none>
DC          = dc1
Drain       = false
Eligibility = eligible
Status      = ready
Drivers     = exec (unhealthy),raw_exec

Node Events
Time                  Subsystem  Message
2024-05-01T11:59:00Z  Cluster    Node heartbeat missed
2024-05-01T11:00:00Z  Cluster    Node registered

Allocated Resources
CPU           Memory           Disk
500/3900 MHz  256 MiB/8.0 GiB  300 MiB/50 GiB

Allocations
ID        Node ID   Task Group  Version  Desired  Status   Created  Modified
c2b4606d  35085106  web         3        run      running  1h ago   1h ago
`, "")
	agent.wantRequests("GET /v1/nodes?prefix=3508", "GET /v1/node/"+nodeID, "GET /v1/node/"+nodeID+"/allocations")
}

func TestNodeStatusSelf(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/agent/self", 5, map[string]any{"stats": map[string]any{"client": map[string]string{"node_id": nodeID}}})
	agent.reply("GET /v1/node/{id}", 5, map[string]any{"ID": nodeID, "Name": "node-1", "NodePool": "default",
		"Datacenter": "dc1", "SchedulingEligibility": "eligible", "Status": "ready"})
	r := runCLI(t, agent, "", "node", "status", "-self", "-short", "-verbose")
	r.check(t, ExitOK, `ID          = `+nodeID+`
Name        = node-1
Node Pool   = default
Class       = <none>
DC          = dc1
Drain       = false
Eligibility = eligible
Status      = ready
Drivers     = <none>
`, "")
	agent.wantRequests("GET /v1/agent/self", "GET /v1/node/"+nodeID)
}

func TestEvalStatus(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/evaluations", 5, []api.Evaluation{{ID: evalID}})
	agent.reply("GET /v1/evaluation/{id}", 5, api.Evaluation{
		ID: evalID, Status: "complete", Type: "service", TriggeredBy: "job-register", JobID: "hello",
		Namespace: "default", Priority: 50, CreateTime: nanos(time.Minute), ModifyTime: nanos(time.Minute),
		BlockedEval:    "aabbccdd-0000-0000-0000-000000000000",
		FailedTGAllocs: map[string]*api.AllocationMetric{"web": {NodesEvaluated: 0}},
	})
	r := runCLI(t, agent, "", "eval", "status", "5e2b")
	r.check(t, ExitOK, `ID                 = 5e2badb6
Create Time        = 1m ago
Modify Time        = 1m ago
Status             = complete
Status Description = <none>
Type               = service
TriggeredBy        = job-register
Job ID             = hello
Namespace          = default
Priority           = 50
Placement Failures = true
Blocked Eval       = aabbccdd

Failed Placements
Task Group "web" (failed to place 1 allocation):
  * No nodes were eligible for evaluation

Evaluation "aabbccdd" waiting for additional capacity to place remainder
`, "")
	agent.wantRequests("GET /v1/evaluations?prefix=5e2b", "GET /v1/evaluation/"+evalID+"?related=true")
}

// statusAgent answers the four prefix lookups of "drover status".
func statusAgent(t *testing.T, jobs []api.JobListStub, allocs []api.AllocationListStub) *fakeAgent {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/jobs", 5, jobs)
	agent.reply("GET /v1/allocations", 5, allocs)
	agent.reply("GET /v1/nodes", 5, []api.NodeListStub{})
	agent.reply("GET /v1/evaluations", 5, []api.Evaluation{})
	return agent
}

func TestStatusFindsWhatAnIDNames(t *testing.T) {
	t.Run("job name skips UUID lookups", func(t *testing.T) {
		agent := statusAgent(t, []api.JobListStub{{ID: "hello"}}, nil)
		agent.reply("GET /v1/job/{id}", 5, helloJob())
		r := runCLI(t, agent, "", "status", "-short", "hello")
		if r.code != ExitOK || r.stderr != "" {
			t.Fatalf("code %d, stderr %q", r.code, r.stderr)
		}
		agent.wantRequests("GET /v1/jobs?prefix=hello", "GET /v1/job/hello")
	})
	t.Run("alloc prefix", func(t *testing.T) {
		agent := statusAgent(t, nil, []api.AllocationListStub{{ID: allocID}})
		agent.reply("GET /v1/allocation/{id}", 5, testAlloc("server"))
		r := runCLI(t, agent, "", "status", "-short", "c2b4")
		if r.code != ExitOK || r.stderr != "" {
			t.Fatalf("code %d, stderr %q", r.code, r.stderr)
		}
		agent.wantRequests("GET /v1/jobs?prefix=c2b4", "GET /v1/allocations?prefix=c2b4",
			"GET /v1/nodes?prefix=c2b4", "GET /v1/evaluations?prefix=c2b4", "GET /v1/allocation/"+allocID)
	})
	t.Run("nothing", func(t *testing.T) {
		agent := statusAgent(t, nil, nil)
		r := runCLI(t, agent, "", "status", "ab")
		r.check(t, ExitError, "", "No matches found for id \"ab\"\n")
	})
	t.Run("several kinds", func(t *testing.T) {
		agent := statusAgent(t, []api.JobListStub{{ID: "c2-batch"}}, []api.AllocationListStub{{ID: allocID}})
		r := runCLI(t, agent, "", "status", "c2")
		r.check(t, ExitError, "", `Multiple matches found for id "c2"

Jobs:
  c2-batch

Allocations:
  `+allocID+"\n")
	})
	t.Run("no argument lists jobs", func(t *testing.T) {
		agent := newFakeAgent(t)
		agent.mux.HandleFunc("GET /v1/jobs", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 1, []any{}) })
		r := runCLI(t, agent, "", "status")
		r.check(t, ExitOK, "No running jobs\n", "")
	})
}
