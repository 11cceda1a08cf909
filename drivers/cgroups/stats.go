// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Usage is what a group's control files say about its resource use.
// Memory is in bytes; CPU times are cumulative since the group was made.
type Usage struct {
	RSS, Cache, Swap, MemUsage, MemMaxUsage uint64
	// HasCPU is false when the group has no CPU accounting (a v1 host
	// whose cpuacct controller is not mounted with cpu): the caller then
	// measures the group's processes instead.
	HasCPU                  bool
	CPUUser, CPUSystem      time.Duration
	ThrottledPeriods        uint64
	ThrottledTime           time.Duration
	HasSwap, HasMemMaxUsage bool
}

// Stats reads the group's memory and CPU accounting: memory.stat,
// memory.current/usage_in_bytes and cpu.stat (v2) or cpuacct.stat (v1).
func (g *Group) Stats() (Usage, error) {
	if g.Version == V2 {
		return g.statsV2()
	}
	return g.statsV1()
}

func (g *Group) statsV2() (Usage, error) {
	dir := g.Dirs[unifiedKey]
	var u Usage
	stat, err := readKeyed(filepath.Join(dir, "memory.stat"))
	if err != nil {
		return u, fmt.Errorf("cgroup stats: %w", err)
	}
	u.RSS, u.Cache = stat["anon"], stat["file"]
	if u.MemUsage, err = readUint(filepath.Join(dir, "memory.current")); err != nil {
		return u, fmt.Errorf("cgroup stats: %w", err)
	}
	if n, err := readUint(filepath.Join(dir, "memory.swap.current")); err == nil {
		u.Swap, u.HasSwap = n, true
	}
	if n, err := readUint(filepath.Join(dir, "memory.peak")); err == nil {
		u.MemMaxUsage, u.HasMemMaxUsage = n, true
	}
	cpu, err := readKeyed(filepath.Join(dir, "cpu.stat"))
	if err != nil {
		return u, fmt.Errorf("cgroup stats: %w", err)
	}
	u.HasCPU = true
	u.CPUUser = time.Duration(cpu["user_usec"]) * time.Microsecond
	u.CPUSystem = time.Duration(cpu["system_usec"]) * time.Microsecond
	u.ThrottledPeriods = cpu["nr_throttled"]
	u.ThrottledTime = time.Duration(cpu["throttled_usec"]) * time.Microsecond
	return u, nil
}

// userHZ is the unit of cpuacct.stat (USER_HZ, 100 on Linux).
const userHZ = 10 * time.Millisecond

func (g *Group) statsV1() (Usage, error) {
	mem := g.Dirs["memory"]
	var u Usage
	stat, err := readKeyed(filepath.Join(mem, "memory.stat"))
	if err != nil {
		return u, fmt.Errorf("cgroup stats: %w", err)
	}
	// total_* include descendant groups; this group has none, but the
	// kernel only guarantees the total_ keys on hierarchical accounting.
	u.RSS, u.Cache = stat["total_rss"], stat["total_cache"]
	if n, ok := stat["total_swap"]; ok {
		u.Swap, u.HasSwap = n, true
	}
	if u.MemUsage, err = readUint(filepath.Join(mem, "memory.usage_in_bytes")); err != nil {
		return u, fmt.Errorf("cgroup stats: %w", err)
	}
	if n, err := readUint(filepath.Join(mem, "memory.max_usage_in_bytes")); err == nil {
		u.MemMaxUsage, u.HasMemMaxUsage = n, true
	}
	if cpu := g.Dirs["cpu"]; cpu != "" {
		if th, err := readKeyed(filepath.Join(cpu, "cpu.stat")); err == nil {
			u.ThrottledPeriods = th["nr_throttled"]
			u.ThrottledTime = time.Duration(th["throttled_time"])
		}
		// cpuacct is only there when mounted together with cpu.
		if acct, err := readKeyed(filepath.Join(cpu, "cpuacct.stat")); err == nil {
			u.HasCPU = true
			u.CPUUser = time.Duration(acct["user"]) * userHZ
			u.CPUSystem = time.Duration(acct["system"]) * userHZ
		}
	}
	return u, nil
}

// readKeyed reads a flat-keyed control file ("key value" per line).
func readKeyed(path string) (map[string]uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if n, err := strconv.ParseUint(f[1], 10, 64); err == nil {
			out[f[0]] = n
		}
	}
	return out, nil
}

// readUint reads a single-value control file ("max" is not a number and
// is an error).
func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, errors.Join(fmt.Errorf("read %s", path), err)
	}
	return n, nil
}
