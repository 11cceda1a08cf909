// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/droverhq/drover/agent/jobconv"
	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/jobspec"
)

func TestJobInitWritesRunnableExamples(t *testing.T) {
	for _, short := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "example.nomad.hcl")
		args := []string{"job", "init"}
		if short {
			args = append(args, "-short")
		}
		args = append(args, path)
		r := runCLI(t, newFakeAgent(t), "", args...)
		r.check(t, ExitOK, "Example job file written to "+path+"\n", "")

		// The example must parse and pass the server's checks.
		job, err := jobspec.ParseFile(path, nil)
		if err != nil {
			t.Fatalf("short=%v: example does not parse: %v", short, err)
		}
		sj, err := jobconv.APIJobToStructs(job)
		if err != nil {
			t.Fatalf("short=%v: example does not convert: %v", short, err)
		}
		sj.Canonicalize()
		if err := sj.Validate(); err != nil {
			t.Fatalf("short=%v: example is invalid: %v", short, err)
		}

		// An existing file is never overwritten.
		r = runCLI(t, newFakeAgent(t), "", args...)
		r.check(t, ExitError, "", "Job '"+path+"' already exists\n")
	}
}

func TestJobRunOutputPrintsParsedJob(t *testing.T) {
	path := filepath.Join("..", "examples", "hello.nomad.hcl")
	agent := newFakeAgent(t)
	r := runCLI(t, agent, "", "job", "run", "-output", path)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	agent.wantRequests() // -output never contacts the agent
	want, err := jobspec.ParseFile(path, &jobspec.ParseOptions{Env: os.Environ(), AllowFS: true})
	if err != nil {
		t.Fatal(err)
	}
	buf, _ := json.MarshalIndent(struct{ Job *api.Job }{want}, "", "    ")
	if r.stdout != string(buf)+"\n" {
		t.Fatalf("output differs from the parsed job:\n%s", r.stdout)
	}
	if !strings.HasPrefix(r.stdout, "{\n    \"Job\": {") || !strings.Contains(r.stdout, `"Count": 3`) || !strings.Contains(r.stdout, `"Priority": null`) {
		t.Fatalf("not Nomad's -output shape (unset fields must stay null):\n%s", r.stdout)
	}
}

func TestJobValidate(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		agent := newFakeAgent(t)
		agent.reply("PUT /v1/validate/job", 5, api.JobValidateResponse{})
		r := runCLI(t, agent, "", "job", "validate", "-json", writeJobFile(t))
		r.check(t, ExitOK, "Job validation successful\n", "")
		var body api.JobValidateRequest
		if err := json.Unmarshal(agent.body("PUT /v1/validate/job"), &body); err != nil || *body.Job.ID != "hello" {
			t.Fatalf("validate body: %+v %v", body, err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		agent := newFakeAgent(t)
		agent.reply("PUT /v1/validate/job", 5, api.JobValidateResponse{
			ValidationErrors: []string{`Task group "web": Task "server": Missing driver`, "Missing job datacenters"},
			Error:            "2 problems",
		})
		r := runCLI(t, agent, "", "job", "validate", "-json", writeJobFile(t))
		r.check(t, ExitError, "", "Job validation errors:\n2 errors occurred:\n\t* Task group \"web\": Task \"server\": Missing driver\n\t* Missing job datacenters\n")
	})
	t.Run("parse error", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bad.nomad.hcl")
		if err := os.WriteFile(path, []byte("job \"x\" {\n  bogus = 1\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		agent := newFakeAgent(t)
		r := runCLI(t, agent, "", "job", "validate", path)
		if r.code != ExitError || !strings.Contains(r.stderr, "bad.nomad.hcl:2:3") {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		agent.wantRequests()
	})
}

func TestJobInspect(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/jobs", 7, []api.JobListStub{{ID: "hello"}})
	agent.reply("GET /v1/job/{id}", 7, api.Job{ID: api.Ptr("hello"), Name: api.Ptr("hello")})
	r := runCLI(t, agent, "", "job", "inspect", "hel")
	if r.code != ExitOK || !strings.Contains(r.stdout, "\"Job\": {") || !strings.Contains(r.stdout, `"ID": "hello"`) {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
