// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package mock

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

// servePluginEnv makes the test binary a mock plugin process.
const servePluginEnv = "DROVER_TEST_SERVE_MOCK"

func TestMain(m *testing.M) {
	if os.Getenv(servePluginEnv) == "1" {
		plugins.Serve(New(plugins.PluginLogger(Name)))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func newDriver(t *testing.T) *Driver {
	d := New(hclog.New(&hclog.LoggerOptions{Output: t.Output(), Level: hclog.Debug}))
	if err := d.SetConfig([]byte(`{"enabled":true}`)); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDisabledByDefault(t *testing.T) {
	d := New(hclog.NewNullLogger())
	if err := d.SetConfig(nil); err != nil {
		t.Fatal(err)
	}
	if fp, _ := d.Fingerprint(context.Background()); fp.Health != plugins.HealthUndetected {
		t.Errorf("Fingerprint = %+v, want undetected", fp)
	}
	if _, err := d.StartTask(taskConfig(t, "t1", `{}`)); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("StartTask on a disabled driver = %v", err)
	}
	if err := d.SetConfig([]byte(`{"enabled":true}`)); err != nil {
		t.Fatal(err)
	}
	if fp, _ := d.Fingerprint(context.Background()); fp.Health != plugins.HealthHealthy || fp.Attributes["driver.mock_driver"] != "1" {
		t.Errorf("Fingerprint = %+v, want healthy", fp)
	}
	if err := d.SetConfig([]byte(`{"bogus":1}`)); err == nil {
		t.Error("unknown plugin config key accepted")
	}
}

func taskConfig(t *testing.T, id, config string) *plugins.TaskConfig {
	dir := t.TempDir()
	return &plugins.TaskConfig{
		ID: id, Name: "web", DriverConfig: []byte(config), TaskDir: dir,
		StdoutPath: filepath.Join(dir, "web.stdout"),
	}
}

func start(t *testing.T, d *Driver, cfg *plugins.TaskConfig) *plugins.TaskHandle {
	t.Helper()
	h, err := d.StartTask(cfg)
	if err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	return h
}

func wait(t *testing.T, d plugins.Driver, id string) *plugins.ExitResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := d.WaitTask(ctx, id)
	if err != nil {
		t.Fatalf("WaitTask: %v", err)
	}
	return res
}

func TestExitOnItsOwn(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   plugins.ExitResult
	}{
		{"success", `{"run_for":"10ms"}`, plugins.ExitResult{}},
		{"exit code", `{"run_for":"10ms","exit_code":3}`, plugins.ExitResult{ExitCode: 3}},
		{"exit signal", `{"run_for":"10ms","exit_signal":9}`, plugins.ExitResult{Signal: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t)
			start(t, d, taskConfig(t, "t1", tt.config))
			if res := wait(t, d, "t1"); *res != tt.want {
				t.Errorf("exit = %+v, want %+v", res, tt.want)
			}
			st, err := d.InspectTask("t1")
			if err != nil || st.State != plugins.TaskStateExited || st.CompletedAt.IsZero() {
				t.Errorf("InspectTask = %+v, %v", st, err)
			}
		})
	}
}

func TestStartBehaviour(t *testing.T) {
	d := newDriver(t)
	_, err := d.StartTask(taskConfig(t, "t1", `{"start_error":"no image"}`))
	if err == nil || err.Error() != `start task "t1": no image` {
		t.Errorf("start_error: %v", err)
	}
	if _, err := d.InspectTask("t1"); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("failed task is known: %v", err)
	}

	began := time.Now()
	start(t, d, taskConfig(t, "t2", `{"start_block_for":"200ms"}`))
	if took := time.Since(began); took < 200*time.Millisecond {
		t.Errorf("StartTask took %v, want >= 200ms", took)
	}

	for _, bad := range []string{`{"run_for":"soon"}`, `{"bogus":1}`, `{"stdout_repeat":-1}`, `{"stats":[{},{}]}`} {
		if _, err := d.StartTask(taskConfig(t, "bad", bad)); err == nil {
			t.Errorf("StartTask(%s) succeeded", bad)
		}
	}
}

func TestStop(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		timeout time.Duration
		want    plugins.ExitResult
		minTook time.Duration
	}{
		{"stops at once", `{}`, time.Second, plugins.ExitResult{}, 0},
		{"graceful after kill_after", `{"kill_after":"100ms"}`, 5 * time.Second, plugins.ExitResult{}, 100 * time.Millisecond},
		{"killed at timeout", `{"kill_after":"1h"}`, 100 * time.Millisecond, plugins.ExitResult{Signal: 9}, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t)
			start(t, d, taskConfig(t, "t1", tt.config))
			began := time.Now()
			if err := d.StopTask("t1", tt.timeout, "SIGINT"); err != nil {
				t.Fatalf("StopTask: %v", err)
			}
			if took := time.Since(began); took < tt.minTook {
				t.Errorf("StopTask took %v, want >= %v", took, tt.minTook)
			}
			if res := wait(t, d, "t1"); *res != tt.want {
				t.Errorf("exit = %+v, want %+v", res, tt.want)
			}
			if err := d.DestroyTask("t1", false); err != nil {
				t.Errorf("DestroyTask: %v", err)
			}
		})
	}
	d := newDriver(t)
	start(t, d, taskConfig(t, "t1", `{}`))
	if err := d.StopTask("t1", time.Second, "SIGNOPE"); err == nil {
		t.Error("StopTask with an unknown signal succeeded")
	}
	if err := d.DestroyTask("t1", false); err == nil {
		t.Error("DestroyTask of a running task without force succeeded")
	}
	if err := d.DestroyTask("t1", true); err != nil {
		t.Errorf("DestroyTask(force): %v", err)
	}
}

func TestStdout(t *testing.T) {
	d := newDriver(t)
	cfg := taskConfig(t, "t1", `{"stdout_string":"hi\n","stdout_repeat":2,"stdout_repeat_duration":"10ms"}`)
	start(t, d, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(cfg.StdoutPath + ".0")
		if string(b) == "hi\nhi\nhi\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stdout = %q, want three lines", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSignalAndStats(t *testing.T) {
	d := newDriver(t)
	start(t, d, taskConfig(t, "ok", `{"stats":[{"cpu_percent":12.5,"cpu_total_ticks":300,"memory_rss":1024,"memory_usage":2048,"memory_max_usage":4096}]}`))
	start(t, d, taskConfig(t, "bad", `{"signal_error":"refused"}`))

	if err := d.SignalTask("ok", "HUP"); err != nil {
		t.Errorf("SignalTask: %v", err)
	}
	if err := d.SignalTask("bad", "HUP"); err == nil || err.Error() != `signal task "bad": refused` {
		t.Errorf("signal_error: %v", err)
	}
	if err := d.SignalTask("ok", "NOPE"); err == nil {
		t.Error("unknown signal accepted")
	}

	ch, err := d.TaskStats(context.Background(), "ok", 100*time.Millisecond)
	if err != nil {
		t.Fatalf("TaskStats: %v", err)
	}
	u := <-ch
	mem, cpu := u.ResourceUsage.MemoryStats, u.ResourceUsage.CpuStats
	if mem.RSS != 1024 || mem.Usage != 2048 || mem.MaxUsage != 4096 || cpu.Percent != 12.5 || cpu.TotalTicks != 300 || u.Timestamp == 0 {
		t.Errorf("sample = %+v %+v", mem, cpu)
	}
	if err := d.StopTask("ok", time.Second, ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("stats stream not closed after the task exited")
		}
	}
}

func TestExec(t *testing.T) {
	d := newDriver(t)
	start(t, d, taskConfig(t, "t1", `{}`))
	tests := []struct {
		cmd      []string
		stdin    string
		wantOut  string
		wantErr  string
		wantCode int
	}{
		{[]string{"echo", "hi", "there"}, "", "hi there\n", "", 0},
		{[]string{"cat"}, "abc", "abc", "", 0},
		{[]string{"exit", "4"}, "", "", "", 4},
		{[]string{"ls"}, "", "", "mock: ls: command not found\n", 127},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.cmd, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code, err := d.ExecTask(context.Background(), "t1", tt.cmd, false, strings.NewReader(tt.stdin), &out, &errOut, nil)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode || out.String() != tt.wantOut || errOut.String() != tt.wantErr {
				t.Errorf("= %d %q %q, want %d %q %q", code, out.String(), errOut.String(), tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}

func TestRecover(t *testing.T) {
	first := newDriver(t)
	h := start(t, first, taskConfig(t, "t1", `{"run_for":"300ms","exit_code":2}`))

	second := newDriver(t)
	if err := second.RecoverTask(h); err != nil {
		t.Fatalf("RecoverTask: %v", err)
	}
	st, err := second.InspectTask("t1")
	if err != nil || st.State != plugins.TaskStateRunning {
		t.Fatalf("recovered task = %+v, %v", st, err)
	}
	first0, _ := first.InspectTask("t1")
	if !st.StartedAt.Equal(first0.StartedAt) {
		t.Errorf("StartedAt = %v, want %v", st.StartedAt, first0.StartedAt)
	}
	if res := wait(t, second, "t1"); res.ExitCode != 2 {
		t.Errorf("exit = %+v, want code 2", res)
	}

	// Recovered after its run_for ended: it exits at once.
	third := newDriver(t)
	began := time.Now()
	if err := third.RecoverTask(h); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, third, "t1"); res.ExitCode != 2 || time.Since(began) > 5*time.Second {
		t.Errorf("late recover: %+v after %v", res, time.Since(began))
	}

	if err := third.RecoverTask(&plugins.TaskHandle{Version: 9, Config: h.Config, State: h.State}); err == nil {
		t.Error("recover of a bad version succeeded")
	}
}

func TestOverPlugin(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{servePluginEnv + "=1"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := plugins.Launch(ctx, Name, cmd, hclog.New(&hclog.LoggerOptions{Output: t.Output(), Level: hclog.Info}))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(d.Kill)
	if err := d.SetConfig([]byte(`{"enabled":true}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.StartTask(taskConfig(t, "t1", `{"signal_error":"nope","stats":{"memory_rss":7}}`)); err != nil {
		t.Fatal(err)
	}
	caps, err := d.Capabilities()
	if want := (&plugins.Capabilities{SendSignals: true, Exec: true, FSIsolation: plugins.FSIsolationChroot}); err != nil || !reflect.DeepEqual(caps, want) {
		t.Errorf("Capabilities = %+v, %v", caps, err)
	}
	if err := d.SignalTask("t1", "HUP"); err == nil || err.Error() != `signal task "t1": nope` {
		t.Errorf("SignalTask = %v", err)
	}
	var out bytes.Buffer
	if code, err := d.ExecTask(context.Background(), "t1", []string{"echo", "hi"}, false, nil, &out, io.Discard, nil); err != nil || code != 0 || out.String() != "hi\n" {
		t.Errorf("ExecTask = %d, %v, %q", code, err, out.String())
	}
	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	ch, err := d.TaskStats(sctx, "t1", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if u := <-ch; u == nil || u.ResourceUsage.MemoryStats.RSS != 7 {
		t.Errorf("stats = %+v", u)
	}
	if err := d.StopTask("t1", time.Second, ""); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, d, "t1"); !res.Successful() {
		t.Errorf("exit = %+v", res)
	}
}
