// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

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
	if err := d.SetConfig(pluginConfig(t)); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	return d
}

// A container outlives its plugin, its output keeps reaching the log
// files while no plugin runs, and a new plugin recovers it and reports
// its real exit status.
func TestTaskSurvivesPluginRestart(t *testing.T) {
	first := launchPlugin(t)
	c, ctx := testClient(t)
	cfg := taskConfig(t, "t1", "sh", "-c",
		`echo before; while [ ! -e /local/go1 ]; do sleep 0.05; done; echo during; echo during-err >&2
		 while [ ! -e /local/go2 ]; do sleep 0.05; done; echo after; exit 7`)
	h, err := first.StartTask(cfg)
	if err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	// The first plugin cannot clean up after itself once killed.
	t.Cleanup(func() { deleteContainer(ctx, c, containerID(cfg)) })
	eventually(t, "first output", func() bool { return readFile(cfg.StdoutPath+".0") == "before\n" })

	first.Kill()
	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "local", "go1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "output while no plugin runs", func() bool {
		return readFile(cfg.StdoutPath+".0") == "before\nduring\n" && readFile(cfg.StderrPath+".0") == "during-err\n"
	})

	second := launchPlugin(t)
	t.Cleanup(func() { second.DestroyTask("t1", true) })
	if _, err := second.InspectTask("t1"); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("new plugin knows the task before recovery: %v", err)
	}
	if err := second.RecoverTask(h); err != nil {
		t.Fatalf("RecoverTask: %v", err)
	}
	st, err := second.InspectTask("t1")
	if err != nil || st.State != plugins.TaskStateRunning {
		t.Fatalf("InspectTask after recovery = %+v, %v", st, err)
	}

	// A WaitTask whose caller gives up does not end the task.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err = second.WaitTask(ctx, "t1")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitTask with expiring context = %v", err)
	}

	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "local", "go2"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := waitTask(t, second, "t1"); res.ExitCode != 7 {
		t.Errorf("recovered exit = %+v, want 7", res)
	}
	eventually(t, "output after recovery", func() bool { return readFile(cfg.StdoutPath+".0") == "before\nduring\nafter\n" })
	if err := second.DestroyTask("t1", false); err != nil {
		t.Errorf("DestroyTask: %v", err)
	}
}
