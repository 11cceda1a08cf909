// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"net/http"
	"testing"
	"time"

	"github.com/droverhq/drover/api"
)

func helloJob() *api.Job {
	return &api.Job{
		ID: api.Ptr("hello"), Name: api.Ptr("hello"), Type: api.Ptr("service"), Priority: api.Ptr(50),
		Datacenters: []string{"dc1", "dc2"}, Namespace: api.Ptr("default"), NodePool: api.Ptr("default"),
		Status: api.Ptr("running"), SubmitTime: api.Ptr(nanos(2 * time.Hour)), Version: api.Ptr(uint64(3)),
	}
}

func TestJobStatusList(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/jobs", 5, []api.JobListStub{
		{ID: "hello", Type: "service", Priority: 50, Status: "running", SubmitTime: nanos(time.Hour)},
		{ID: "nightly", Type: "batch", Priority: 70, Status: "dead", Stop: true, SubmitTime: nanos(48 * time.Hour)},
	})
	r := runCLI(t, agent, "", "job", "status")
	r.check(t, ExitOK, `ID       Type     Priority  Status          Submit Date
hello    service  50        running         2024-05-01T11:00:00Z
nightly  batch    70        dead (stopped)  2024-04-29T12:00:00Z
`, "")
	agent.wantRequests("GET /v1/jobs")
}

func TestJobStatusOneJob(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/jobs", 5, []api.JobListStub{{ID: "hello"}, {ID: "hello-2"}})
	agent.reply("GET /v1/job/{id}", 5, helloJob())
	agent.reply("GET /v1/job/{id}/summary", 5, map[string]any{"JobID": "hello",
		"Summary": map[string]any{"web": map[string]int{"Running": 2, "Queued": 1}, "db": map[string]int{"Complete": 1}}})
	// The blocked evaluation records no failures; the newest evaluation
	// that failed to place (not the older one) explains the wait.
	agent.reply("GET /v1/job/{id}/evaluations", 5, []api.Evaluation{
		{ID: "e1", Status: "complete", CreateIndex: 3, FailedTGAllocs: map[string]*api.AllocationMetric{
			"web": {NodesEvaluated: 1, NodesExhausted: 1, DimensionExhausted: map[string]int{"memory": 1}}}},
		{ID: evalID, Status: "blocked", CreateIndex: 6},
		{ID: "e2", Status: "complete", CreateIndex: 5, FailedTGAllocs: map[string]*api.AllocationMetric{
			"web": {NodesEvaluated: 1, NodesExhausted: 1, DimensionExhausted: map[string]int{"cpu": 1}}}},
	})
	agent.reply("GET /v1/job/{id}/allocations", 5, []api.AllocationListStub{
		{ID: allocID, NodeID: nodeID, TaskGroup: "web", JobVersion: 3, DesiredStatus: "run",
			ClientStatus: "running", CreateIndex: 9, CreateTime: nanos(90 * time.Second), ModifyTime: nanos(21 * time.Second)},
		{ID: "0af996ed-aaaa-bbbb-cccc-dddddddddddd", NodeID: nodeID, TaskGroup: "db", JobVersion: 2,
			DesiredStatus: "stop", ClientStatus: "complete", CreateIndex: 7,
			CreateTime: nanos(26 * time.Hour), ModifyTime: nanos(6*time.Hour + 4*time.Minute)},
	})

	r := runCLI(t, agent, "", "job", "status", "hello")
	r.check(t, ExitOK, `ID            = hello
Name          = hello
Submit Date   = 2024-05-01T10:00:00Z
Type          = service
Priority      = 50
Datacenters   = dc1,dc2
Namespace     = default
Node Pool     = default
Status        = running
Periodic      = false
Parameterized = false

Summary
Task Group  Queued  Starting  Running  Failed  Complete  Lost  Unknown
db          0       0         0        0       1         0     0
web         1       0         2        0       0         0     0

Placement Failure
Task Group "web":
  * Resources exhausted on 1 nodes
  * Dimension "cpu" exhausted on 1 nodes

Allocations
ID        Node ID   Task Group  Version  Desired  Status    Created    Modified
c2b4606d  35085106  web         3        run      running   1m30s ago  21s ago
0af996ed  35085106  db          2        stop     complete  1d2h ago   6h4m ago
`, "")
	agent.wantRequests(
		"GET /v1/jobs?prefix=hello",
		"GET /v1/job/hello",
		"GET /v1/job/hello/summary",
		"GET /v1/job/hello/evaluations",
		"GET /v1/job/hello/allocations?all=false",
	)
}

func TestJobStatusShortAndPrefixErrors(t *testing.T) {
	agent := newFakeAgent(t)
	agent.mux.HandleFunc("GET /v1/jobs", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("prefix") {
		case "hel":
			writeJSON(w, 5, []api.JobListStub{{ID: "hello"}})
		case "ni":
			writeJSON(w, 5, []api.JobListStub{
				{ID: "nightly", Type: "batch", Priority: 50, Status: "running", SubmitTime: nanos(0)},
				{ID: "nix", Type: "service", Priority: 50, Status: "pending", SubmitTime: nanos(0)}})
		default:
			writeJSON(w, 5, []api.JobListStub{})
		}
	})
	agent.reply("GET /v1/job/{id}", 5, helloJob())

	r := runCLI(t, agent, "", "job", "status", "-short", "hel")
	r.check(t, ExitOK, `ID            = hello
Name          = hello
Submit Date   = 2024-05-01T10:00:00Z
Type          = service
Priority      = 50
Datacenters   = dc1,dc2
Namespace     = default
Node Pool     = default
Status        = running
Periodic      = false
Parameterized = false
`, "")

	r = runCLI(t, agent, "", "job", "status", "ni")
	r.check(t, ExitError, "", `Prefix matched multiple jobs

ID       Type     Priority  Status   Submit Date
nightly  batch    50        running  2024-05-01T12:00:00Z
nix      service  50        pending  2024-05-01T12:00:00Z
`)

	r = runCLI(t, agent, "", "job", "status", "zz")
	r.check(t, ExitError, "", "No job(s) with prefix or id \"zz\" found\n")

	r = runCLI(t, agent, "", "job", "status", "a", "b")
	r.check(t, ExitError, "", "This command takes either no arguments or one: <job>\nFor additional help try 'drover job status -help'\n")
}

func TestJobStop(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/jobs", 5, []api.JobListStub{{ID: "hello"}})
	agent.reply("DELETE /v1/job/{id}", 6, map[string]any{"EvalID": evalID})
	agent.reply("GET /v1/evaluation/{id}", 7, api.Evaluation{ID: evalID, JobID: "hello",
		TriggeredBy: "job-deregister", Status: "complete"})
	agent.reply("GET /v1/evaluation/{id}/allocations", 7, []api.AllocationListStub{})

	t.Run("exact id, monitored", func(t *testing.T) {
		r := runCLI(t, agent, "", "job", "stop", "-purge", "hello")
		r.check(t, ExitOK, `==> 2024-05-01T12:00:00Z: Monitoring evaluation "5e2badb6"
    2024-05-01T12:00:00Z: Evaluation triggered by job "hello"
    2024-05-01T12:00:00Z: Evaluation status changed: "pending" -> "complete"
==> 2024-05-01T12:00:00Z: Evaluation "5e2badb6" finished with status "complete"
`, "")
	})
	agent.mu.Lock()
	agent.reqs = nil
	agent.mu.Unlock()

	t.Run("prefix, declined", func(t *testing.T) {
		r := runCLI(t, agent, "n\n", "job", "stop", "hel")
		r.check(t, ExitOK, "Are you sure you want to stop job \"hello\"? [y/N] Cancelling job stop\n", "")
		agent.wantRequests("GET /v1/jobs?prefix=hel")
	})
	agent.mu.Lock()
	agent.reqs = nil
	agent.mu.Unlock()

	t.Run("prefix, -yes, -detach", func(t *testing.T) {
		r := runCLI(t, agent, "", "job", "stop", "-yes", "-detach", "hel")
		r.check(t, ExitOK, evalID+"\n", "")
		agent.wantRequests("GET /v1/jobs?prefix=hel", "DELETE /v1/job/hello?purge=false")
	})
}
