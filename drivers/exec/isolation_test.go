// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package exec

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/droverhq/drover/drivers/cgroups"
)

// A task in a private PID namespace is PID 1 and sees only its own
// processes; with pid_mode = "host" it sees the host's.
func TestPIDNamespace(t *testing.T) {
	d := newDriver(t)
	script := `echo $$; ls /proc | grep -c '^[0-9]'`
	for _, tt := range []struct {
		mode    string
		private bool
	}{{"", true}, {"private", true}, {"host", false}} {
		t.Run("mode="+tt.mode, func(t *testing.T) {
			cfg := withConfig(t, taskConfig(t, "t1", ""), TaskConfig{Command: "/bin/sh", Args: []string{"-c", script}, PIDMode: tt.mode})
			res, out := run(t, d, cfg)
			if !res.Successful() {
				t.Fatalf("exit = %+v", res)
			}
			var pid, count int
			if _, err := fmt.Sscanf(out, "%d\n%d\n", &pid, &count); err != nil {
				t.Fatalf("parse %q: %v", out, err)
			}
			if tt.private && (pid != 1 || count > 4) {
				t.Errorf("private PID namespace: task is PID %d and sees %d processes, want PID 1 and a handful", pid, count)
			}
			if !tt.private && (pid == 1 || count < 5) {
				t.Errorf("host PID namespace: task is PID %d and sees %d processes", pid, count)
			}
		})
	}
}

// The IPC and UTS namespaces are the task's own, unless ipc_mode = "host".
func TestUTSAndIPCNamespaces(t *testing.T) {
	d := newDriver(t)
	hostIPC, _ := os.Readlink("/proc/self/ns/ipc")
	hostUTS, _ := os.Readlink("/proc/self/ns/uts")
	for _, tt := range []struct {
		mode       string
		privateIPC bool
	}{{"", true}, {"host", false}} {
		t.Run("ipc_mode="+tt.mode, func(t *testing.T) {
			cfg := withConfig(t, taskConfig(t, "t1", ""), TaskConfig{
				Command: "/bin/sh", Args: []string{"-c", `readlink /proc/self/ns/ipc /proc/self/ns/uts`}, IPCMode: tt.mode,
			})
			res, out := run(t, d, cfg)
			if !res.Successful() {
				t.Fatalf("exit = %+v", res)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 || (lines[0] != hostIPC) == !tt.privateIPC || lines[1] == hostUTS {
				t.Errorf("task namespaces %q; host's IPC %s, UTS %s", lines, hostIPC, hostUTS)
			}
		})
	}
}

// The task's root is its task directory: it writes to /local, /tmp,
// /secrets and the shared /alloc (which land in the alloc dir on the
// host), and cannot write the host's system directories, not even as root.
func TestFilesystemIsolation(t *testing.T) {
	d := newDriver(t)
	script := `for f in /usr/x /etc/x /bin/x /x; do touch $f 2>/dev/null && echo "wrote $f"; done
for f in /local/l /tmp/t /secrets/s /alloc/a; do echo hi > $f || echo "failed $f"; done
ls /`
	for _, user := range []string{"", "root"} {
		t.Run("user="+user, func(t *testing.T) {
			cfg := taskConfig(t, "t1", "/bin/sh", "-c", script)
			cfg.User = user
			res, out := run(t, d, cfg)
			if !res.Successful() {
				t.Fatalf("exit = %+v", res)
			}
			if strings.Contains(out, "wrote /usr") || strings.Contains(out, "wrote /etc") || strings.Contains(out, "wrote /bin") || strings.Contains(out, "failed") {
				t.Errorf("task output:\n%s", out)
			}
			if user == "" && strings.Contains(out, "wrote /x") {
				t.Errorf("nobody wrote to the task root:\n%s", out)
			}
			for _, f := range []string{"web/local/l", "web/tmp/t", "web/secrets/s", "alloc/a"} {
				if got := readFile(filepath.Join(cfg.AllocDir, f)); got != "hi\n" {
					t.Errorf("%s on the host = %q", f, got)
				}
			}
			for _, host := range []string{"/usr/x", "/etc/x", "/bin/x"} {
				if _, err := os.Stat(host); err == nil {
					os.Remove(host)
					t.Errorf("task created %s on the host", host)
				}
			}
			if !strings.Contains(out, "local\n") || strings.Contains(out, "root\n") || strings.Contains(out, "work\n") {
				t.Errorf("task root lists:\n%s", out)
			}
		})
	}
}

// Tasks run as nobody unless they name a user.
func TestUser(t *testing.T) {
	d := newDriver(t)
	for _, tt := range []struct{ user, want string }{{"", "65534 65534"}, {"nobody", "65534 65534"}, {"root", "0 0"}} {
		t.Run("user="+tt.user, func(t *testing.T) {
			cfg := taskConfig(t, "t1", "sh", "-c", `echo $(id -u) $(id -g)`)
			cfg.User = tt.user
			if res, out := run(t, d, cfg); !res.Successful() || strings.TrimSpace(out) != tt.want {
				t.Errorf("id = %q (exit %+v), want %q", out, res, tt.want)
			}
		})
	}
	cfg := taskConfig(t, "t1", "true")
	cfg.User = "no-such-user-drover"
	if _, err := d.StartTask(cfg); err == nil || !strings.Contains(err.Error(), "no-such-user-drover") {
		t.Errorf("StartTask with an unknown user = %v", err)
	}
}

// capMask is the bitmask of the named capabilities.
func capMask(t *testing.T, names ...string) uint64 {
	t.Helper()
	s, err := parseCaps(names)
	if err != nil {
		t.Fatal(err)
	}
	var m uint64
	for c := range s {
		m |= 1 << c
	}
	return m
}

// A root task holds exactly its capability set (Nomad's defaults, changed
// by cap_add and cap_drop); a nobody task holds none, bounded the same.
func TestCapabilities(t *testing.T) {
	d := newDriver(t)
	if err := d.SetConfig([]byte(`{"allow_caps":["all"]}`)); err != nil {
		t.Fatal(err)
	}
	defaults := capMask(t, DefaultCaps...)
	for _, tt := range []struct {
		name          string
		user          string
		add, drop     []string
		bounding, eff uint64
	}{
		{"root defaults", "root", nil, nil, defaults, defaults},
		{"nobody defaults", "", nil, nil, defaults, 0},
		{"root drop all add two", "root", []string{"chown", "CAP_NET_RAW"}, []string{"all"}, capMask(t, "chown", "net_raw"), capMask(t, "chown", "net_raw")},
		{"root drop one", "root", nil, []string{"kill"}, defaults &^ capMask(t, "kill"), defaults &^ capMask(t, "kill")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := withConfig(t, taskConfig(t, "t1", ""), TaskConfig{
				Command: "/bin/sh", Args: []string{"-c", `grep -E '^Cap(Bnd|Eff):' /proc/self/status`},
				CapAdd: tt.add, CapDrop: tt.drop,
			})
			cfg.User = tt.user
			res, out := run(t, d, cfg)
			if !res.Successful() {
				t.Fatalf("exit = %+v", res)
			}
			var eff, bnd uint64
			if _, err := fmt.Sscanf(out, "CapEff:\t%x\nCapBnd:\t%x\n", &eff, &bnd); err != nil {
				t.Fatalf("parse %q: %v", out, err)
			}
			if bnd != tt.bounding || eff != tt.eff {
				t.Errorf("CapBnd %x CapEff %x, want %x %x", bnd, eff, tt.bounding, tt.eff)
			}
		})
	}
}

// Commands are found in /local first, then the task dir, then PATH,
// all inside the task's root.
func TestCommandLookup(t *testing.T) {
	d := newDriver(t)
	cfg := taskConfig(t, "t1", "true")
	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "local", "true"), []byte("#!/bin/sh\necho from local\nexit 4\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if res, out := run(t, d, cfg); res.ExitCode != 4 || out != "from local\n" {
		t.Errorf("local/true: exit %+v, stdout %q", res, out)
	}

	cfg = taskConfig(t, "t2", "local/run.sh")
	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "local", "run.sh"), []byte("#!/bin/sh\nexit 5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if res, _ := run(t, d, cfg); res.ExitCode != 5 {
		t.Errorf("local/run.sh: exit %+v, want 5", res)
	}

	// A host path outside the chroot does not exist for the task.
	exe, _ := os.Executable()
	for _, command := range []string{"no-such-command-drover", exe} {
		cfg = taskConfig(t, "t3", command)
		_, err := d.StartTask(cfg)
		if err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("StartTask(%s) = %v, want not found", command, err)
		}
		if _, err := d.InspectTask("t3"); err == nil {
			t.Errorf("failed task %s is still known", command)
		}
		h, err := cgroups.Detect()
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range h.Group("t3").Dirs {
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("failed task's cgroup %s left behind: %v", dir, err)
			}
		}
	}
}

// cgroupDir is the task's cgroup directory for controller (v1) or its one
// directory (v2), from InspectTask.
func cgroupDir(t *testing.T, d *Driver, id, controller string) (string, int) {
	t.Helper()
	st, err := d.InspectTask(id)
	if err != nil {
		t.Fatal(err)
	}
	if dir, ok := st.DriverAttributes["cgroup.unified"]; ok {
		return dir, 2
	}
	dir, ok := st.DriverAttributes["cgroup."+controller]
	if !ok {
		t.Fatalf("no cgroup.%s attribute in %v", controller, st.DriverAttributes)
	}
	return dir, 1
}

// The task's cgroup holds its CPU share and memory limits, and the task
// itself (checked from inside, through /proc/self/cgroup).
func TestCgroupLimits(t *testing.T) {
	d := newDriver(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `cat /proc/self/cgroup; while [ ! -e /local/go ]; do sleep 0.02; done`)
	cfg.CPUMHz, cfg.MemoryMB, cfg.MemoryMaxMB = 500, 64, 128
	start(t, d, cfg)
	// Inside, /proc/self/cgroup shows the task's own cgroup (there is no
	// cgroup namespace): the task was in it before its command ran.
	eventually(t, "task output", func() bool { return strings.Contains(readFile(cfg.StdoutPath+".0"), "/t1\n") })
	if out := readFile(cfg.StdoutPath + ".0"); !strings.Contains(out, "/drover/t1\n") && !strings.Contains(out, "/drover.slice/t1\n") {
		t.Errorf("task's /proc/self/cgroup:\n%s", out)
	}

	cpuDir, version := cgroupDir(t, d, "t1", "cpu")
	memDir, _ := cgroupDir(t, d, "t1", "memory")
	want := map[string]string{}
	if version == 1 {
		want[filepath.Join(cpuDir, "cpu.shares")] = "500"
		want[filepath.Join(memDir, "memory.limit_in_bytes")] = strconv.Itoa(128 << 20)
		want[filepath.Join(memDir, "memory.soft_limit_in_bytes")] = strconv.Itoa(64 << 20)
	} else {
		want[filepath.Join(cpuDir, "cpu.weight")] = "19"
		want[filepath.Join(memDir, "memory.max")] = strconv.Itoa(128 << 20)
		want[filepath.Join(memDir, "memory.low")] = strconv.Itoa(64 << 20)
	}
	for path, v := range want {
		if got := strings.TrimSpace(readFile(path)); got != v {
			t.Errorf("%s = %q, want %q", path, got, v)
		}
	}
	if strings.TrimSpace(readFile(filepath.Join(memDir, "cgroup.procs"))) == "" {
		t.Errorf("task's cgroup %s has no processes", memDir)
	}
	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "local", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := waitTask(t, d, "t1"); !res.Successful() {
		t.Errorf("exit = %+v", res)
	}
	if err := d.DestroyTask("t1", false); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{cpuDir, memDir} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("cgroup %s left after DestroyTask: %v", dir, err)
		}
	}
}

// A task that allocates well past its memory limit is killed by the
// kernel, and reported OOM killed.
func TestMemoryLimitOOMKill(t *testing.T) {
	d := newDriver(t)
	// tail buffers all of a file without newlines: 200 MB here.
	cfg := taskConfig(t, "t1", "sh", "-c", `head -c 200m /dev/zero | tail`)
	cfg.MemoryMB = 32
	res, out := run(t, d, cfg)
	if !res.OOMKilled || res.Successful() {
		t.Errorf("exit = %+v, stdout %q: want an OOM kill", res, out)
	}

	// The same task within its limit is not.
	cfg = taskConfig(t, "t2", "sh", "-c", `head -c 1m /dev/zero | tail -c 1 | wc -c`)
	cfg.MemoryMB = 32
	if res, out := run(t, d, cfg); res.OOMKilled || !res.Successful() || strings.TrimSpace(out) != "1" {
		t.Errorf("small task: exit %+v, stdout %q", res, out)
	}
}

// With memory_max (oversubscription) the hard limit is memory_max, and
// memory only the reservation: a task may use more than memory, up to
// memory_max, and is OOM killed past memory_max. dd reads into one buffer
// of bs bytes, so it needs that much memory at once.
func TestMemoryMaxOversubscription(t *testing.T) {
	d := newDriver(t)
	for _, tt := range []struct {
		name      string
		block     string
		memory    int64
		memoryMax int64
		oom       bool
	}{
		{"above memory, below memory_max", "64M", 32, 128, false},
		{"above memory_max", "128M", 32, 64, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := taskConfig(t, "t-"+tt.block, "dd", "if=/dev/zero", "of=/dev/null", "bs="+tt.block, "count=1")
			cfg.MemoryMB, cfg.MemoryMaxMB = tt.memory, tt.memoryMax
			res, _ := run(t, d, cfg)
			if res.OOMKilled != tt.oom || res.Successful() == tt.oom {
				t.Errorf("exit = %+v, stderr %q: want OOM killed %v", res, readFile(cfg.StderrPath+".0"), tt.oom)
			}
		})
	}
}
