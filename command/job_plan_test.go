// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
)

// checkIndexHint is the tail of every plan for a job file at path.
func checkIndexHint(index, path string) string {
	return "Job Modify Index: " + index + `
To submit the job with version verification run:

drover job run -check-index ` + index + " " + path + `

With -check-index, the job is submitted only if the servers' job modify index
still equals the one given. If it changed, someone else modified the job since
this plan, and the plan may no longer hold.
`
}

func TestJobPlanOutput(t *testing.T) {
	editedDiff := &nomad.JobDiff{Type: "Edited", ID: "hello",
		Fields: []*nomad.FieldDiff{{Type: "None", Name: "Priority", Old: "50", New: "50"}},
		TaskGroups: []*nomad.TaskGroupDiff{{
			Type: "Edited", Name: "web", Updates: map[string]uint64{"create": 7, "in-place update": 1},
			Fields: []*nomad.FieldDiff{
				{Type: "Edited", Name: "Count", Old: "1", New: "8", Annotations: []string{"forces create"}},
				{Type: "None", Name: "ShutdownDelay", Old: "0", New: "0"},
			},
			Tasks: []*nomad.TaskDiff{
				{Type: "Edited", Name: "server", Annotations: []string{"forces create/destroy update"},
					Fields: []*nomad.FieldDiff{{Type: "None", Name: "Driver", Old: "raw_exec", New: "raw_exec"}},
					Objects: []*nomad.ObjectDiff{{Type: "Edited", Name: "Config", Fields: []*nomad.FieldDiff{
						{Type: "Edited", Name: "args[0]", Old: "60", New: "120"},
						{Type: "None", Name: "command", Old: "/bin/sleep", New: "/bin/sleep"},
					}}}},
				{Type: "None", Name: "sidecar"},
			},
		}},
	}
	tests := []struct {
		name   string
		args   []string
		resp   nomad.JobPlanResponse
		code   int
		stdout string
	}{
		{
			name: "new job",
			resp: nomad.JobPlanResponse{
				Diff: &nomad.JobDiff{Type: "Added", ID: "hello", TaskGroups: []*nomad.TaskGroupDiff{{
					Type: "Added", Name: "web", Updates: map[string]uint64{"create": 1},
					Fields: []*nomad.FieldDiff{{Type: "Added", Name: "Count", New: "1"}},
					Tasks:  []*nomad.TaskDiff{{Type: "Added", Name: "server", Annotations: []string{"forces create"}}},
				}}},
				Annotations: &nomad.PlanAnnotations{DesiredTGUpdates: map[string]*nomad.DesiredUpdates{"web": {Place: 1}}},
			},
			code: exitPlanChanges,
			stdout: `+ Job: "hello"
+ Task Group: "web" (1 create)
  + Task: "server" (forces create)

Scheduler dry-run:
- All tasks successfully allocated.

`,
		},
		{
			name: "edited job with failed placements",
			resp: nomad.JobPlanResponse{
				JobModifyIndex: 15,
				Diff:           editedDiff,
				Annotations:    &nomad.PlanAnnotations{DesiredTGUpdates: map[string]*nomad.DesiredUpdates{"web": {Place: 7, InPlaceUpdate: 1}}},
				FailedTGAllocs: map[string]*nomad.AllocationMetric{"web": {
					NodesEvaluated: 1, NodesExhausted: 1, CoalescedFailures: 2, DimensionExhausted: map[string]int{"cpu": 1},
				}},
			},
			code: exitPlanChanges,
			stdout: `+/- Job: "hello"
+/- Task Group: "web" (7 create, 1 in-place update)
  +/- Count: "1" => "8" (forces create)
  +/- Task: "server" (forces create/destroy update)
    +/- Config {
      +/- args[0]: "60" => "120"
          command: "/bin/sleep"
    }
      Task: "sidecar"

Scheduler dry-run:
- WARNING: Failed to place all allocations.
  Task Group "web" (failed to place 3 allocations):
    * Resources exhausted on 1 nodes
    * Dimension "cpu" exhausted on 1 nodes

`,
		},
		{
			name: "verbose shows unchanged fields",
			args: []string{"-verbose"},
			resp: nomad.JobPlanResponse{
				JobModifyIndex: 15, Diff: editedDiff,
				Annotations: &nomad.PlanAnnotations{DesiredTGUpdates: map[string]*nomad.DesiredUpdates{"web": {InPlaceUpdate: 1}}},
			},
			code: exitPlanNoChange,
			stdout: `+/- Job: "hello"
    Priority: "50"
+/- Task Group: "web" (7 create, 1 in-place update)
  +/- Count:         "1" => "8" (forces create)
      ShutdownDelay: "0"
  +/- Task: "server" (forces create/destroy update)
        Driver: "raw_exec"
    +/- Config {
      +/- args[0]: "60" => "120"
          command: "/bin/sleep"
    }
      Task: "sidecar"

Scheduler dry-run:
- All tasks successfully allocated.

`,
		},
		{
			name: "no diff, periodic, nothing changes",
			args: []string{"-diff=false"},
			resp: nomad.JobPlanResponse{
				JobModifyIndex:     42,
				Diff:               editedDiff,
				Annotations:        &nomad.PlanAnnotations{DesiredTGUpdates: map[string]*nomad.DesiredUpdates{"web": {Ignore: 2}}},
				NextPeriodicLaunch: testNow.Add(90 * time.Minute),
			},
			code: exitPlanNoChange,
			stdout: `Scheduler dry-run:
- All tasks successfully allocated.
- If submitted now, next periodic launch would be at 2024-05-01T13:30:00Z (1h30m from now).

`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agent := newFakeAgent(t)
			agent.reply("PUT /v1/job/{id}/plan", 20, tt.resp)
			path := writeJobFile(t)
			args := append(append([]string{"job", "plan", "-json"}, tt.args...), path)
			r := runCLI(t, agent, "", args...)
			index := strconv.FormatUint(tt.resp.JobModifyIndex, 10)
			r.check(t, tt.code, tt.stdout+checkIndexHint(index, path), "")
			var body nomad.JobPlanRequest
			if err := json.Unmarshal(agent.body("PUT /v1/job/hello/plan"), &body); err != nil {
				t.Fatalf("plan body: %v", err)
			}
			wantDiff := !strings.Contains(strings.Join(tt.args, " "), "-diff=false")
			if body.Job == nil || *body.Job.ID != "hello" || body.Diff != wantDiff {
				t.Errorf("plan request = %+v", body)
			}
		})
	}
}

func TestJobPlanErrorExits255(t *testing.T) {
	agent := newFakeAgent(t)
	agent.fail("PUT /v1/job/{id}/plan", 400, "job validation failed")
	r := runCLI(t, agent, "", "job", "plan", "-json", writeJobFile(t))
	if r.code != exitPlanError || !strings.Contains(r.stderr, "Error during plan") || !strings.Contains(r.stderr, "job validation failed") {
		t.Fatalf("code %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, agent, "", "job", "plan"); r.code != exitPlanError {
		t.Fatalf("missing path: code %d", r.code)
	}
}

func TestJobRunCheckIndex(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("PUT /v1/jobs", 10, nomad.JobRegisterResponse{EvalID: evalID})
	r := runCLI(t, agent, "", "job", "run", "-detach", "-check-index", "7", "-json", writeJobFile(t))
	r.check(t, ExitOK, "Job registration successful\nEvaluation ID: "+evalID+"\n", "")
	var body nomad.JobRegisterRequest
	if err := json.Unmarshal(agent.body("PUT /v1/jobs"), &body); err != nil {
		t.Fatal(err)
	}
	if !body.EnforceIndex || body.JobModifyIndex != 7 {
		t.Fatalf("register request: EnforceIndex %v JobModifyIndex %d", body.EnforceIndex, body.JobModifyIndex)
	}

	refused := newFakeAgent(t)
	refused.fail("PUT /v1/jobs", 400, "Enforcing job modify index 7: job exists with conflicting job modify index: 9")
	r = runCLI(t, refused, "", "job", "run", "-check-index", "7", "-json", writeJobFile(t))
	if r.code != ExitError || !strings.Contains(r.stderr, "conflicting job modify index: 9") {
		t.Fatalf("refused run: code %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, refused, "", "job", "run", "-check-index", "seven", "-json", writeJobFile(t)); r.code != ExitError {
		t.Fatalf("bad -check-index: code %d", r.code)
	}
}

func TestFormatPreemptions(t *testing.T) {
	stub := func(id, job string) *nomad.AllocationListStub {
		return &nomad.AllocationListStub{ID: id, JobID: job, Namespace: "default", TaskGroup: "cache"}
	}
	few := []*nomad.AllocationListStub{stub("ddef9521-7fb5-2d8b-f79d-3bae8d4f8ebb", "redis"), stub("0b2fd8a1-1111-2222-3333-444455556666", "batch")}
	var many []*nomad.AllocationListStub
	for i := range 12 {
		job := "redis"
		if i%3 == 0 {
			job = "batch"
		}
		many = append(many, stub(strconv.Itoa(i), job))
	}
	tests := []struct {
		name    string
		allocs  []*nomad.AllocationListStub
		verbose bool
		want    string
	}{
		{"listed with short IDs", few, false, "Preemptions:\n\nAlloc ID  Job ID  Task Group\nddef9521  redis   cache\n0b2fd8a1  batch   cache\n"},
		{"listed with full IDs", few[:1], true, "Preemptions:\n\nAlloc ID                              Job ID  Task Group\nddef9521-7fb5-2d8b-f79d-3bae8d4f8ebb  redis   cache\n"},
		{"counted per job beyond ten", many, false, "Preemptions:\n\nJob ID  Namespace  # Preempted\nbatch   default    4\nredis   default    8\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatPreemptions(tc.allocs, tc.verbose); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
