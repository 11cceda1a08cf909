// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/drivers/rawexec"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// newRawExecClient is a test client whose one driver is a real, enabled
// raw_exec.
func newRawExecClient(t *testing.T) *testClient {
	t.Helper()
	d := rawexec.New(hclog.NewNullLogger())
	if err := d.SetConfig([]byte(`{"enabled": true}`)); err != nil {
		t.Fatal(err)
	}
	tc := newTestClient(t, 0, func(c *Config) {
		c.Drivers = map[string]plugins.Driver{rawexec.Name: d}
	})
	return tc
}

// runRawExecSleeper places a raw_exec service that sleeps for a minute and
// waits until the client reports it running.
func (tc *testClient) runRawExecSleeper(t *testing.T) *structs.Allocation {
	t.Helper()
	a := clienttest.Alloc(structs.JobTypeService, map[string]any{"command": "/bin/sleep", "args": []any{"60"}})
	a.Job.TaskGroups[0].Tasks[0].Driver = rawexec.Name
	a.NodeID = tc.NodeID()
	tc.servers.AddAlloc(a)
	tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
	return a
}

// TestRawExecEndToEnd runs a real process through the real raw_exec driver,
// in-process: interpolated args, the task's environment and the log file
// the HTTP layer serves must all line up.
func TestRawExecEndToEnd(t *testing.T) {
	tc := newRawExecClient(t)
	if tc.Node().Attributes["driver.raw_exec"] != "1" {
		t.Fatalf("raw_exec not fingerprinted: %v", tc.Node().Drivers)
	}

	a := clienttest.Alloc(structs.JobTypeBatch, map[string]any{
		"command": "/bin/sh",
		"args":    []any{"-c", `echo hi ${NOMAD_TASK_NAME} "$GREETING"; echo oops >&2; test -d "$NOMAD_ALLOC_DIR/data"`},
	})
	task := a.Job.TaskGroups[0].Tasks[0]
	task.Driver = rawexec.Name
	task.Env = map[string]string{"GREETING": "from ${node.datacenter}"}
	a.NodeID = tc.NodeID()
	tc.servers.AddAlloc(a)

	got := tc.waitReported(t, a.ID, structs.AllocClientStatusComplete)
	if ts := got.TaskStates["t0"]; ts.Failed || ts.Restarts != 0 {
		t.Fatalf("task state %+v", ts)
	}
	dir, ok := tc.AllocDir(a.ID)
	if !ok {
		t.Fatal("alloc dir unknown")
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, "alloc", "logs", name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		return string(b)
	}
	if out := read("t0.stdout.0"); strings.TrimSpace(out) != "hi t0 from dc9" {
		t.Fatalf("stdout = %q", out)
	}
	if errOut := read("t0.stderr.0"); strings.TrimSpace(errOut) != "oops" {
		t.Fatalf("stderr = %q", errOut)
	}
}

// TestRawExecStop stops a long-running real process through the alloc's
// desired status.
func TestRawExecStop(t *testing.T) {
	tc := newRawExecClient(t)
	a := tc.runRawExecSleeper(t)

	tc.servers.StopAlloc(a.ID)
	got := tc.waitReported(t, a.ID, structs.AllocClientStatusComplete)
	ts := got.TaskStates["t0"]
	var term *structs.TaskEvent
	for _, e := range ts.Events {
		if e.Type == structs.TaskTerminated {
			term = e
		}
	}
	if term == nil || ts.Failed {
		t.Fatalf("stopped task: failed=%v events=%+v", ts.Failed, ts.Events)
	}
}
