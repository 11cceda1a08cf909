// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/api"
)

const dispatchedID = "work/dispatch-1714564800-0a1b2c3d"

func dispatchBody(t *testing.T, agent *fakeAgent, key string) nomad.JobDispatchRequest {
	t.Helper()
	var body nomad.JobDispatchRequest
	if err := json.Unmarshal(agent.body(key), &body); err != nil {
		t.Fatalf("dispatch body %q: %v", agent.body(key), err)
	}
	return body
}

func TestJobDispatchDetach(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("PUT /v1/job/{id}/dispatch", 12, nomad.JobDispatchResponse{DispatchedJobID: dispatchedID, EvalID: evalID, EvalCreateIndex: 12, JobCreateIndex: 12})
	payload := filepath.Join(t.TempDir(), "input.txt")
	if err := os.WriteFile(payload, []byte("hello payload"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, agent, "", "job", "dispatch", "-detach", "-meta", "team=ops", "-meta", "color=a=b",
		"-id-prefix-template", "nightly", "-idempotency-token", "tok", "work", payload)
	r.check(t, ExitOK, "Dispatched Job ID = "+dispatchedID+"\nEvaluation ID     = 5e2badb6\n", "")
	key := "PUT /v1/job/work/dispatch?idempotency_token=tok"
	agent.wantRequests(key)
	body := dispatchBody(t, agent, key)
	if string(body.Payload) != "hello payload" || body.Meta["team"] != "ops" || body.Meta["color"] != "a=b" || body.IdPrefixTemplate != "nightly" || body.JobID != "work" {
		t.Fatalf("dispatch request %+v", body)
	}
}

func TestJobDispatchMonitorsAndReadsStdin(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("PUT /v1/job/{id}/dispatch", 12, nomad.JobDispatchResponse{DispatchedJobID: dispatchedID, EvalID: evalID})
	agent.reply("GET /v1/evaluation/{id}", 13, api.Evaluation{ID: evalID, JobID: dispatchedID, TriggeredBy: "job-register", Status: "complete"})
	agent.reply("GET /v1/evaluation/{id}/allocations", 13, []api.AllocationListStub{})
	r := runCLI(t, agent, "from stdin", "job", "dispatch", "work", "-")
	r.check(t, ExitOK, `Dispatched Job ID = `+dispatchedID+`
Evaluation ID     = 5e2badb6

==> 2024-05-01T12:00:00Z: Monitoring evaluation "5e2badb6"
    2024-05-01T12:00:00Z: Evaluation triggered by job "`+dispatchedID+`"
    2024-05-01T12:00:00Z: Evaluation status changed: "pending" -> "complete"
==> 2024-05-01T12:00:00Z: Evaluation "5e2badb6" finished with status "complete"
`, "")
	if body := dispatchBody(t, agent, "PUT /v1/job/work/dispatch"); string(body.Payload) != "from stdin" || len(body.Meta) != 0 {
		t.Fatalf("dispatch request %+v", body)
	}
}

func TestJobDispatchErrors(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, maxDispatchPayload+1), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no job", []string{}, "This command takes one or two arguments"},
		{"bad meta", []string{"-meta", "novalue", "work"}, `Invalid -meta "novalue": want key=value`},
		{"missing file", []string{"work", filepath.Join(t.TempDir(), "nope")}, "Error opening payload file"},
		{"too large", []string{"work", big}, "exceeds the maximum size of 16384 bytes"},
		{"refused by the server", []string{"work"}, `Error dispatching job "work"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agent := newFakeAgent(t)
			agent.fail("PUT /v1/job/{id}/dispatch", 400, "invalid dispatch of job \"work\": payload is required")
			r := runCLI(t, agent, "", append([]string{"job", "dispatch"}, tt.args...)...)
			if r.code != ExitError || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tt.stderr)
			}
		})
	}
}

func TestJobPeriodicForce(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/jobs", 7, []api.JobListStub{{ID: "nightly"}, {ID: "nightly/periodic-1714564800"}})
	agent.reply("PUT /v1/job/{id}/periodic/force", 8, map[string]any{"EvalID": evalID})
	r := runCLI(t, agent, "", "job", "periodic", "force", "-detach", "nightly")
	r.check(t, ExitOK, "Force periodic successful\nEvaluation ID: "+evalID+"\n", "")
	agent.wantRequests("GET /v1/jobs?prefix=nightly", "PUT /v1/job/nightly/periodic/force")

	notPeriodic := newFakeAgent(t)
	notPeriodic.reply("GET /v1/jobs", 7, []api.JobListStub{{ID: "web"}})
	notPeriodic.fail("PUT /v1/job/{id}/periodic/force", 400, `job "web" is not periodic`)
	r = runCLI(t, notPeriodic, "", "job", "periodic", "force", "web")
	if r.code != ExitError || !strings.Contains(r.stderr, `is not periodic`) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
