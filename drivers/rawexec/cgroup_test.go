// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package rawexec

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/droverhq/drover/plugins"
)

// daemonScript starts a grandchild that leaves the task's process group
// and session (as a daemon does), writes its PID to daemon.pid in the
// task directory, then keeps the task running.
const daemonScript = `setsid sh -c 'echo $$ > daemon.pid; exec sleep 300' </dev/null >/dev/null 2>&1 &
while [ ! -s daemon.pid ]; do sleep 0.02; done; echo ready; sleep 60`

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root, to make cgroups: run it as root")
	}
}

// asNonRoot makes d take the path of an unprivileged plugin.
func asNonRoot(d *Driver) { d.geteuid = func() int { return 1000 } }

// running reports whether pid is a live (not zombie) process.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

// startDaemonTask starts daemonScript and returns the daemon's PID, which
// the test kills at the end whatever happens.
func startDaemonTask(t *testing.T, d *Driver, id string) (*plugins.TaskConfig, *plugins.TaskHandle, int) {
	t.Helper()
	cfg := taskConfig(t, id, "sh", "-c", daemonScript)
	h := start(t, d, cfg)
	eventually(t, "task ready", func() bool { return readFile(cfg.StdoutPath+".0") == "ready\n" })
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(filepath.Join(cfg.TaskDir, "daemon.pid"))))
	if err != nil {
		t.Fatalf("daemon pid: %v", err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if !running(pid) {
		t.Fatalf("daemon %d not running", pid)
	}
	return cfg, h, pid
}

// cgroupOf is the task's cgroup directory of controller, from
// InspectTask, or "" when it has none.
func cgroupOf(t *testing.T, d *Driver, id, controller string) string {
	t.Helper()
	st, err := d.InspectTask(id)
	if err != nil {
		t.Fatal(err)
	}
	return st.DriverAttributes["cgroup."+controller]
}

// Stopping a task kills everything it started, a daemon that left its
// process group included, when the task has a cgroup; without one (an
// unprivileged plugin) stop reaches only the process group.
func TestStopKillsDaemonizedGrandchild(t *testing.T) {
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
			_, _, daemon := startDaemonTask(t, d, "t1")
			if err := d.StopTask("t1", 2*time.Second, "SIGTERM"); err != nil {
				t.Fatal(err)
			}
			if res := waitTask(t, d, "t1"); res.Signal != 15 {
				t.Errorf("exit = %+v, want SIGTERM", res)
			}
			if tt.daemonLives {
				if !running(daemon) {
					t.Errorf("daemon %d was killed though the task had no cgroup", daemon)
				}
				return
			}
			eventually(t, "daemon killed", func() bool { return !running(daemon) })
		})
	}
}

// Each task is born in a cgroup of its own, which holds all its
// processes, enforces no limits (raw_exec enforces none, memory_max
// included), and is removed with the task.
func TestTaskCgroup(t *testing.T) {
	requireRoot(t)
	d := newDriver(t, true)
	cfg := taskConfig(t, "t1", "sh", "-c", daemonScript)
	cfg.MemoryMB, cfg.MemoryMaxMB, cfg.CPUMHz = 32, 64, 100
	start(t, d, cfg)
	eventually(t, "task ready", func() bool { return readFile(cfg.StdoutPath+".0") == "ready\n" })
	daemon, _ := strconv.Atoi(strings.TrimSpace(readFile(filepath.Join(cfg.TaskDir, "daemon.pid"))))
	t.Cleanup(func() { syscall.Kill(daemon, syscall.SIGKILL) })

	mem := cgroupOf(t, d, "t1", "memory")
	unified := cgroupOf(t, d, "t1", "unified")
	dir := mem
	if dir == "" {
		dir = unified
	}
	if dir == "" {
		t.Fatalf("task has no cgroup")
	}
	st, _ := d.InspectTask("t1")
	procs := strings.Fields(readFile(filepath.Join(dir, "cgroup.procs")))
	for _, pid := range []string{st.DriverAttributes["pid"], strconv.Itoa(daemon)} {
		if !strings.Contains(" "+strings.Join(procs, " ")+" ", " "+pid+" ") {
			t.Errorf("pid %s not in the task's cgroup %s: %v", pid, dir, procs)
		}
	}
	if self := strconv.Itoa(os.Getpid()); strings.Contains(" "+strings.Join(procs, " ")+" ", " "+self+" ") {
		t.Errorf("the plugin itself (%s) is in the task's cgroup", self)
	}
	if mem != "" {
		limit, _ := strconv.ParseUint(strings.TrimSpace(readFile(filepath.Join(mem, "memory.limit_in_bytes"))), 10, 64)
		if limit < 1<<40 {
			t.Errorf("memory.limit_in_bytes = %d, want no limit", limit)
		}
	} else if got := strings.TrimSpace(readFile(filepath.Join(unified, "memory.max"))); got != "max" {
		t.Errorf("memory.max = %q, want max", got)
	}

	if err := d.DestroyTask("t1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left after DestroyTask: %v", dir, err)
	}
	if running(daemon) {
		t.Errorf("daemon %d outlived DestroyTask", daemon)
	}
}

// A new plugin instance finds the task's cgroup again from its handle:
// its stop still kills the daemon, and its destroy removes the cgroup.
func TestRecoverFindsCgroup(t *testing.T) {
	requireRoot(t)
	first := newDriver(t, true)
	_, h, daemon := startDaemonTask(t, first, "t1")
	dir := cgroupOf(t, first, "t1", "memory") + cgroupOf(t, first, "t1", "unified")

	second := newDriver(t, true)
	if err := second.RecoverTask(h); err != nil {
		t.Fatalf("RecoverTask: %v", err)
	}
	if got := cgroupOf(t, second, "t1", "memory") + cgroupOf(t, second, "t1", "unified"); got != dir || got == "" {
		t.Errorf("recovered cgroup = %q, want %q", got, dir)
	}
	if err := second.StopTask("t1", 2*time.Second, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "daemon killed", func() bool { return !running(daemon) })
	waitTask(t, second, "t1")
	if err := second.DestroyTask("t1", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left after DestroyTask: %v", dir, err)
	}
}

// Without root there is no cgroup: the handle carries none, and stats
// come from /proc, per process of the task's group.
func TestNoCgroupWhenNotRoot(t *testing.T) {
	d := newDriver(t, true)
	asNonRoot(d)
	cfg := taskConfig(t, "t1", "sh", "-c", `while [ ! -e stop ]; do sleep 0.02; done`)
	h := start(t, d, cfg)
	var hs handleState
	if err := json.Unmarshal(h.State, &hs); err != nil {
		t.Fatal(err)
	}
	if hs.Cgroup != nil {
		t.Errorf("handle has cgroup %+v", hs.Cgroup)
	}
	st, err := d.InspectTask("t1")
	if err != nil {
		t.Fatal(err)
	}
	for k := range st.DriverAttributes {
		if strings.HasPrefix(k, "cgroup.") {
			t.Errorf("attribute %s on a task without cgroup", k)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := d.TaskStats(ctx, "t1", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-ch:
		if u == nil || u.ResourceUsage.MemoryStats.RSS == 0 || u.Pids[st.DriverAttributes["pid"]] == nil {
			t.Errorf("sample = %+v", u)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no stats sample")
	}
	touch(t, filepath.Join(cfg.TaskDir, "stop"))
	if res := waitTask(t, d, "t1"); !res.Successful() {
		t.Errorf("exit = %+v", res)
	}
}

// Stats come from the cgroup: a daemon that left the task's process group
// is still one of the task's processes.
func TestStatsCountDaemon(t *testing.T) {
	requireRoot(t)
	d := newDriver(t, true)
	_, _, daemon := startDaemonTask(t, d, "t1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := d.TaskStats(ctx, "t1", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-ch:
		mem := u.ResourceUsage.MemoryStats
		if u.Pids[strconv.Itoa(daemon)] == nil || mem.Usage == 0 || !slices.Contains(mem.Measured, plugins.MeasuredUsage) {
			t.Errorf("sample = %+v, memory %+v: want the daemon %d and cgroup memory usage", u, mem, daemon)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no stats sample")
	}
}
