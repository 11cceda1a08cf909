// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
)

func parameterizedJob(id, payload string, required, optional []string) *structs.Job {
	j := testJob(id, 1)
	j.Type = structs.JobTypeBatch
	j.Meta = map[string]string{"team": "data", "region": "eu"}
	j.ParameterizedJob = &structs.ParameterizedJobConfig{Payload: payload, MetaRequired: required, MetaOptional: optional}
	j.Canonicalize()
	return j
}

func TestValidateDispatch(t *testing.T) {
	big := bytes.Repeat([]byte("x"), DispatchPayloadSizeLimit+1)
	atLimit := bytes.Repeat([]byte("x"), DispatchPayloadSizeLimit)
	stopped := parameterizedJob("p", "optional", nil, nil)
	stopped.Stop = true
	tests := []struct {
		name    string
		parent  *structs.Job
		args    JobDispatchArgs
		wantErr string
	}{
		{"optional, none", parameterizedJob("p", "optional", nil, nil), JobDispatchArgs{}, ""},
		{"optional, given", parameterizedJob("p", "optional", nil, nil), JobDispatchArgs{Payload: []byte("hi")}, ""},
		{"required, missing", parameterizedJob("p", "required", nil, nil), JobDispatchArgs{}, "payload is required"},
		{"required, given", parameterizedJob("p", "required", nil, nil), JobDispatchArgs{Payload: []byte("hi")}, ""},
		{"forbidden, given", parameterizedJob("p", "forbidden", nil, nil), JobDispatchArgs{Payload: []byte("hi")}, "payload is forbidden"},
		{"forbidden, none", parameterizedJob("p", "forbidden", nil, nil), JobDispatchArgs{}, ""},
		{"at size limit", parameterizedJob("p", "optional", nil, nil), JobDispatchArgs{Payload: atLimit}, ""},
		{"too large", parameterizedJob("p", "optional", nil, nil), JobDispatchArgs{Payload: big}, "payload exceeds maximum size; 16385 > 16384"},
		{"meta required present", parameterizedJob("p", "optional", []string{"a"}, []string{"b"}), JobDispatchArgs{Meta: map[string]string{"a": "1"}}, ""},
		{"meta required and optional", parameterizedJob("p", "optional", []string{"a"}, []string{"b"}), JobDispatchArgs{Meta: map[string]string{"a": "1", "b": "2"}}, ""},
		{"meta required missing", parameterizedJob("p", "optional", []string{"a"}, []string{"b"}), JobDispatchArgs{Meta: map[string]string{"b": "2"}}, `missing required meta key "a"`},
		{"meta unknown", parameterizedJob("p", "optional", []string{"a"}, []string{"b"}), JobDispatchArgs{Meta: map[string]string{"a": "1", "c": "3"}}, `meta key "c" is neither required nor optional (allowed: a, b)`},
		{"meta none allowed", parameterizedJob("p", "optional", nil, nil), JobDispatchArgs{Meta: map[string]string{"c": "3"}}, "allowed: none"},
		{"not parameterized", testJob("plain", 1), JobDispatchArgs{}, "is not a parameterized job"},
		{"stopped", stopped, JobDispatchArgs{}, "is stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateDispatch(tt.parent, &tt.args)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrDispatchInvalid) {
				t.Fatalf("error %v does not wrap ErrDispatchInvalid", err)
			}
		})
	}
}

func TestDispatchedChild(t *testing.T) {
	parent := parameterizedJob("batch", "optional", []string{"team"}, nil)
	now := time.Unix(1700000000, 0)
	args := &JobDispatchArgs{Payload: []byte("data"), Meta: map[string]string{"team": "ops"}, Priority: 80}
	c := DispatchedChild(parent, args, now, "0a1b2c3d")
	if c.ID != "batch/dispatch-1700000000-0a1b2c3d" || c.Name != c.ID || c.ParentID != "batch" {
		t.Fatalf("child identity: id=%q name=%q parent=%q", c.ID, c.Name, c.ParentID)
	}
	if !c.Dispatched || c.IsParameterized() || string(c.Payload) != "data" || c.Priority != 80 {
		t.Fatalf("child: dispatched=%v payload=%q priority=%d", c.Dispatched, c.Payload, c.Priority)
	}
	if c.Meta["team"] != "ops" || c.Meta["region"] != "eu" || parent.Meta["team"] != "data" {
		t.Fatalf("meta merge: child %v parent %v", c.Meta, parent.Meta)
	}
	withPrefix := DispatchedChild(parent, &JobDispatchArgs{IDPrefixTemplate: "nightly"}, now, "0a1b2c3d")
	if withPrefix.ID != "batch/dispatch-nightly-1700000000-0a1b2c3d" {
		t.Fatalf("templated ID %q", withPrefix.ID)
	}
	if s := randomSuffix(); !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(s) {
		t.Fatalf("random suffix %q", s)
	}
}

func TestTemplatesRegisterWithoutEvalAndLaunchChildren(t *testing.T) {
	s := testServer(t)

	periodic := periodicJob("nightly", "0 3 * * *", true)
	evalID, _, err := s.RegisterJob(periodic)
	if err != nil {
		t.Fatal(err)
	}
	param := parameterizedJob("work", "required", []string{"team"}, []string{"color"})
	pEvalID, _, err := s.RegisterJob(param)
	if err != nil {
		t.Fatal(err)
	}
	snap := s.State().Snapshot()
	for _, id := range []string{"nightly", "work"} {
		evals, _ := snap.EvalsByJob("default", id)
		if len(evals) != 0 {
			t.Fatalf("template %q got evaluations %v", id, evals)
		}
	}
	if evalID != "" || pEvalID != "" {
		t.Fatalf("templates returned eval IDs %q %q", evalID, pEvalID)
	}

	// Force launches now, whatever the schedule.
	forced, _, err := s.PeriodicForce("default", "nightly")
	if err != nil {
		t.Fatal(err)
	}
	eval, _ := s.State().Snapshot().EvalByID(forced)
	if eval == nil || !strings.HasPrefix(eval.JobID, "nightly/periodic-") {
		t.Fatalf("forced eval %+v", eval)
	}
	child, _ := s.State().Snapshot().JobByID("default", eval.JobID)
	if child == nil || child.ParentID != "nightly" || child.Periodic != nil {
		t.Fatalf("forced child %+v", child)
	}
	if _, _, err := s.PeriodicForce("default", "work"); err == nil || !strings.Contains(err.Error(), "not periodic") {
		t.Fatalf("force of a parameterized job: %v", err)
	}
	if _, _, err := s.PeriodicForce("default", "missing"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("force of a missing job: %v", err)
	}

	// Dispatch validates, then registers the child with its eval.
	if _, err := s.DispatchJob(&JobDispatchArgs{JobID: "work", Meta: map[string]string{"team": "a"}}); err == nil || !strings.Contains(err.Error(), "payload is required") {
		t.Fatalf("dispatch without payload: %v", err)
	}
	reply, err := s.DispatchJob(&JobDispatchArgs{JobID: "work", Payload: []byte("in"), Meta: map[string]string{"team": "a"}, IdempotencyToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^work/dispatch-\d+-[0-9a-f]{8}$`).MatchString(reply.DispatchedJobID) || reply.EvalID == "" || reply.JobCreateIndex == 0 || reply.Index == 0 {
		t.Fatalf("dispatch reply %+v", reply)
	}
	d, _ := s.State().Snapshot().JobByID("default", reply.DispatchedJobID)
	if d == nil || !d.Dispatched || string(d.Payload) != "in" || d.Meta["team"] != "a" || d.ParentID != "work" {
		t.Fatalf("dispatched child %+v", d)
	}
	again, err := s.DispatchJob(&JobDispatchArgs{JobID: "work", Payload: []byte("in"), Meta: map[string]string{"team": "a"}, IdempotencyToken: "tok"})
	if err != nil || again.DispatchedJobID != reply.DispatchedJobID {
		t.Fatalf("idempotent dispatch: %+v, %v", again, err)
	}
	sum, err := ChildrenSummary(s.State().Snapshot(), param)
	if err != nil || sum.Pending+sum.Running+sum.Dead != 1 {
		t.Fatalf("children of work: %+v, %v", sum, err)
	}
}
