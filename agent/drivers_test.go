// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/client/state"
	"github.com/droverhq/drover/drivers/registry"
	"github.com/droverhq/drover/plugins"
)

// fakePluginEnv makes the test binary a third-party driver plugin serving
// a stubDriver of the name it holds.
const fakePluginEnv = "DROVER_AGENT_TEST_PLUGIN_NAME"

// TestMain lets the test binary stand in for the plugins the agent
// launches: the agent runs its own executable as `plugin driver NAMES`
// for the built-in drivers (in tests, this binary), and plugin_dir
// scripts below run it with fakePluginEnv.
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "plugin" && os.Args[2] == "driver" {
		var ds []plugins.Driver
		for _, name := range strings.Split(os.Args[3], ",") {
			ds = append(ds, registry.Builtin()[name](plugins.PluginLogger(name)))
		}
		if err := plugins.ServeDrivers(ds...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if name := os.Getenv(fakePluginEnv); name != "" {
		plugins.Serve(stubDriver(name))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// stubDriver is a third-party driver that only has a name: these tests
// are about finding, launching and reattaching plugins, not tasks.
type stubDriver string

var errStub = errors.New("stub driver runs no tasks")

func (d stubDriver) Name() string           { return string(d) }
func (d stubDriver) SetConfig([]byte) error { return nil }
func (d stubDriver) Fingerprint(context.Context) (*plugins.Fingerprint, error) {
	return &plugins.Fingerprint{Health: plugins.HealthHealthy}, nil
}
func (d stubDriver) StartTask(*plugins.TaskConfig) (*plugins.TaskHandle, error) { return nil, errStub }
func (d stubDriver) WaitTask(context.Context, string) (*plugins.ExitResult, error) {
	return nil, errStub
}
func (d stubDriver) StopTask(string, time.Duration, string) error    { return errStub }
func (d stubDriver) DestroyTask(string, bool) error                  { return errStub }
func (d stubDriver) InspectTask(string) (*plugins.TaskStatus, error) { return nil, errStub }
func (d stubDriver) RecoverTask(*plugins.TaskHandle) error           { return errStub }

// writePlugin puts an executable script into dir that serves a stub
// driver called name through this test binary.
func writePlugin(t *testing.T, dir, file, name string) string {
	t.Helper()
	path := filepath.Join(dir, file)
	script := fmt.Sprintf("#!/bin/sh\n%s=%s exec %q\n", fakePluginEnv, name, os.Args[0])
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// driverLogs collects log output from concurrent writers.
type driverLogs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *driverLogs) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *driverLogs) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// driversAgent is just enough of a non-dev agent to launch drivers: its
// config, logger and client state in dataDir.
func driversAgent(t *testing.T, dataDir string, logs *driverLogs) *Agent {
	t.Helper()
	db, _, err := state.Open(filepath.Join(dataDir, "state.db"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return &Agent{
		cfg: &Config{DataDir: dataDir, PluginConfig: map[string]map[string]any{
			"raw_exec": {"enabled": true},
			"ext":      {"anything": "goes"},
		}},
		logger: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}),
		state:  db,
	}
}

// savedDrivers reads back what launchDrivers saved.
func savedDrivers(t *testing.T, a *Agent) map[string][]byte {
	t.Helper()
	path := a.state.Path()
	if err := a.state.Close(); err != nil {
		t.Fatal(err)
	}
	db, snap, err := state.Open(path, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return snap.Drivers
}

func pidOf(d *plugins.PluginDriver) int { return d.ReattachConfig().Pid }

func killDrivers(a *Agent) {
	for _, d := range a.drivers {
		d.Kill()
	}
}

// The enabled built-ins share one process, plugin_dir's driver plugins get
// one each, other files are skipped with a log line naming them, and a
// restarted agent reattaches to all of them without launching anything.
func TestLaunchDriversBuiltinsAndPluginDir(t *testing.T) {
	dataDir := t.TempDir()
	pluginDir := filepath.Join(dataDir, "plugins")
	if err := os.MkdirAll(filepath.Join(pluginDir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	extPath := writePlugin(t, pluginDir, "ext-driver", "ext")
	junk := filepath.Join(pluginDir, "junk.sh")
	if err := os.WriteFile(junk, []byte("#!/bin/sh\necho not a plugin\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pluginDir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	logs := &driverLogs{}
	a := driversAgent(t, dataDir, logs)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := a.launchDrivers(ctx, nil); err != nil {
		t.Fatalf("launchDrivers: %v\n%s", err, logs)
	}
	t.Cleanup(func() { killDrivers(a) })

	want := []string{"containerd", "exec", "ext", "raw_exec"} // mock_driver is opt-in and off
	if len(a.drivers) != len(want) {
		t.Fatalf("drivers = %v, want %v", a.drivers, want)
	}
	for _, name := range want {
		if a.drivers[name] == nil {
			t.Fatalf("driver %q missing; have %v", name, a.drivers)
		}
	}
	builtinPID := pidOf(a.drivers["exec"])
	for _, name := range []string{"containerd", "raw_exec"} {
		if pid := pidOf(a.drivers[name]); pid != builtinPID {
			t.Errorf("built-in %s runs in pid %d, exec in %d: want one process", name, pid, builtinPID)
		}
	}
	extPID := pidOf(a.drivers["ext"])
	if extPID == builtinPID {
		t.Error("third-party driver runs in the built-ins' process")
	}
	if !strings.Contains(logs.String(), "plugin_dir file is not a working driver plugin, skipping it: file="+junk) {
		t.Errorf("junk file not logged by name:\n%s", logs)
	}
	saved := savedDrivers(t, a)
	if s, err := decodeSavedDriver(saved["ext"]); err != nil || s.Path != extPath {
		t.Errorf("saved ext driver = %+v, %v; want path %s", s, err, extPath)
	}

	// The agent restarts: everything is reattached, nothing launched.
	logs2 := &driverLogs{}
	a2 := driversAgent(t, dataDir, logs2)
	if err := a2.launchDrivers(ctx, saved); err != nil {
		t.Fatalf("launchDrivers after restart: %v\n%s", err, logs2)
	}
	for name, d := range a.drivers {
		d2 := a2.drivers[name]
		if d2 == nil || pidOf(d2) != pidOf(d) {
			t.Errorf("after restart driver %s = %v, want reattached to pid %d", name, d2, pidOf(d))
		}
	}
	if strings.Contains(logs2.String(), "starting plugin: path="+extPath) || strings.Contains(logs2.String(), "launched third-party") {
		t.Errorf("restarted agent launched %s again:\n%s", extPath, logs2)
	}
	if !strings.Contains(logs2.String(), "reattached to driver plugin: driver=ext pid="+strconv.Itoa(extPID)) {
		t.Errorf("restarted agent did not log reattaching ext:\n%s", logs2)
	}
}

// A third-party driver cannot take a name already in use: the agent
// refuses to start, names both, and leaves no plugin process behind.
func TestLaunchDriversNameClash(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string // file -> driver it serves
		want  []string
	}{
		{"built-in", map[string]string{"my-exec": "exec"}, []string{"my-exec", `"exec"`, "built-in"}},
		{"two plugins", map[string]string{"a-ext": "ext", "b-ext": "ext"}, []string{"a-ext", "b-ext", `"ext"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			pluginDir := filepath.Join(dataDir, "plugins")
			if err := os.MkdirAll(pluginDir, 0o755); err != nil {
				t.Fatal(err)
			}
			for file, driver := range tc.files {
				writePlugin(t, pluginDir, file, driver)
			}
			logs := &driverLogs{}
			a := driversAgent(t, dataDir, logs)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			err := a.launchDrivers(ctx, nil)
			if err == nil {
				killDrivers(a)
				t.Fatal("launchDrivers accepted a clashing driver name")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			for name, d := range a.drivers {
				deadline := time.Now().Add(10 * time.Second)
				for !d.Exited() {
					if time.Now().After(deadline) {
						d.Kill()
						t.Fatalf("driver %s's plugin (pid %d) left running after the failed start", name, pidOf(d))
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
}

func TestDecodeSavedDriver(t *testing.T) {
	bare := `{"Protocol":"grpc","ProtocolVersion":1,"Network":"unix","Address":"/tmp/p.sock","Pid":7}`
	for _, tc := range []struct {
		name, in, wantPath string
		wantErr            bool
	}{
		{"envelope", `{"Reattach":` + bare + `,"Path":"/plugins/hello"}`, "/plugins/hello", false},
		{"built-in envelope", `{"Reattach":` + bare + `}`, "", false},
		{"bare reattach config of an older agent", bare, "", false},
		{"garbage", `{`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := decodeSavedDriver([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rc, err := plugins.UnmarshalReattachConfig(s.Reattach)
			if err != nil || rc.Pid != 7 || s.Path != tc.wantPath {
				t.Errorf("decoded %+v (reattach %+v, %v), want pid 7 and path %q", s, rc, err, tc.wantPath)
			}
		})
	}
}

func TestPluginEnabled(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]any
		want bool
	}{
		{nil, false},
		{map[string]any{"enabled": true}, true},
		{map[string]any{"enabled": "true"}, true},
		{map[string]any{"enabled": false}, false},
		{map[string]any{"enabled": 1}, false},
	} {
		if got := pluginEnabled(tc.cfg); got != tc.want {
			t.Errorf("pluginEnabled(%v) = %v, want %v", tc.cfg, got, tc.want)
		}
	}
}
