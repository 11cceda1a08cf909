// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package cgroups puts the process-based drivers' tasks (exec, raw_exec)
// in cgroups of their own: to measure them, to kill everything a task
// started however it detached, and, for exec, to enforce CPU and memory
// limits. It works on both layouts a Linux host may have, chosen at run
// time by Detect:
//
//   - v1 (legacy or hybrid): one hierarchy per controller. A task gets a
//     directory in the cpu and the memory hierarchy, each nested under the
//     plugin's own cgroup of that hierarchy ("<own>/drover/<task>"), so the
//     limits a supervisor placed on the agent still bound its tasks.
//   - v2 (unified): one hierarchy. A task gets "<root>/drover.slice/<task>",
//     as Nomad uses "nomad.slice": v2 forbids enabling controllers below a
//     cgroup that holds processes, so tasks cannot nest under the plugin's
//     own (occupied) cgroup.
//
// A Group is plain data (JSON-encodable), so the driver keeps it in the
// task handle and a restarted plugin finds the task's cgroups again.
package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Cgroup versions.
const (
	V1 = 1
	V2 = 2
)

// Names of the parent cgroups under which tasks are created.
const (
	parentV1 = "drover"
	parentV2 = "drover.slice"
)

// unifiedKey is the one Group.Dirs key of a v2 group.
const unifiedKey = "unified"

// requiredControllers are the controllers every task group is made in.
var requiredControllers = []string{"cpu", "memory"}

// Resources are the limits to enforce on a task.
type Resources struct {
	// CPUShares is the task's relative CPU weight in v1 cpu.shares units
	// (Nomad uses the task's MHz); 0 leaves the kernel's default.
	CPUShares uint64
	// MemoryBytes is the memory limit. When MemoryMaxBytes is set too,
	// MemoryBytes is only a soft limit (v1 soft_limit, v2 memory.low) and
	// MemoryMaxBytes is the hard one. 0 means no limit.
	MemoryBytes    int64
	MemoryMaxBytes int64
	// Cores pins the task to these host cores (its exclusive `cores`);
	// none leaves it on every core. On v1 the group must come from
	// GroupWithCores.
	Cores []uint16
}

// hardLimit is the limit past which the task is OOM killed.
func (r Resources) hardLimit() int64 {
	if r.MemoryMaxBytes > r.MemoryBytes {
		return r.MemoryMaxBytes
	}
	return r.MemoryBytes
}

// softLimit is the reservation, set only when it differs from the hard
// limit.
func (r Resources) softLimit() int64 {
	if r.MemoryMaxBytes > r.MemoryBytes && r.MemoryBytes > 0 {
		return r.MemoryBytes
	}
	return 0
}

// Hierarchy is where this host keeps its cgroups, as seen from this
// process.
type Hierarchy struct {
	Version int
	// Root is the v2 mount point (usually /sys/fs/cgroup).
	Root string
	// Controllers maps each mounted v1 controller to this process's own
	// cgroup directory in that controller's hierarchy.
	Controllers map[string]string
}

// Detect finds the cgroup hierarchy from /proc/self/mountinfo and
// /proc/self/cgroup. A host with v1 cpu and memory controllers mounted is
// v1 (even if a controller-less v2 hierarchy is mounted beside them, as in
// hybrid mode); otherwise a mounted cgroup2 file system makes it v2.
func Detect() (*Hierarchy, error) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("detect cgroups: %w", err)
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("detect cgroups: %w", err)
	}
	return parseHierarchy(string(mi), string(own))
}

// parseHierarchy is Detect on the text of mountinfo and /proc/self/cgroup.
func parseHierarchy(mountinfo, ownCgroups string) (*Hierarchy, error) {
	// own maps each v1 controller to this process's cgroup path in it.
	own := map[string]string{}
	for _, line := range strings.Split(ownCgroups, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || parts[1] == "" {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}

	h := &Hierarchy{Controllers: map[string]string{}}
	var unified string
	for _, line := range strings.Split(mountinfo, "\n") {
		fields := strings.Fields(line)
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || len(fields) < sep+4 {
			continue
		}
		mountRoot, mountPoint := fields[3], unescapeMountPath(fields[4])
		fstype, superOpts := fields[sep+1], fields[sep+3]
		switch fstype {
		case "cgroup2":
			if unified == "" || mountPoint == "/sys/fs/cgroup" {
				unified = mountPoint
			}
		case "cgroup":
			for _, opt := range strings.Split(superOpts, ",") {
				path, ok := own[opt]
				if !ok {
					continue
				}
				rel := path
				if mountRoot != "/" {
					rel = strings.TrimPrefix(path, mountRoot)
				}
				h.Controllers[opt] = filepath.Join(mountPoint, rel)
			}
		}
	}
	_, cpu := h.Controllers["cpu"]
	_, mem := h.Controllers["memory"]
	switch {
	case cpu || mem:
		h.Version = V1
	case unified != "":
		h.Version, h.Root, h.Controllers = V2, unified, nil
	default:
		return nil, errors.New("detect cgroups: no cgroup file system is mounted")
	}
	return h, nil
}

// unescapeMountPath undoes mountinfo's octal escapes ("\040" for space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Check reports why the hierarchy cannot hold task groups, or nil.
func (h *Hierarchy) Check() error {
	switch h.Version {
	case V1:
		var missing []string
		for _, c := range requiredControllers {
			if _, ok := h.Controllers[c]; !ok {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("cgroup v1 controllers not mounted: %s", strings.Join(missing, ", "))
		}
	case V2:
		b, err := os.ReadFile(filepath.Join(h.Root, "cgroup.controllers"))
		if err != nil {
			return fmt.Errorf("cgroup v2: %w", err)
		}
		have := strings.Fields(string(b))
		for _, c := range requiredControllers {
			if !slices.Contains(have, c) {
				return fmt.Errorf("cgroup v2 controller %q not available in %s", c, h.Root)
			}
		}
	default:
		return fmt.Errorf("unknown cgroup version %d", h.Version)
	}
	return nil
}

// Group returns the (not yet created) cgroup for the task named name.
func (h *Hierarchy) Group(name string) *Group {
	name = sanitize(name)
	g := &Group{Version: h.Version, Dirs: map[string]string{}}
	if h.Version == V2 {
		g.Dirs[unifiedKey] = filepath.Join(h.Root, parentV2, name)
		return g
	}
	for _, c := range requiredControllers {
		if dir, ok := h.Controllers[c]; ok {
			g.Dirs[c] = filepath.Join(dir, parentV1, name)
		}
	}
	return g
}

// sanitize turns a task ID ("alloc/task/random") into one path element.
func sanitize(name string) string {
	b := []byte(name)
	for i, c := range b {
		ok := c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			b[i] = '.'
		}
	}
	s := strings.Trim(string(b), ".")
	if s == "" {
		s = "task"
	}
	return s
}

// Group is one task's cgroup: a directory per controller on v1, a single
// directory on v2.
type Group struct {
	Version int               `json:"version"`
	Dirs    map[string]string `json:"dirs"`
}

// Create makes the group's directories and writes its limits.
func (g *Group) Create(res Resources) error {
	var err error
	if g.Version == V2 {
		err = g.createV2(res)
	} else {
		err = g.createV1(res)
	}
	if err != nil {
		return fmt.Errorf("create cgroup: %w", err)
	}
	return nil
}

// AddProc moves process pid into the group.
func (g *Group) AddProc(pid int) error {
	for _, dir := range g.Dirs {
		if err := writeFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("add process %d to cgroup: %w", pid, err)
		}
	}
	return nil
}

// OOMKilled reports whether the kernel's OOM killer has killed a process of
// the group: v1 memory.oom_control's, v2 memory.events' oom_kill counter.
func (g *Group) OOMKilled() (bool, error) {
	var path string
	if g.Version == V2 {
		path = filepath.Join(g.Dirs[unifiedKey], "memory.events")
	} else {
		path = filepath.Join(g.Dirs["memory"], "memory.oom_control")
	}
	n, err := readCounter(path, "oom_kill")
	if err != nil {
		return false, fmt.Errorf("read OOM kills: %w", err)
	}
	return n > 0, nil
}

// procsDir is the directory whose cgroup.procs lists every process of the
// group.
func (g *Group) procsDir() string {
	if g.Version == V2 {
		return g.Dirs[unifiedKey]
	}
	return g.Dirs["memory"]
}

// Procs lists the processes in the group, never this one: under cgroup
// v1 a process is listed while any of its threads is in the group, and
// StartCommand's throwaway thread is, until it exits (a KillAll then
// would kill the plugin itself).
func (g *Group) Procs() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(g.procsDir(), "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("list cgroup processes: %w", err)
	}
	self := os.Getpid()
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil && pid != self {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// KillAll SIGKILLs every process in the group until it is empty or timeout
// passes: a task in the host PID namespace may have left processes that
// escaped its process group.
func (g *Group) KillAll(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pids, err := g.Procs()
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: %d processes still running after SIGKILL", g.procsDir(), len(pids))
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Remove deletes the group's (empty) directories, then the shared parent
// if no other task uses it any more. A group already gone is no error.
func (g *Group) Remove() error {
	var errs []error
	for _, dir := range g.Dirs {
		if err := rmdir(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		// Best effort: the parent is busy while other tasks run.
		syscall.Rmdir(filepath.Dir(dir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove cgroup: %w", err)
	}
	return nil
}

// rmdir removes a cgroup directory, retrying while the kernel still counts
// processes that were just killed.
func rmdir(dir string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := syscall.Rmdir(dir)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("rmdir %s: %w", dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mkdirGroup creates dir, recreating its parent if a concurrent Remove of
// another task deleted it in between.
func mkdirGroup(dir string) error {
	for range 3 {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return err
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil || errors.Is(err, os.ErrExist) {
			return nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return fmt.Errorf("mkdir %s: parent keeps disappearing", dir)
}

// writeFile writes one cgroup control file.
func writeFile(dir, name, value string) error {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, err)
	}
	return nil
}

// exists reports whether a control file exists (the kernel may lack a
// feature, such as swap accounting).
func exists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// readCounter reads the value of key from a flat-keyed control file
// ("key value" per line).
func readCounter(path, key string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && fields[0] == key {
			return strconv.ParseUint(fields[1], 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: no %q counter", path, key)
}
