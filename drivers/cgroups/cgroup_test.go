// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const hybridMountinfo = `22 27 0:21 / /proc rw,relatime - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

const hybridSelf = `8:pids:/
4:memory:/process_api/abc
1:cpu,cpuacct:/
0::/
`

const unifiedMountinfo = `22 27 0:21 / /proc rw,relatime - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
`

// In a container, a v1 hierarchy's mount root is the container's cgroup.
const containerMountinfo = `35 31 0:32 /docker/c1 /sys/fs/cgroup/memory ro,relatime - cgroup cgroup rw,memory
36 31 0:29 /docker/c1 /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
`

const containerSelf = `4:memory:/docker/c1/sub
1:cpu:/docker/c1
`

func TestParseHierarchy(t *testing.T) {
	for _, tt := range []struct {
		name, mountinfo, self string
		want                  Hierarchy
	}{
		{"hybrid", hybridMountinfo, hybridSelf, Hierarchy{Version: V1, Controllers: map[string]string{
			"cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
			"memory": "/sys/fs/cgroup/memory/process_api/abc", "pids": "/sys/fs/cgroup/pids",
		}}},
		{"unified", unifiedMountinfo, "0::/user.slice\n", Hierarchy{Version: V2, Root: "/sys/fs/cgroup"}},
		{"container v1", containerMountinfo, containerSelf, Hierarchy{Version: V1, Controllers: map[string]string{
			"memory": "/sys/fs/cgroup/memory/sub", "cpu": "/sys/fs/cgroup/cpu",
		}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := parseHierarchy(tt.mountinfo, tt.self)
			if err != nil {
				t.Fatal(err)
			}
			if h.Version != tt.want.Version || h.Root != tt.want.Root || len(h.Controllers) != len(tt.want.Controllers) {
				t.Fatalf("hierarchy = %+v, want %+v", h, tt.want)
			}
			for c, dir := range tt.want.Controllers {
				if h.Controllers[c] != dir {
					t.Errorf("controller %s at %q, want %q", c, h.Controllers[c], dir)
				}
			}
		})
	}
	if _, err := parseHierarchy("22 27 0:21 / /proc rw - proc proc rw\n", ""); err == nil {
		t.Error("no cgroup mounts: no error")
	}
}

func TestGroupPaths(t *testing.T) {
	h1 := &Hierarchy{Version: V1, Controllers: map[string]string{"cpu": "/cg/cpu", "memory": "/cg/memory/own", "pids": "/cg/pids"}}
	g := h1.Group("alloc-1/web/x9")
	if len(g.Dirs) != 2 || g.Dirs["cpu"] != "/cg/cpu/drover/alloc-1.web.x9" || g.Dirs["memory"] != "/cg/memory/own/drover/alloc-1.web.x9" {
		t.Errorf("v1 group dirs = %v", g.Dirs)
	}
	h2 := &Hierarchy{Version: V2, Root: "/cg"}
	if g := h2.Group("../../etc"); g.Dirs["unified"] != "/cg/drover.slice/etc" {
		t.Errorf("v2 group dir for a hostile name = %v", g.Dirs)
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"a/b/c": "a.b.c", "../../etc": "etc", "": "task", "..": "task", "x y": "x.y",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

// The v2 code path writes the right files, checked on a fake hierarchy
// (a plain directory) since the test host may be v1.
func TestCreateV2Files(t *testing.T) {
	root := t.TempDir()
	h := &Hierarchy{Version: V2, Root: root}
	g := h.Group("a1/web/r")
	dir := g.Dirs["unified"]
	// Swap accounting exists on this fake host.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "memory.swap.max"), []byte("max"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := g.Create(Resources{CPUShares: 1024, MemoryBytes: 64 << 20, MemoryMaxBytes: 128 << 20}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(root, "cgroup.subtree_control"):                 "+cpu +memory",
		filepath.Join(root, "drover.slice", "cgroup.subtree_control"): "+cpu +memory",
		filepath.Join(dir, "cpu.weight"):                              "39",
		filepath.Join(dir, "memory.max"):                              "134217728",
		filepath.Join(dir, "memory.low"):                              "67108864",
		filepath.Join(dir, "memory.swap.max"):                         "0",
	} {
		if got := readFile(t, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if err := g.AddProc(42); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "cgroup.procs")); got != "42" {
		t.Errorf("cgroup.procs = %q", got)
	}

	// Without MemoryMaxBytes the memory limit is the hard one, and no
	// reservation is set.
	g2 := h.Group("a1/web/s")
	if err := g2.Create(Resources{MemoryBytes: 32 << 20}); err != nil {
		t.Fatal(err)
	}
	d2 := g2.Dirs["unified"]
	if got := readFile(t, filepath.Join(d2, "memory.max")); got != "33554432" {
		t.Errorf("memory.max = %q", got)
	}
	for _, f := range []string{"memory.low", "cpu.weight", "memory.swap.max"} {
		if _, err := os.Stat(filepath.Join(d2, f)); err == nil {
			t.Errorf("%s written without a value to write", f)
		}
	}
}

func TestCreateV1Files(t *testing.T) {
	root := t.TempDir()
	h := &Hierarchy{Version: V1, Controllers: map[string]string{"cpu": filepath.Join(root, "cpu"), "memory": filepath.Join(root, "memory", "own")}}
	g := h.Group("t")
	if err := os.MkdirAll(g.Dirs["memory"], 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(g.Dirs["memory"], "memory.memsw.limit_in_bytes"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := g.Create(Resources{CPUShares: 1, MemoryBytes: 64 << 20, MemoryMaxBytes: 96 << 20}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(g.Dirs["cpu"], "cpu.shares"):                     "2",
		filepath.Join(g.Dirs["memory"], "memory.limit_in_bytes"):       "100663296",
		filepath.Join(g.Dirs["memory"], "memory.memsw.limit_in_bytes"): "100663296",
		filepath.Join(g.Dirs["memory"], "memory.soft_limit_in_bytes"):  "67108864",
	} {
		if got := readFile(t, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if err := (&Hierarchy{Version: V1, Controllers: map[string]string{"cpu": root}}).Group("t").Create(Resources{}); err == nil {
		t.Error("created a v1 group without a memory controller")
	}
}

func TestOOMKilled(t *testing.T) {
	for _, tt := range []struct {
		version    int
		file, body string
		want       bool
		err        bool
	}{
		{V1, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", false, false},
		{V1, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", true, false},
		{V2, "memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n", true, false},
		{V2, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n", false, false},
		{V2, "memory.events", "low 0\n", false, true},
	} {
		dir := t.TempDir()
		g := &Group{Version: tt.version, Dirs: map[string]string{"memory": dir, "unified": dir}}
		if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.body), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := g.OOMKilled()
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("v%d %q: OOMKilled = %v, %v; want %v (error %v)", tt.version, tt.body, got, err, tt.want, tt.err)
		}
	}
}

func TestSharesToWeight(t *testing.T) {
	for shares, want := range map[uint64]uint64{0: 1, 2: 1, 1024: 39, 262144: 10000, 1 << 30: 10000} {
		if got := SharesToWeight(shares); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}

// On the real host: create a group, put a process in it, kill it through
// the group, remove it.
func TestRealGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("cgroup tests need root: run them as root, as CI does")
	}
	h, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Check(); err != nil {
		t.Fatal(err)
	}
	g := h.Group("drover-cgroup-test/" + t.Name())
	if err := g.Create(Resources{CPUShares: 300, MemoryBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.KillAll(5 * time.Second); g.Remove() })
	p, err := os.StartProcess("/bin/sleep", []string{"sleep", "60"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.AddProc(p.Pid); err != nil {
		t.Fatal(err)
	}
	if pids, err := g.Procs(); err != nil || len(pids) != 1 || pids[0] != p.Pid {
		t.Errorf("Procs = %v, %v; want [%d]", pids, err, p.Pid)
	}
	if oom, err := g.OOMKilled(); err != nil || oom {
		t.Errorf("OOMKilled = %v, %v", oom, err)
	}
	go p.Wait() // reap, so the kernel forgets it
	if err := g.KillAll(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := g.Remove(); err != nil {
		t.Fatal(err)
	}
	for _, dir := range g.Dirs {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s still exists: %v", dir, err)
		}
		if !strings.Contains(dir, "drover") {
			t.Errorf("group dir %s is not under a drover parent", dir)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
	}
	return string(b)
}
