// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package exec

import (
	"context"
	"errors"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

// servePluginEnv makes the test binary an exec plugin process, so the
// driver is also tested the way the agent runs it: the task's init is then
// the plugin binary re-executed, as in production.
const servePluginEnv = "DROVER_TEST_SERVE_EXEC"

func TestMain(m *testing.M) {
	if os.Getenv(servePluginEnv) == "1" {
		plugins.Serve(New(plugins.PluginLogger(Name)))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func launchPlugin(t *testing.T) *plugins.PluginDriver {
	t.Helper()
	requireRoot(t)
	cmd := osexec.Command(os.Args[0])
	cmd.Env = []string{servePluginEnv + "=1"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logger := hclog.New(&hclog.LoggerOptions{Name: "agent", Output: t.Output(), Level: hclog.Debug})
	d, err := plugins.Launch(ctx, Name, cmd, logger)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(d.Kill)
	if err := d.SetConfig(nil); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	return d
}

func TestPluginFingerprint(t *testing.T) {
	d := launchPlugin(t)
	fp, err := d.Fingerprint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fp.Health != plugins.HealthHealthy || fp.Attributes["driver.exec"] != "1" {
		t.Errorf("Fingerprint = %+v, want healthy with driver.exec=1", fp)
	}
}

// A task outlives its plugin: a new plugin recovers it, follows its
// output, stops it and cleans its cgroup up.
func TestTaskSurvivesPluginRestart(t *testing.T) {
	first := launchPlugin(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `trap 'echo stopping; exit 0' TERM; echo before; while [ ! -e /local/go ]; do sleep 0.02; done; echo after; while :; do sleep 0.02; done`)
	h, err := first.StartTask(cfg)
	if err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	eventually(t, "first output", func() bool { return readFile(cfg.StdoutPath+".0") == "before\n" })
	st, err := first.InspectTask("t1")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(st.DriverAttributes["pid"])
	memDir := st.DriverAttributes["cgroup.memory"]
	if memDir == "" {
		memDir = st.DriverAttributes["cgroup.unified"]
	}
	t.Cleanup(func() {
		syscall.Kill(-pid, syscall.SIGKILL)
		eventually(t, "task gone", func() bool { return syscall.Kill(pid, 0) != nil })
		syscall.Rmdir(memDir)
	})

	first.Kill()
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("task died with its plugin: %v", err)
	}

	second := launchPlugin(t)
	if _, err := second.InspectTask("t1"); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("new plugin knows the task before recovery: %v", err)
	}
	if err := second.RecoverTask(h); err != nil {
		t.Fatalf("RecoverTask: %v", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "local", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "output after recovery", func() bool { return readFile(cfg.StdoutPath+".0") == "before\nafter\n" })
	if err := second.StopTask("t1", 10*time.Second, ""); err != nil {
		t.Fatalf("StopTask: %v", err)
	}
	if res := waitTask(t, second, "t1"); !res.Successful() || res.OOMKilled {
		t.Errorf("recovered exit = %+v", res)
	}
	eventually(t, "stop output", func() bool { return readFile(cfg.StdoutPath+".0") == "before\nafter\nstopping\n" })
	if err := second.DestroyTask("t1", false); err != nil {
		t.Fatalf("DestroyTask: %v", err)
	}
	if _, err := os.Stat(memDir); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left after destroy: %v", memDir, err)
	}
}
