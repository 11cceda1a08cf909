// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package exec

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

// requireRoot fails (never skips) a test that needs root: CI runs as root,
// and an isolation test that silently skips proves nothing.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the exec driver tests need root (namespaces, mounts, cgroups): run `go test ./drivers/exec/...` as root, as CI does")
	}
}

func newDriver(t *testing.T) *Driver {
	t.Helper()
	requireRoot(t)
	return New(hclog.New(&hclog.LoggerOptions{Output: t.Output(), Level: hclog.Debug}))
}

// taskConfig builds a task in a fresh alloc dir (alloc/, and the task dir
// web/ with local/, secrets/, tmp/, all writable by the task's user)
// running command with args, limited to 256 MB.
func taskConfig(t *testing.T, id, command string, args ...string) *plugins.TaskConfig {
	t.Helper()
	dir := t.TempDir()
	taskDir := filepath.Join(dir, "web")
	for _, d := range []string{"alloc", "web/local", "web/secrets", "web/tmp"} {
		p := filepath.Join(dir, d)
		if err := os.MkdirAll(p, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	dc, _ := json.Marshal(TaskConfig{Command: command, Args: args})
	return &plugins.TaskConfig{
		ID: id, Name: "web", AllocID: "a1", AllocDir: dir, TaskDir: taskDir, DriverConfig: dc,
		Env:        map[string]string{"PATH": "/usr/bin:/bin", "NOMAD_TASK_NAME": "web", "NOMAD_TASK_DIR": taskDir + "/local"},
		StdoutPath: filepath.Join(dir, "alloc", "logs", "web.stdout"),
		StderrPath: filepath.Join(dir, "alloc", "logs", "web.stderr"),
		MemoryMB:   256,
		CPUMHz:     100,
	}
}

// withConfig replaces the task's driver config.
func withConfig(t *testing.T, cfg *plugins.TaskConfig, tc TaskConfig) *plugins.TaskConfig {
	t.Helper()
	b, err := json.Marshal(tc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DriverConfig = b
	return cfg
}

func start(t *testing.T, d plugins.Driver, cfg *plugins.TaskConfig) *plugins.TaskHandle {
	t.Helper()
	h, err := d.StartTask(cfg)
	if err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	t.Cleanup(func() { d.DestroyTask(cfg.ID, true) })
	return h
}

func waitTask(t *testing.T, d plugins.Driver, id string) *plugins.ExitResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := d.WaitTask(ctx, id)
	if err != nil {
		t.Fatalf("WaitTask: %v", err)
	}
	return res
}

// run starts the task, waits for it and returns its exit and stdout.
func run(t *testing.T, d plugins.Driver, cfg *plugins.TaskConfig) (*plugins.ExitResult, string) {
	t.Helper()
	start(t, d, cfg)
	res := waitTask(t, d, cfg.ID)
	out := readFile(cfg.StdoutPath + ".0")
	if res.ExitCode != 0 {
		t.Logf("task %s: exit %+v, stderr %q", cfg.ID, res, readFile(cfg.StderrPath+".0"))
	}
	return res, out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func TestStartExitCodeAndEnv(t *testing.T) {
	d := newDriver(t)
	os.Setenv("DROVER_AGENT_ONLY", "leak") // must not reach the task
	defer os.Unsetenv("DROVER_AGENT_ONLY")
	cfg := taskConfig(t, "t1", "sh", "-c", `env | sort; pwd; id -u; echo oops >&2; exit 7`)
	res, out := run(t, d, cfg)
	if res.ExitCode != 7 || res.Signal != 0 || res.OOMKilled {
		t.Errorf("exit = %+v, want code 7", res)
	}
	want := strings.Join([]string{
		"NOMAD_ALLOC_DIR=/alloc", "NOMAD_SECRETS_DIR=/secrets", "NOMAD_TASK_DIR=/local",
		"NOMAD_TASK_NAME=web", "PATH=/usr/bin:/bin", "PWD=/", "/", "65534", "",
	}, "\n")
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	if got := readFile(cfg.StderrPath + ".0"); got != "oops\n" {
		t.Errorf("stderr = %q", got)
	}
	st, err := d.InspectTask("t1")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != plugins.TaskStateExited || st.ExitResult.ExitCode != 7 || st.CompletedAt.Before(st.StartedAt) || st.DriverAttributes["pid"] == "" {
		t.Errorf("InspectTask = %+v", st)
	}
}
