// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package cgroups

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// createV1 makes the task's directory in the cpu and memory hierarchies
// and writes cpu.shares and the memory limits.
func (g *Group) createV1(res Resources) error {
	for _, c := range requiredControllers {
		dir, ok := g.Dirs[c]
		if !ok {
			return fmt.Errorf("cgroup v1 controller %q not mounted", c)
		}
		if err := mkdirGroup(dir); err != nil {
			return err
		}
	}
	if res.CPUShares > 0 {
		if err := writeFile(g.Dirs["cpu"], "cpu.shares", strconv.FormatUint(max(res.CPUShares, 2), 10)); err != nil {
			return err
		}
	}
	mem := g.Dirs["memory"]
	if hard := res.hardLimit(); hard > 0 {
		if err := writeFile(mem, "memory.limit_in_bytes", strconv.FormatInt(hard, 10)); err != nil {
			return err
		}
		// With swap accounting, the memory+swap limit must match too, or the
		// task swaps instead of being OOM killed. It is written after the
		// memory limit: the kernel wants memsw >= memory at every step.
		if exists(mem, "memory.memsw.limit_in_bytes") {
			if err := writeFile(mem, "memory.memsw.limit_in_bytes", strconv.FormatInt(hard, 10)); err != nil {
				return err
			}
		}
	}
	if soft := res.softLimit(); soft > 0 {
		if err := writeFile(mem, "memory.soft_limit_in_bytes", strconv.FormatInt(soft, 10)); err != nil {
			return err
		}
	}
	if len(res.Cores) > 0 {
		return g.createCpusetV1(res.Cores)
	}
	return nil
}

// createV2 enables the cpu and memory controllers down to the task's
// directory, creates it, and writes cpu.weight and the memory limits.
func (g *Group) createV2(res Resources) error {
	dir, ok := g.Dirs[unifiedKey]
	if !ok {
		return fmt.Errorf("cgroup v2 group has no directory")
	}
	parent := filepath.Dir(dir)
	root := filepath.Dir(parent)
	if err := writeFile(root, "cgroup.subtree_control", "+cpu +memory"); err != nil {
		return err
	}
	if err := mkdirGroup(dir); err != nil {
		return err
	}
	if err := writeFile(parent, "cgroup.subtree_control", "+cpu +memory"); err != nil {
		return err
	}
	if res.CPUShares > 0 {
		if err := writeFile(dir, "cpu.weight", strconv.FormatUint(SharesToWeight(res.CPUShares), 10)); err != nil {
			return err
		}
	}
	if hard := res.hardLimit(); hard > 0 {
		if err := writeFile(dir, "memory.max", strconv.FormatInt(hard, 10)); err != nil {
			return err
		}
		if exists(dir, "memory.swap.max") {
			if err := writeFile(dir, "memory.swap.max", "0"); err != nil {
				return err
			}
		}
	}
	if soft := res.softLimit(); soft > 0 {
		if err := writeFile(dir, "memory.low", strconv.FormatInt(soft, 10)); err != nil {
			return err
		}
	}
	if len(res.Cores) > 0 {
		return pinCoresV2(dir, res.Cores)
	}
	return nil
}

// SharesToWeight maps v1 cpu.shares (2..262144, default 1024) onto v2
// cpu.weight (1..10000, default 100) linearly, as container runtimes do.
func SharesToWeight(shares uint64) uint64 {
	shares = min(max(shares, 2), 262144)
	return 1 + (shares-2)*9999/262142
}
