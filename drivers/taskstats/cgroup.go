// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskstats

import (
	"time"

	"github.com/droverhq/drover/drivers/cgroups"
	"github.com/droverhq/drover/plugins"
)

// CgroupSampler returns a sample function for Stream that reads the
// task's cgroup: memory from its memory accounting, CPU from cpu.stat
// (v2) or cpuacct (v1), and each of its processes from /proc. Where v1
// has no cpuacct in the task's group, the task's CPU is the sum over the
// group's processes, which still counts every process of the task,
// however it detached.
func CgroupSampler(g *cgroups.Group) func(at time.Time) (*plugins.TaskResourceUsage, error) {
	var cpu CPU
	var procs Procs
	return func(at time.Time) (*plugins.TaskResourceUsage, error) {
		u, err := g.Stats()
		if err != nil {
			return nil, err
		}
		pids, err := g.Procs()
		if err != nil {
			return nil, err
		}
		list := make([]ProcStat, 0, len(pids))
		for _, pid := range pids {
			if st, err := ReadProc(pid); err == nil {
				list = append(list, st)
			}
		}
		perProc := procs.Sample(at, list)
		cs := perProc.ResourceUsage.CpuStats
		if u.HasCPU {
			cs = cpu.Sample(at, u.CPUUser, u.CPUSystem)
		}
		cs.ThrottledPeriods, cs.ThrottledTime = u.ThrottledPeriods, uint64(u.ThrottledTime)
		cs.Measured = append(cs.Measured, plugins.MeasuredThrottled)
		mem := &plugins.MemoryStats{
			RSS: u.RSS, Cache: u.Cache, Swap: u.Swap, Usage: u.MemUsage, MaxUsage: u.MemMaxUsage,
			Measured: []string{plugins.MeasuredRSS, plugins.MeasuredCache, plugins.MeasuredUsage},
		}
		if u.HasSwap {
			mem.Measured = append(mem.Measured, plugins.MeasuredSwap)
		}
		if u.HasMemMaxUsage {
			mem.Measured = append(mem.Measured, plugins.MeasuredMaxUsage)
		}
		return &plugins.TaskResourceUsage{
			ResourceUsage: &plugins.ResourceUsage{MemoryStats: mem, CpuStats: cs},
			Timestamp:     at.UnixNano(),
			Pids:          perProc.Pids,
		}, nil
	}
}
