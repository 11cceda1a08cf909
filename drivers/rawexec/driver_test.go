// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package rawexec

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

func newDriver(t *testing.T, enabled bool) *Driver {
	t.Helper()
	d := New(hclog.New(&hclog.LoggerOptions{Output: t.Output(), Level: hclog.Debug}))
	if err := d.SetConfig([]byte(`{"enabled":` + map[bool]string{true: "true", false: "false"}[enabled] + `}`)); err != nil {
		t.Fatal(err)
	}
	return d
}

// taskConfig builds a task in a fresh task dir (with local/) running
// command with args.
func taskConfig(t *testing.T, id, command string, args ...string) *plugins.TaskConfig {
	t.Helper()
	dir := t.TempDir()
	taskDir := filepath.Join(dir, "web")
	if err := os.MkdirAll(filepath.Join(taskDir, "local"), 0o755); err != nil {
		t.Fatal(err)
	}
	dc, _ := json.Marshal(TaskConfig{Command: command, Args: args})
	return &plugins.TaskConfig{
		ID: id, Name: "web", AllocDir: dir, TaskDir: taskDir, DriverConfig: dc,
		Env:        map[string]string{"PATH": "/usr/bin:/bin", "NOMAD_TASK_NAME": "web"},
		StdoutPath: filepath.Join(dir, "alloc", "logs", "web.stdout"),
		StderrPath: filepath.Join(dir, "alloc", "logs", "web.stderr"),
	}
}

func start(t *testing.T, d *Driver, cfg *plugins.TaskConfig) *plugins.TaskHandle {
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
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := d.WaitTask(ctx, id)
	if err != nil {
		t.Fatalf("WaitTask: %v", err)
	}
	return res
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

func TestFingerprint(t *testing.T) {
	tests := []struct {
		config string
		health string
		attrs  map[string]string
	}{
		{``, plugins.HealthUndetected, nil},
		{`{}`, plugins.HealthUndetected, nil},
		{`{"enabled":false}`, plugins.HealthUndetected, nil},
		{`{"enabled":true}`, plugins.HealthHealthy, map[string]string{"driver.raw_exec": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			d := New(hclog.NewNullLogger())
			if err := d.SetConfig([]byte(tt.config)); err != nil {
				t.Fatal(err)
			}
			fp, err := d.Fingerprint(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if fp.Health != tt.health || len(fp.Attributes) != len(tt.attrs) || fp.Attributes["driver.raw_exec"] != tt.attrs["driver.raw_exec"] {
				t.Errorf("Fingerprint = %+v, want %s %v", fp, tt.health, tt.attrs)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	d := newDriver(t, true)
	for _, tt := range []struct{ config, want string }{
		{`{"enable":true}`, `unknown field "enable"`},
		{`{"enabled":"yes"}`, `enabled`},
		{`{"enabled":true} {}`, `after the object`},
	} {
		if err := d.SetConfig([]byte(tt.config)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SetConfig(%s) = %v, want error with %q", tt.config, err, tt.want)
		}
	}
	for _, tt := range []struct{ config, want string }{
		{``, `missing required field "command"`},
		{`{"args":["x"]}`, `missing required field "command"`},
		{`{"command":"true","argz":[]}`, `unknown field "argz"`},
		{`{"command":"true","args":"x"}`, `args`},
		{`{"command":"no-such-command-drover"}`, `"no-such-command-drover" not found`},
	} {
		cfg := taskConfig(t, "t1", "true")
		cfg.DriverConfig = []byte(tt.config)
		if _, err := d.StartTask(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("StartTask(%s) = %v, want error with %q", tt.config, err, tt.want)
		}
	}
}

func TestDisabledDriverRefusesTasks(t *testing.T) {
	d := newDriver(t, false)
	if _, err := d.StartTask(taskConfig(t, "t1", "true")); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("StartTask on disabled driver = %v", err)
	}
}

func TestStartWaitExitCodeAndEnv(t *testing.T) {
	d := newDriver(t, true)
	os.Setenv("DROVER_AGENT_ONLY", "leak") // must not reach the task
	defer os.Unsetenv("DROVER_AGENT_ONLY")
	cfg := taskConfig(t, "t1", "sh", "-c", `env | sort; pwd; echo oops >&2; exit 7`)
	start(t, d, cfg)
	if res := waitTask(t, d, "t1"); res.ExitCode != 7 || res.Signal != 0 {
		t.Errorf("exit = %+v, want code 7", res)
	}
	want := "NOMAD_TASK_NAME=web\nPATH=/usr/bin:/bin\nPWD=" + cfg.TaskDir + "\n" + cfg.TaskDir + "\n"
	if got := readFile(cfg.StdoutPath + ".0"); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
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

func TestCommandInLocalDirWins(t *testing.T) {
	d := newDriver(t, true)
	cfg := taskConfig(t, "t1", "true")
	// A script named like a PATH command: local/ comes first.
	script := filepath.Join(cfg.TaskDir, "local", "true")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho from local\nexit 4\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start(t, d, cfg)
	if res := waitTask(t, d, "t1"); res.ExitCode != 4 {
		t.Errorf("exit = %+v, want the local script's 4", res)
	}
	if got := readFile(cfg.StdoutPath + ".0"); got != "from local\n" {
		t.Errorf("stdout = %q", got)
	}

	// "local/run.sh" is relative to the task dir.
	cfg2 := taskConfig(t, "t2", "local/run.sh")
	if err := os.WriteFile(filepath.Join(cfg2.TaskDir, "local", "run.sh"), []byte("#!/bin/sh\nexit 5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start(t, d, cfg2)
	if res := waitTask(t, d, "t2"); res.ExitCode != 5 {
		t.Errorf("exit = %+v, want 5", res)
	}
}

func TestStopEscalation(t *testing.T) {
	d := newDriver(t, true)
	cfg := taskConfig(t, "t1", "sh", "-c", `trap 'echo got TERM' TERM; echo ready; while :; do sleep 0.05; done`)
	start(t, d, cfg)
	eventually(t, "trap installed", func() bool { return readFile(cfg.StdoutPath+".0") == "ready\n" })
	began := time.Now()
	if err := d.StopTask("t1", 300*time.Millisecond, "SIGTERM"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 300*time.Millisecond {
		t.Errorf("StopTask returned after %v, before the timeout", took)
	}
	if res := waitTask(t, d, "t1"); res.Signal != 9 {
		t.Errorf("exit = %+v, want SIGKILL", res)
	}
	eventually(t, "trap output", func() bool { return strings.Contains(readFile(cfg.StdoutPath+".0"), "got TERM") })
}

func TestStopSignalNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		want int
	}{{"", 15}, {"SIGINT", 2}, {"SIGHUP", 1}, {"SIGUSR1", 10}, {"kill", 9}} {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, true)
			start(t, d, taskConfig(t, "t1", "sleep", "60"))
			if err := d.StopTask("t1", 10*time.Second, tt.name); err != nil {
				t.Fatal(err)
			}
			if res := waitTask(t, d, "t1"); res.Signal != tt.want {
				t.Errorf("exit = %+v, want signal %d", res, tt.want)
			}
		})
	}
	d := newDriver(t, true)
	start(t, d, taskConfig(t, "t1", "sleep", "60"))
	if err := d.StopTask("t1", time.Second, "SIGNOPE"); err == nil || !strings.Contains(err.Error(), "SIGNOPE") {
		t.Errorf("StopTask with a bad signal = %v", err)
	}
}

func TestUnknownTask(t *testing.T) {
	d := newDriver(t, true)
	_, errWait := d.WaitTask(context.Background(), "nope")
	_, errInspect := d.InspectTask("nope")
	for _, err := range []error{errWait, errInspect, d.StopTask("nope", time.Second, ""), d.DestroyTask("nope", true)} {
		if !errors.Is(err, plugins.ErrTaskNotFound) {
			t.Errorf("error = %v, want ErrTaskNotFound", err)
		}
	}
}

func TestDestroyTask(t *testing.T) {
	d := newDriver(t, true)
	start(t, d, taskConfig(t, "t1", "sleep", "60"))
	if _, err := d.StartTask(taskConfig(t, "t1", "true")); err == nil {
		t.Error("started a second task with the same ID")
	}
	if err := d.DestroyTask("t1", false); err == nil {
		t.Error("destroyed a running task without force")
	}
	if err := d.DestroyTask("t1", true); err != nil {
		t.Fatalf("DestroyTask(force): %v", err)
	}
	if _, err := d.InspectTask("t1"); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("task still known after destroy: %v", err)
	}
}

func TestRecoverTask(t *testing.T) {
	first := newDriver(t, true)
	cfg := taskConfig(t, "t1", "sh", "-c", `echo before; while [ ! -e go ]; do sleep 0.02; done; echo after`)
	h := start(t, first, cfg)
	eventually(t, "first output", func() bool { return readFile(cfg.StdoutPath+".0") == "before\n" })

	// A new plugin instance re-adopts the task from its handle.
	second := newDriver(t, true)
	if err := second.RecoverTask(h); err != nil {
		t.Fatalf("RecoverTask: %v", err)
	}
	if err := second.RecoverTask(h); err != nil {
		t.Fatalf("second RecoverTask: %v", err)
	}
	st, err := second.InspectTask("t1")
	if err != nil || st.State != plugins.TaskStateRunning {
		t.Fatalf("InspectTask after recover = %+v, %v", st, err)
	}
	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := waitTask(t, second, "t1"); !res.Successful() {
		t.Errorf("recovered exit = %+v", res)
	}
	if err := second.DestroyTask("t1", false); err != nil {
		t.Errorf("DestroyTask of exited recovered task: %v", err)
	}

	// Gone processes and bad handles are refused.
	if err := newDriver(t, true).RecoverTask(h); err == nil {
		t.Error("recovered an exited task")
	}
	for _, bad := range []*plugins.TaskHandle{
		nil,
		{Version: 1},
		{Version: 99, Config: cfg, State: h.State},
		{Version: 1, Config: cfg, State: []byte("{")},
	} {
		if err := second.RecoverTask(bad); err == nil {
			t.Errorf("RecoverTask(%+v) succeeded", bad)
		}
	}
}

func TestRecoverThenStop(t *testing.T) {
	first := newDriver(t, true)
	cfg := taskConfig(t, "t1", "sleep", "60")
	h := start(t, first, cfg)
	second := newDriver(t, true)
	if err := second.RecoverTask(h); err != nil {
		t.Fatal(err)
	}
	if err := second.StopTask("t1", 5*time.Second, "SIGTERM"); err != nil {
		t.Fatal(err)
	}
	if res := waitTask(t, first, "t1"); res.Signal != 15 {
		t.Errorf("task exit = %+v, want SIGTERM from the recovering driver", res)
	}
	if res := waitTask(t, second, "t1"); !res.Successful() {
		t.Errorf("recovered exit = %+v, want reported as 0", res)
	}
}
