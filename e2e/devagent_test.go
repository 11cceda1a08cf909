// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// allocStub is the part of an allocation list entry the tests read.
type allocStub struct {
	ID           string
	ClientStatus string
	TaskStates   map[string]struct {
		State    string
		Failed   bool
		Restarts uint64
	}
}

func (a *agent) getJSON(path string, out any) {
	a.t.Helper()
	resp, err := http.Get(a.addr + path)
	if err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		a.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		a.t.Fatalf("GET %s: decode: %v: %s", path, err, body)
	}
}

func (a *agent) jobAllocs(job string) []allocStub {
	var out []allocStub
	a.getJSON("/v1/job/"+job+"/allocations", &out)
	return out
}

// processesOf returns the PIDs of processes whose environment says they
// belong to the allocation.
func processesOf(allocID string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, kv := range strings.Split(string(env), "\x00") {
			if kv == "NOMAD_ALLOC_ID="+allocID {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// TestDevAgentServiceJob runs the README's example the way a user does:
// job run, status, alloc status, logs, stop.
func TestDevAgentServiceJob(t *testing.T) {
	a := startDevAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	out, code := a.cli(ctx, "job", "run", "examples/hello.nomad.hcl")
	if code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
	for _, want := range []string{"Monitoring evaluation", `Evaluation triggered by job "hello"`, `finished with status "complete"`} {
		if !strings.Contains(out, want) {
			t.Errorf("job run output lacks %q:\n%s", want, out)
		}
	}

	var allocs []allocStub
	a.waitFor(30*time.Second, "3 running allocations", func() (bool, error) {
		allocs = a.jobAllocs("hello")
		running := 0
		for _, al := range allocs {
			if al.ClientStatus == "failed" {
				return false, fmt.Errorf("allocation %s failed", al.ID)
			}
			if al.ClientStatus == "running" {
				running++
			}
		}
		return running == 3 && len(allocs) == 3, nil
	})

	out, code = a.cli(ctx, "job", "status", "hello")
	if code != 0 || !strings.Contains(out, "running") || !strings.Contains(out, "Allocations") {
		t.Fatalf("job status exited %d:\n%s", code, out)
	}

	first := allocs[0].ID
	out, code = a.cli(ctx, "alloc", "status", first[:8])
	if code != 0 || !strings.Contains(out, "ID                  = "+first[:8]) || !strings.Contains(out, "Started") {
		t.Fatalf("alloc status exited %d:\n%s", code, out)
	}

	// The task prints its allocation ID: read it back through the CLI and
	// through the API.
	a.waitFor(20*time.Second, "task output in logs", func() (bool, error) {
		out, code := a.cli(ctx, "alloc", "logs", first[:8], "hello")
		return code == 0 && strings.Contains(out, "hello from "+first), nil
	})
	resp, err := http.Get(a.addr + "/v1/client/fs/logs/" + first + "?task=hello&type=stdout&plain=true")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "hello from "+first) {
		t.Fatalf("plain logs through the API: %d %q", resp.StatusCode, body)
	}

	pids := map[string][]int{}
	for _, al := range allocs {
		pids[al.ID] = processesOf(al.ID)
		if len(pids[al.ID]) == 0 {
			t.Fatalf("no process found for running allocation %s", al.ID)
		}
	}

	out, code = a.cli(ctx, "job", "stop", "hello")
	if code != 0 {
		t.Fatalf("job stop exited %d:\n%s", code, out)
	}
	a.waitFor(30*time.Second, "task processes gone", func() (bool, error) {
		for id := range pids {
			if len(processesOf(id)) > 0 {
				return false, nil
			}
		}
		return true, nil
	})
	a.waitFor(20*time.Second, "allocations complete", func() (bool, error) {
		for _, al := range a.jobAllocs("hello") {
			if al.ClientStatus == "running" || al.ClientStatus == "pending" {
				return false, nil
			}
		}
		return true, nil
	})
	out, _ = a.cli(ctx, "job", "status", "hello")
	if !strings.Contains(out, "dead (stopped)") && !strings.Contains(out, "dead") {
		t.Fatalf("job status after stop:\n%s", out)
	}
}

// TestDevAgentBatchAndRestarts: a batch job completes; a failing task is
// restarted per its restart block, then its allocation fails.
func TestDevAgentBatchAndRestarts(t *testing.T) {
	a := startDevAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	out, code := a.cli(ctx, "job", "run", "examples/batch.nomad.hcl")
	if code != 0 {
		t.Fatalf("job run batch exited %d:\n%s", code, out)
	}
	jobID := jobIDOf(t, filepath.Join(repoRoot(), "examples", "batch.nomad.hcl"))
	a.waitFor(30*time.Second, "batch allocation complete", func() (bool, error) {
		allocs := a.jobAllocs(jobID)
		return len(allocs) == 1 && allocs[0].ClientStatus == "complete", nil
	})
	a.waitFor(10*time.Second, "batch job dead", func() (bool, error) {
		out, _ := a.cli(ctx, "job", "status", jobID)
		return strings.Contains(out, "dead"), nil
	})

	failing := `
job "fails" {
  type        = "batch"
  datacenters = ["*"]
  group "g" {
    restart {
      attempts = 2
      interval = "1m"
      delay    = "1s"
      mode     = "fail"
    }
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo failing >&2; exit 3"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`
	path := filepath.Join(t.TempDir(), "fails.nomad.hcl")
	if err := os.WriteFile(path, []byte(failing), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = a.cli(ctx, "job", "run", "-detach", path)
	if code != 0 || !strings.Contains(out, "Evaluation ID:") {
		t.Fatalf("job run -detach exited %d:\n%s", code, out)
	}
	var failed allocStub
	a.waitFor(60*time.Second, "allocation failed after restarts", func() (bool, error) {
		allocs := a.jobAllocs("fails")
		if len(allocs) == 0 {
			return false, nil
		}
		failed = allocs[0]
		return failed.ClientStatus == "failed", nil
	})
	ts := failed.TaskStates["t"]
	if ts.State != "dead" || !ts.Failed || ts.Restarts != 2 {
		t.Fatalf("task state after failure: %+v", ts)
	}
	out, _ = a.cli(ctx, "alloc", "logs", "-stderr", failed.ID, "t")
	if !strings.Contains(out, "failing") {
		t.Fatalf("stderr logs of failed task:\n%s", out)
	}
}

// jobIDOf reads the job's label from a job file (the test need not know it).
func jobIDOf(t *testing.T, path string) string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "job "); ok {
			return strings.Trim(strings.Fields(rest)[0], `"`)
		}
	}
	t.Fatalf("no job block in %s", path)
	return ""
}
