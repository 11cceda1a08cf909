// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package rawexec

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/drivers/cgroups"
	"github.com/droverhq/drover/structs"
)

// execDaemon is what `alloc exec` runs: it starts a daemon that leaves
// the session's process group, writes its PID to exec.pid and returns.
const execDaemon = `setsid sh -c 'echo $$ > exec.pid; exec sleep 300' </dev/null >/dev/null 2>&1 &
while [ ! -s exec.pid ]; do sleep 0.02; done`

// TestExecJoinsTaskCgroup checks that a command run by ExecTask is born in
// the task's cgroup, so that a daemon it leaves behind is killed when the
// task stops; without a cgroup (not root) the daemon outlives the task.
func TestExecJoinsTaskCgroup(t *testing.T) {
	requireRoot(t)
	for _, tt := range []struct {
		name        string
		nonRoot     bool
		daemonLives bool
	}{
		{"cgroup", false, false},
		{"no cgroup when not root", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, true)
			if tt.nonRoot {
				asNonRoot(d)
			}
			cfg := taskConfig(t, "t1", "sleep", "60")
			start(t, d, cfg)
			var out bytes.Buffer
			code, err := d.ExecTask(context.Background(), "t1", []string{"sh", "-c", execDaemon}, false, nil, &out, &out, nil)
			if err != nil || code != 0 {
				t.Fatalf("exec: code %d, err %v, output %q", code, err, out.String())
			}
			pid, err := strconv.Atoi(strings.TrimSpace(readFile(filepath.Join(cfg.TaskDir, "exec.pid"))))
			if err != nil {
				t.Fatalf("daemon pid: %v", err)
			}
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
			if !running(pid) {
				t.Fatalf("daemon %d not running after the exec session", pid)
			}
			groups := readFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
			dir := cgroupOf(t, d, "t1", "memory") + cgroupOf(t, d, "t1", "unified")
			if in := dir != "" && strings.Contains(groups, filepath.Base(dir)); in == tt.daemonLives {
				t.Fatalf("daemon in the task's cgroup %q = %v; its cgroups:\n%s", dir, in, groups)
			}
			if err := d.StopTask("t1", 2*time.Second, "SIGTERM"); err != nil {
				t.Fatal(err)
			}
			waitTask(t, d, "t1")
			if tt.daemonLives {
				if !running(pid) {
					t.Errorf("daemon %d was killed though the task had no cgroup", pid)
				}
				return
			}
			eventually(t, "exec's daemon killed with the task", func() bool { return !running(pid) })
		})
	}
}

// TestSweepStaleCgroups checks the sweep: of the groups with its prefix,
// it removes the ones that stay empty through its grace period, and
// leaves ones with processes and ones that get a process meanwhile (a
// task being started); groups of other names are not its business.
func TestSweepStaleCgroups(t *testing.T) {
	requireRoot(t)
	hier, err := cgroups.Detect()
	if err == nil {
		err = hier.Check()
	}
	if err != nil {
		t.Fatalf("no usable cgroups: %v", err)
	}
	id := structs.GenerateUUID()[:8]
	prefix := Name + ".sweeptest-" + id + "."
	mk := func(name string) *cgroups.Group {
		g := hier.Group(name)
		if err := g.Create(cgroups.Resources{}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		t.Cleanup(func() { g.KillAll(time.Second); g.Remove() })
		return g
	}
	sleepIn := func(g *cgroups.Group) {
		cmd := exec.Command("sleep", "60")
		if err := g.StartCommand(cmd); err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
	stale := mk(prefix + "stale")
	busy := mk(prefix + "busy")
	starting := mk(prefix + "starting")
	other := mk("exec.sweeptest-" + id + ".other")
	sleepIn(busy)
	// A task is born in the group while the sweep waits.
	started := make(chan struct{})
	go func() {
		defer close(started)
		time.Sleep(20 * time.Millisecond)
		sleepIn(starting)
	}()

	removed, err := sweepStaleCgroups(hier, prefix, time.Second, hclog.NewNullLogger())
	<-started
	if err != nil {
		t.Fatal(err)
	}
	if removed != 1 {
		t.Errorf("removed %d groups, want 1", removed)
	}
	for _, tc := range []struct {
		name  string
		group *cgroups.Group
		kept  bool
	}{
		{"stale", stale, false},
		{"busy", busy, true},
		{"starting", starting, true},
		{"other driver's", other, true},
	} {
		for _, dir := range tc.group.Dirs {
			_, err := os.Stat(dir)
			if kept := err == nil; kept != tc.kept {
				t.Errorf("%s group %s kept = %v, want %v", tc.name, dir, kept, tc.kept)
			}
		}
	}
}

// TestRecoverRemovesLostCgroup checks that recovering a task whose
// process is gone fails, as before, and removes its empty cgroup.
func TestRecoverRemovesLostCgroup(t *testing.T) {
	requireRoot(t)
	first := newDriver(t, true)
	cfg := taskConfig(t, "t1", "sleep", "60")
	h := start(t, first, cfg)
	dir := cgroupOf(t, first, "t1", "memory") + cgroupOf(t, first, "t1", "unified")
	if dir == "" {
		t.Fatal("task has no cgroup")
	}
	// The plugin dies with its task still running; the task ends while
	// no plugin watches it.
	st, err := first.InspectTask("t1")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(st.DriverAttributes["pid"])
	if pid == 0 {
		t.Fatalf("no pid in %v", st.DriverAttributes)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	waitTask(t, first, "t1")

	if err := newDriver(t, true).RecoverTask(h); err == nil {
		t.Fatal("recovered a task whose process is gone")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cgroup %s of the lost task left after recovery: %v", dir, err)
	}
}
