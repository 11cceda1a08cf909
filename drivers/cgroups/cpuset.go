// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package cgroups

// This file pins a task to the exclusive cores the scheduler gave it
// (`resources { cores }`) with the cpuset controller: on v1 a directory in
// the cpuset hierarchy beside the cpu and memory ones, on v2 cpuset.cpus in
// the task's one directory, with the controller enabled on the way down.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cpusetKey is the Group.Dirs key of a v1 group's cpuset directory.
const cpusetKey = "cpuset"

// GroupWithCores is Group for a task pinned to cores; with no cores it is
// Group. On v1 the group gets a cpuset directory too, so the task's
// processes join it wherever they join the others.
func (h *Hierarchy) GroupWithCores(name string, cores []uint16) (*Group, error) {
	g := h.Group(name)
	if len(cores) == 0 || h.Version != V1 {
		return g, nil
	}
	dir, ok := h.Controllers[cpusetKey]
	if !ok {
		return nil, fmt.Errorf("cgroup v1 controller %q not mounted: cannot pin cores %s", cpusetKey, cpuList(cores))
	}
	g.Dirs[cpusetKey] = filepath.Join(dir, parentV1, sanitize(name))
	return g, nil
}

// cpuList writes cores as cpuset.cpus accepts them ("0,2,3").
func cpuList(cores []uint16) string {
	s := make([]string, len(cores))
	for i, c := range cores {
		s[i] = strconv.Itoa(int(c))
	}
	return strings.Join(s, ",")
}

// createCpusetV1 makes the task's cpuset directory with the task's cores
// and its parent's memory nodes. A new v1 cpuset starts with no cpus and
// no mems, and takes no process until both are set, so the shared "drover"
// parent is given its own parent's sets first.
func (g *Group) createCpusetV1(cores []uint16) error {
	dir, ok := g.Dirs[cpusetKey]
	if !ok {
		return fmt.Errorf("cannot pin cores %s: the group was not made by GroupWithCores", cpuList(cores))
	}
	parent := filepath.Dir(dir)
	if err := mkdirGroup(dir); err != nil {
		return err
	}
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		if err := inheritCpuset(parent, f); err != nil {
			return err
		}
	}
	mems, err := os.ReadFile(filepath.Join(parent, "cpuset.mems"))
	if err != nil {
		return fmt.Errorf("read cpuset memory nodes: %w", err)
	}
	if err := writeFile(dir, "cpuset.cpus", cpuList(cores)); err != nil {
		return err
	}
	return writeFile(dir, "cpuset.mems", strings.TrimSpace(string(mems)))
}

// inheritCpuset copies the cpuset file name from dir's parent into dir
// when dir's is still empty.
func inheritCpuset(dir, name string) error {
	cur, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if strings.TrimSpace(string(cur)) != "" {
		return nil
	}
	up, err := os.ReadFile(filepath.Join(filepath.Dir(dir), name))
	if err != nil {
		return fmt.Errorf("read parent %s: %w", name, err)
	}
	return writeFile(dir, name, strings.TrimSpace(string(up)))
}

// pinCoresV2 enables the cpuset controller from the root down to the
// task's directory, which exists, and writes the task's cores.
func pinCoresV2(dir string, cores []uint16) error {
	parent := filepath.Dir(dir)
	for _, d := range []string{filepath.Dir(parent), parent} {
		if err := writeFile(d, "cgroup.subtree_control", "+cpuset"); err != nil {
			return err
		}
	}
	return writeFile(dir, "cpuset.cpus", cpuList(cores))
}
