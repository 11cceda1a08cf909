// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package rawexec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

// servePluginEnv makes the test binary a raw_exec plugin process, so the
// driver is also tested the way the agent runs it.
const servePluginEnv = "DROVER_TEST_SERVE_RAW_EXEC"

func TestMain(m *testing.M) {
	if os.Getenv(servePluginEnv) == "1" {
		plugins.Serve(New(plugins.PluginLogger(Name)))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func launchPlugin(t *testing.T) *plugins.PluginDriver {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{servePluginEnv + "=1"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logger := hclog.New(&hclog.LoggerOptions{Name: "agent", Output: t.Output(), Level: hclog.Debug})
	d, err := plugins.Launch(ctx, Name, cmd, logger)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(d.Kill)
	if err := d.SetConfig([]byte(`{"enabled":true}`)); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	return d
}

// A task outlives its plugin: a new plugin recovers it, follows its
// output and sees it exit.
func TestTaskSurvivesPluginRestart(t *testing.T) {
	first := launchPlugin(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `echo before; while [ ! -e go ]; do sleep 0.02; done; echo after`)
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
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })

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

	// A WaitTask whose caller gives up does not end the task.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err = second.WaitTask(ctx, "t1")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitTask with expiring context = %v", err)
	}

	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := waitTask(t, second, "t1"); !res.Successful() {
		t.Errorf("recovered exit = %+v", res)
	}
	eventually(t, "output after recovery", func() bool { return readFile(cfg.StdoutPath+".0") == "before\nafter\n" })
}

// The plugin survives its agent's death by catching SIGPIPE; its tasks
// must still get the default SIGPIPE behaviour (shell pipelines rely on it).
func TestTaskDoesNotInheritIgnoredSIGPIPE(t *testing.T) {
	d := launchPlugin(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `grep SigIgn /proc/$$/status`)
	if _, err := d.StartTask(cfg); err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	waitTask(t, d, "t1")
	var mask uint64
	if _, err := fmt.Sscanf(readFile(cfg.StdoutPath+".0"), "SigIgn:\t%x", &mask); err != nil {
		t.Fatalf("parse %q: %v", readFile(cfg.StdoutPath+".0"), err)
	}
	if mask&(1<<(syscall.SIGPIPE-1)) != 0 {
		t.Errorf("task ignores SIGPIPE (SigIgn %x)", mask)
	}
}
