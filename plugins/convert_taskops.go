// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import "github.com/droverhq/drover/plugins/proto"

// Conversions for the TaskOperations messages; nil in, nil out.

func usageToProto(u *TaskResourceUsage) *proto.TaskStatsResponse {
	if u == nil {
		return &proto.TaskStatsResponse{}
	}
	out := &proto.TaskStatsResponse{
		ResourceUsage:      resourceUsageToProto(u.ResourceUsage),
		TimestampUnixNanos: u.Timestamp,
	}
	if u.Pids != nil {
		out.Pids = make(map[string]*proto.ResourceUsage, len(u.Pids))
		for pid, ru := range u.Pids {
			out.Pids[pid] = resourceUsageToProto(ru)
		}
	}
	return out
}

func usageFromProto(p *proto.TaskStatsResponse) *TaskResourceUsage {
	out := &TaskResourceUsage{
		ResourceUsage: resourceUsageFromProto(p.ResourceUsage),
		Timestamp:     p.TimestampUnixNanos,
	}
	if p.Pids != nil {
		out.Pids = make(map[string]*ResourceUsage, len(p.Pids))
		for pid, ru := range p.Pids {
			out.Pids[pid] = resourceUsageFromProto(ru)
		}
	}
	return out
}

func resourceUsageToProto(r *ResourceUsage) *proto.ResourceUsage {
	if r == nil {
		return nil
	}
	out := &proto.ResourceUsage{}
	if m := r.MemoryStats; m != nil {
		out.MemoryStats = &proto.MemoryStats{
			Rss: m.RSS, Cache: m.Cache, Swap: m.Swap, Usage: m.Usage, MaxUsage: m.MaxUsage,
			KernelUsage: m.KernelUsage, KernelMaxUsage: m.KernelMaxUsage, Measured: m.Measured,
		}
	}
	if c := r.CpuStats; c != nil {
		out.CpuStats = &proto.CpuStats{
			SystemMode: c.SystemMode, UserMode: c.UserMode, TotalTicks: c.TotalTicks,
			ThrottledPeriods: c.ThrottledPeriods, ThrottledTime: c.ThrottledTime,
			Percent: c.Percent, Measured: c.Measured,
		}
	}
	return out
}

func resourceUsageFromProto(p *proto.ResourceUsage) *ResourceUsage {
	if p == nil {
		return nil
	}
	out := &ResourceUsage{}
	if m := p.MemoryStats; m != nil {
		out.MemoryStats = &MemoryStats{
			RSS: m.Rss, Cache: m.Cache, Swap: m.Swap, Usage: m.Usage, MaxUsage: m.MaxUsage,
			KernelUsage: m.KernelUsage, KernelMaxUsage: m.KernelMaxUsage, Measured: m.Measured,
		}
	}
	if c := p.CpuStats; c != nil {
		out.CpuStats = &CpuStats{
			SystemMode: c.SystemMode, UserMode: c.UserMode, TotalTicks: c.TotalTicks,
			ThrottledPeriods: c.ThrottledPeriods, ThrottledTime: c.ThrottledTime,
			Percent: c.Percent, Measured: c.Measured,
		}
	}
	return out
}
