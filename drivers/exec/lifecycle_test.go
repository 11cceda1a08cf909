// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package exec

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

func TestConfigErrors(t *testing.T) {
	d := New(hclog.NewNullLogger())
	for _, tt := range []struct{ config, want string }{
		{`{"default_pid_mod":"host"}`, `unknown field "default_pid_mod"`},
		{`{"default_pid_mode":"shared"}`, `default_pid_mode: "shared"`},
		{`{"default_ipc_mode":"none"}`, `default_ipc_mode: "none"`},
		{`{"allow_caps":["net_raw","fly"]}`, `unknown capability "fly"`},
		{`{"chroot_env":{"bin":"/bin"}}`, `chroot_env`},
		{`{"chroot_env":{"/":"/"}}`, `chroot_env`},
		{`{"no_pivot_root":"yes"}`, `no_pivot_root`},
		{`{} {}`, `after the object`},
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
		{`{"command":"true","pid_mode":"shared"}`, `pid_mode: "shared"`},
		{`{"command":"true","ipc_mode":"shared"}`, `ipc_mode: "shared"`},
		{`{"command":"true","cap_add":["net_raw"]}`, `net_raw not allowed`},
		{`{"command":"true","cap_add":["all"]}`, `not allowed`},
		{`{"command":"true","cap_drop":["fly"]}`, `unknown capability "fly"`},
	} {
		cfg := &plugins.TaskConfig{ID: "t1", TaskDir: t.TempDir(), DriverConfig: []byte(tt.config)}
		if _, err := d.StartTask(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("StartTask(%s) = %v, want error with %q", tt.config, err, tt.want)
		}
	}
}

func TestPluginConfigDefaults(t *testing.T) {
	s, err := parsePluginConfig([]byte(`{"default_pid_mode":"host","chroot_env":{"/usr":"/usr","/etc/ssl":"/etc/ssl","/etc":"/etc"},"allow_caps":["all"]}`))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := parseTaskConfig([]byte(`{"command":"x","cap_add":["net_raw"]}`), s)
	if err != nil {
		t.Fatal(err)
	}
	if ts.privatePID || !ts.privateIPC {
		t.Errorf("modes: private pid %v ipc %v, want host pid and private ipc", ts.privatePID, ts.privateIPC)
	}
	if got := strings.Join(sortedChroot(s.chrootEnv), " "); got != "/etc /etc/ssl /usr" {
		t.Errorf("mount order = %s", got)
	}
	if len(ts.caps) != len(DefaultCaps)+1 {
		t.Errorf("caps = %v", ts.caps)
	}
}

func TestTaskCaps(t *testing.T) {
	all, _ := parseCaps([]string{"all"})
	narrow, _ := parseCaps([]string{"chown", "kill"})
	for _, tt := range []struct {
		name      string
		allowed   capSet
		add, drop []string
		want      string
		err       string
	}{
		{"defaults", defaultCaps(), nil, nil, strings.Join(defaultCaps().names(), ","), ""},
		{"allowed narrows defaults", narrow, nil, nil, "chown,kill", ""},
		{"drop", narrow, nil, []string{"CAP_KILL"}, "chown", ""},
		{"drop all add one", all, []string{"sys_time"}, []string{"all"}, "sys_time", ""},
		{"add not allowed", defaultCaps(), []string{"sys_admin", "net_raw"}, nil, "", "net_raw, sys_admin not allowed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := taskCaps(tt.allowed, tt.add, tt.drop)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || strings.Join(got.names(), ",") != tt.want {
				t.Errorf("caps = %v, %v; want %s", got.names(), err, tt.want)
			}
		})
	}
}

func TestStopEscalation(t *testing.T) {
	d := newDriver(t)
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
	if res := waitTask(t, d, "t1"); res.Signal != 9 || res.OOMKilled {
		t.Errorf("exit = %+v, want SIGKILL", res)
	}
	eventually(t, "trap output", func() bool { return strings.Contains(readFile(cfg.StdoutPath+".0"), "got TERM") })
}

// A task that handles the stop signal exits on it; one that ignores it (as
// PID 1 of its namespace ignores every signal it has no handler for) is
// killed at the timeout.
func TestStopSignals(t *testing.T) {
	d := newDriver(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `trap 'exit 3' INT; echo ready; while :; do sleep 0.05; done`)
	start(t, d, cfg)
	eventually(t, "trap installed", func() bool { return readFile(cfg.StdoutPath+".0") == "ready\n" })
	if err := d.StopTask("t1", 10*time.Second, "INT"); err != nil {
		t.Fatal(err)
	}
	if res := waitTask(t, d, "t1"); res.ExitCode != 3 {
		t.Errorf("exit = %+v, want 3 from the INT trap", res)
	}
	if err := d.StopTask("t1", time.Second, "SIGNOPE"); err == nil || !strings.Contains(err.Error(), "SIGNOPE") {
		t.Errorf("StopTask with a bad signal = %v", err)
	}
}

// Everything the task started dies with it, even processes that left its
// process group, since they are in its PID namespace.
func TestStopKillsDescendants(t *testing.T) {
	d := newDriver(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `setsid sleep 300 & echo started; wait`)
	start(t, d, cfg)
	eventually(t, "child started", func() bool { return readFile(cfg.StdoutPath+".0") == "started\n" })
	memDir, _ := cgroupDir(t, d, "t1", "memory")
	if err := d.StopTask("t1", 200*time.Millisecond, ""); err != nil {
		t.Fatal(err)
	}
	if procs := strings.TrimSpace(readFile(filepath.Join(memDir, "cgroup.procs"))); procs != "" {
		t.Errorf("processes left in the task's cgroup after stop: %s", procs)
	}
}

func TestUnknownTask(t *testing.T) {
	d := newDriver(t)
	_, errWait := d.WaitTask(context.Background(), "nope")
	_, errInspect := d.InspectTask("nope")
	for _, err := range []error{errWait, errInspect, d.StopTask("nope", time.Second, ""), d.DestroyTask("nope", true)} {
		if !errors.Is(err, plugins.ErrTaskNotFound) {
			t.Errorf("error = %v, want ErrTaskNotFound", err)
		}
	}
}

func TestDestroyTask(t *testing.T) {
	d := newDriver(t)
	start(t, d, taskConfig(t, "t1", "sleep", "60"))
	memDir, _ := cgroupDir(t, d, "t1", "memory")
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
	if _, err := os.Stat(memDir); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left after destroy: %v", memDir, err)
	}
}

func TestRecoverTask(t *testing.T) {
	first := newDriver(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `echo before; while [ ! -e /local/go ]; do sleep 0.02; done; echo after`)
	h := start(t, first, cfg)
	eventually(t, "first output", func() bool { return readFile(cfg.StdoutPath+".0") == "before\n" })

	second := newDriver(t)
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
	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "local", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := waitTask(t, second, "t1"); !res.Successful() {
		t.Errorf("recovered exit = %+v", res)
	}
	memDir, _ := cgroupDir(t, second, "t1", "memory")
	if err := second.DestroyTask("t1", false); err != nil {
		t.Errorf("DestroyTask of exited recovered task: %v", err)
	}
	if _, err := os.Stat(memDir); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left after destroy: %v", memDir, err)
	}

	if err := newDriver(t).RecoverTask(h); err == nil {
		t.Error("recovered an exited task")
	}
	for _, bad := range []*plugins.TaskHandle{
		nil,
		{Version: 1},
		{Version: 99, Config: cfg, State: h.State},
		{Version: 1, Config: cfg, State: []byte("{")},
		{Version: 1, Config: cfg, State: []byte(`{"PID":1}`)},
	} {
		if err := second.RecoverTask(bad); err == nil {
			t.Errorf("RecoverTask(%+v) succeeded", bad)
		}
	}
}

// A recovered task that is OOM killed is still reported so: the verdict
// comes from its cgroup, not from being its parent.
func TestRecoveredTaskOOM(t *testing.T) {
	first := newDriver(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `while [ ! -e /local/go ]; do sleep 0.02; done; head -c 200m /dev/zero | tail`)
	cfg.MemoryMB = 32
	h := start(t, first, cfg)
	second := newDriver(t)
	if err := second.RecoverTask(h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.DestroyTask("t1", true) })
	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "local", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := waitTask(t, second, "t1"); !res.OOMKilled {
		t.Errorf("recovered exit = %+v, want OOMKilled", res)
	}
}
