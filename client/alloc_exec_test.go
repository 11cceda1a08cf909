// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/structs"
)

// TestExecAllocRawExec runs commands inside a real raw_exec task: output,
// stdin, the task's environment and exit codes, and the refusals.
func TestExecAllocRawExec(t *testing.T) {
	tc := newRawExecClient(t)
	a := tc.runRawExecSleeper(t)

	tests := []struct {
		name       string
		alloc      string
		task       string
		cmd        []string
		stdin      string
		wantCode   int
		wantOut    string
		wantErrOut string
		wantErr    error
	}{
		{"echo", a.ID, "t0", []string{"/bin/sh", "-c", "echo hello; echo oops >&2"}, "", 0, "hello\n", "oops\n", nil},
		{"exit code", a.ID, "t0", []string{"/bin/sh", "-c", "exit 3"}, "", 3, "", "", nil},
		{"stdin", a.ID, "t0", []string{"/bin/cat"}, "fed through stdin", 0, "fed through stdin", "", nil},
		{"task env", a.ID, "t0", []string{"/bin/sh", "-c", `printf %s "$NOMAD_ALLOC_ID"`}, "", 0, a.ID, "", nil},
		{"unknown alloc", "nope", "t0", []string{"/bin/true"}, "", 0, "", "", ErrUnknownAlloc},
		{"unknown task", a.ID, "db", []string{"/bin/true"}, "", 0, "", "", ErrUnknownTask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out, errOut bytes.Buffer
			code, err := tc.ExecAlloc(ctx, tt.alloc, tt.task, tt.cmd, false, strings.NewReader(tt.stdin), &out, &errOut, nil)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ExecAlloc error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ExecAlloc: %v", err)
			}
			if code != tt.wantCode || out.String() != tt.wantOut || errOut.String() != tt.wantErrOut {
				t.Fatalf("ExecAlloc = %d, stdout %q, stderr %q; want %d, %q, %q",
					code, out.String(), errOut.String(), tt.wantCode, tt.wantOut, tt.wantErrOut)
			}
		})
	}
}

// TestExecAllocDriverWithoutExec refuses exec in a task whose driver does
// not offer it.
func TestExecAllocDriverWithoutExec(t *testing.T) {
	tc := newTestClient(t, 0, nil)
	a := clienttest.Alloc(structs.JobTypeService, map[string]any{"run_for": "60s"})
	a.NodeID = tc.NodeID()
	tc.servers.AddAlloc(a)
	tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
	_, err := tc.ExecAlloc(context.Background(), a.ID, "t0", []string{"/bin/true"}, false, nil, &bytes.Buffer{}, &bytes.Buffer{}, nil)
	if !errors.Is(err, taskrunner.ErrExecUnsupported) {
		t.Fatalf("ExecAlloc on a driver without exec: %v", err)
	}
}
