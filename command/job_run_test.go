// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/droverhq/drover/api"
)

const (
	evalID  = "5e2badb6-b7cf-5177-8281-8fe14f7193d2"
	allocID = "c2b4606d-1b02-0d8d-5fdd-031167cd4c91"
	nodeID  = "35085106-9480-b465-a348-deb745024394"
)

// writeJobFile writes a small JSON job to a temp file and returns its path.
func writeJobFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hello.json")
	job := `{"Job": {"ID": "hello", "Name": "hello", "Type": "service", "Datacenters": ["dc1"],
	  "TaskGroups": [{"Name": "web", "Count": 1, "Tasks": [{"Name": "server", "Driver": "raw_exec"}]}]}}`
	if err := os.WriteFile(path, []byte(job), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestJobRunMonitorsEvaluation(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("PUT /v1/jobs", 10, api.JobRegisterResponse{EvalID: evalID})
	agent.replySeq("GET /v1/evaluation/{id}", 11,
		api.Evaluation{ID: evalID, JobID: "hello", TriggeredBy: "job-register", Status: "pending"},
		api.Evaluation{ID: evalID, JobID: "hello", TriggeredBy: "job-register", Status: "complete"})
	agent.replySeq("GET /v1/evaluation/{id}/allocations", 11,
		[]api.AllocationListStub{},
		[]api.AllocationListStub{{ID: allocID, NodeID: nodeID, TaskGroup: "web", Name: "hello.web[0]"}})

	r := runCLI(t, agent, "", "job", "run", "-json", writeJobFile(t))
	r.check(t, ExitOK, `==> 2024-05-01T12:00:00Z: Monitoring evaluation "5e2badb6"
    2024-05-01T12:00:00Z: Evaluation triggered by job "hello"
    2024-05-01T12:00:00Z: Allocation "c2b4606d" created: node "35085106", group "web"
    2024-05-01T12:00:00Z: Evaluation status changed: "pending" -> "complete"
==> 2024-05-01T12:00:00Z: Evaluation "5e2badb6" finished with status "complete"
`, "")
	agent.wantRequests(
		"PUT /v1/jobs",
		"GET /v1/evaluation/"+evalID+"?related=true&wait=300000ms",
		"GET /v1/evaluation/"+evalID+"/allocations",
		"GET /v1/evaluation/"+evalID+"?index=11&related=true&wait=300000ms",
		"GET /v1/evaluation/"+evalID+"/allocations",
	)
	var body api.JobRegisterRequest
	if err := json.Unmarshal(agent.body("PUT /v1/jobs"), &body); err != nil {
		t.Fatalf("register body: %v", err)
	}
	if body.Job == nil || *body.Job.ID != "hello" || *body.Job.TaskGroups[0].Name != "web" {
		t.Errorf("registered job = %+v", body.Job)
	}
}

func TestJobRunPlacementFailureExitsTwo(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("PUT /v1/jobs", 10, api.JobRegisterResponse{EvalID: evalID})
	agent.reply("GET /v1/evaluation/{id}", 11, api.Evaluation{
		ID: evalID, JobID: "hello", TriggeredBy: "job-register", Status: "complete",
		BlockedEval: "aabbccdd-0000-0000-0000-000000000000",
		FailedTGAllocs: map[string]*api.AllocationMetric{"web": {
			NodesEvaluated: 2, NodesExhausted: 2, CoalescedFailures: 2,
			DimensionExhausted: map[string]int{"memory": 2},
			ConstraintFiltered: map[string]int{`${attr.kernel.name} = windows`: 1},
		}},
	})
	agent.reply("GET /v1/evaluation/{id}/allocations", 11, []api.AllocationListStub{})

	r := runCLI(t, agent, "", "job", "run", "-json", writeJobFile(t))
	r.check(t, ExitPlacementFailure, `==> 2024-05-01T12:00:00Z: Monitoring evaluation "5e2badb6"
    2024-05-01T12:00:00Z: Evaluation triggered by job "hello"
    2024-05-01T12:00:00Z: Evaluation status changed: "pending" -> "complete"
==> 2024-05-01T12:00:00Z: Evaluation "5e2badb6" finished with status "complete" but failed to place all allocations:
    2024-05-01T12:00:00Z: Task Group "web" (failed to place 3 allocations):
      * Constraint "${attr.kernel.name} = windows": 1 nodes excluded by filter
      * Resources exhausted on 2 nodes
      * Dimension "memory" exhausted on 2 nodes
    2024-05-01T12:00:00Z: Evaluation "aabbccdd" waiting for additional capacity to place remainder
`, "")
}

func TestJobRunDetach(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("PUT /v1/jobs", 10, api.JobRegisterResponse{EvalID: evalID, Warnings: "group web: count 0"})
	r := runCLI(t, agent, "", "job", "run", "-detach", "-json", writeJobFile(t))
	r.check(t, ExitOK, "Job registration successful\nEvaluation ID: "+evalID+"\n",
		"Job Warnings:\ngroup web: count 0\n\n")
	agent.wantRequests("PUT /v1/jobs")
}

func TestJobRunHCLFile(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("PUT /v1/jobs", 10, api.JobRegisterResponse{EvalID: evalID})
	path := filepath.Join(t.TempDir(), "hello.nomad.hcl")
	hcl := `variable "dc" { type = string }
job "hello" {
  datacenters = [var.dc]
  group "web" {
    task "server" {
      driver = "raw_exec"
      config { command = "/bin/sleep" }
    }
  }
}
`
	if err := os.WriteFile(path, []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, agent, "", "job", "run", "-detach", "-var", "dc=east", path)
	r.check(t, ExitOK, "Job registration successful\nEvaluation ID: "+evalID+"\n", "")
	var body api.JobRegisterRequest
	if err := json.Unmarshal(agent.body("PUT /v1/jobs"), &body); err != nil {
		t.Fatalf("register body: %v", err)
	}
	if body.Job == nil || *body.Job.ID != "hello" || strings.Join(body.Job.Datacenters, ",") != "east" {
		t.Errorf("registered job = %+v", body.Job)
	}
}

func TestJobRunErrors(t *testing.T) {
	agent := newFakeAgent(t)
	agent.fail("PUT /v1/jobs", 500, "raft is on fire")
	missing := filepath.Join(t.TempDir(), "missing.hcl")

	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"no file", []string{"job", "run"},
			"This command takes one argument: <path>\nFor additional help try 'drover job run -help'\n"},
		{"bad flag", []string{"job", "run", "-bogus", "x"},
			"Error parsing flags: flag provided but not defined: -bogus\nFor additional help try 'drover job run -help'\n"},
		{"bad var", []string{"job", "run", "-var", "novalue", "x.hcl"},
			"Error parsing job file x.hcl:\ninvalid -var \"novalue\": want name=value\n"},
		{"missing file", []string{"job", "run", "-json", missing},
			"Error parsing job file " + missing + ":\nreading job file \"" + missing + "\": open " + missing + ": no such file or directory\n"},
		{"agent error", []string{"job", "run", "-json", writeJobFile(t)},
			"Error submitting job: Unexpected response code: 500 (raft is on fire)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, agent, "", tt.args...)
			r.check(t, ExitError, "", tt.wantStderr)
		})
	}
}
