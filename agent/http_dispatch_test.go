// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"regexp"
	"strings"
	"testing"

	nomad "github.com/hashicorp/nomad/api"
)

func templateJob(id string) *nomad.Job {
	job := nomad.NewBatchJob(id, id, "global", 50)
	job.Datacenters = []string{"dc1"}
	task := nomad.NewTask("t", "raw_exec").SetConfig("command", "/bin/true")
	job.AddTaskGroup(nomad.NewTaskGroup("g", 1).AddTask(task))
	return job
}

// The official client's Dispatch and PeriodicForce work unchanged, and the
// templates themselves are stored without evaluations.
func TestDispatchAndPeriodicForceWithOfficialClient(t *testing.T) {
	_, base := testServerAgent(t)
	client := officialClient(t, base)
	jobs := client.Jobs()

	periodic := templateJob("nightly")
	periodic.Periodic = &nomad.PeriodicConfig{Specs: []string{"0 3 * * *", "0 15 * * *"}, TimeZone: new("Europe/Paris"), ProhibitOverlap: new(true)}
	resp, _, err := jobs.Register(periodic, nil)
	if err != nil {
		t.Fatalf("register periodic job: %v", err)
	}
	if resp.EvalID != "" {
		t.Fatalf("periodic template got evaluation %q", resp.EvalID)
	}
	param := templateJob("work")
	param.ParameterizedJob = &nomad.ParameterizedJobConfig{Payload: "required", MetaRequired: []string{"team"}, MetaOptional: []string{"color"}}
	param.Meta = map[string]string{"color": "blue"}
	if _, _, err := jobs.Register(param, nil); err != nil {
		t.Fatalf("register parameterized job: %v", err)
	}

	evalID, _, err := jobs.PeriodicForce("nightly", nil)
	if err != nil {
		t.Fatalf("PeriodicForce: %v", err)
	}
	eval, _, err := client.Evaluations().Info(evalID, nil)
	if err != nil || !strings.HasPrefix(eval.JobID, "nightly/periodic-") {
		t.Fatalf("forced evaluation: %+v, %v", eval, err)
	}
	child, _, err := jobs.Info(eval.JobID, nil)
	if err != nil || child.ParentID == nil || *child.ParentID != "nightly" || child.Periodic != nil {
		t.Fatalf("forced child: %+v, %v", child, err)
	}

	out, wm, err := jobs.Dispatch("work", map[string]string{"team": "ops"}, []byte("input"), "", nil)
	if err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	if !regexp.MustCompile(`^work/dispatch-\d+-[0-9a-f]{8}$`).MatchString(out.DispatchedJobID) ||
		out.EvalID == "" || out.EvalCreateIndex == 0 || out.JobCreateIndex == 0 || wm.LastIndex == 0 {
		t.Fatalf("dispatch response %+v, meta %+v", out, wm)
	}
	d, _, err := jobs.Info(out.DispatchedJobID, nil)
	if err != nil {
		t.Fatalf("dispatched job: %v", err)
	}
	if !d.Dispatched || string(d.Payload) != "input" || d.Meta["team"] != "ops" || d.Meta["color"] != "blue" || *d.ParentID != "work" {
		t.Fatalf("dispatched job: dispatched=%v payload=%q meta=%v", d.Dispatched, d.Payload, d.Meta)
	}
	templated, _, err := jobs.Dispatch("work", map[string]string{"team": "ops"}, []byte("x"), "nightly", nil)
	if err != nil || !strings.HasPrefix(templated.DispatchedJobID, "work/dispatch-nightly-") {
		t.Fatalf("dispatch with ID prefix template: %+v, %v", templated, err)
	}

	tests := []struct {
		name     string
		call     func() error
		contains string
	}{
		{"unknown meta", func() error {
			_, _, err := jobs.Dispatch("work", map[string]string{"team": "a", "size": "xl"}, []byte("x"), "", nil)
			return err
		}, `400`},
		{"missing payload", func() error {
			_, _, err := jobs.Dispatch("work", map[string]string{"team": "a"}, nil, "", nil)
			return err
		}, "payload is required"},
		{"missing required meta", func() error {
			_, _, err := jobs.Dispatch("work", nil, []byte("x"), "", nil)
			return err
		}, `missing required meta key "team"`},
		{"too large", func() error {
			_, _, err := jobs.Dispatch("work", map[string]string{"team": "a"}, make([]byte, 16*1024+1), "", nil)
			return err
		}, "exceeds maximum size"},
		{"not parameterized", func() error {
			_, _, err := jobs.Dispatch("nightly", nil, nil, "", nil)
			return err
		}, "not a parameterized job"},
		{"dispatch missing job", func() error {
			_, _, err := jobs.Dispatch("nope", nil, nil, "", nil)
			return err
		}, "404"},
		{"force not periodic", func() error {
			_, _, err := jobs.PeriodicForce("work", nil)
			return err
		}, "not periodic"},
		{"force missing job", func() error {
			_, _, err := jobs.PeriodicForce("nope", nil)
			return err
		}, "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("error %v, want one containing %q", err, tt.contains)
			}
		})
	}
}
