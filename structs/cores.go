// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// This file holds the model of exclusive CPU cores (`resources { cores }`):
// the kernel's cpu list notation ("0-3,8") used by the fingerprint, the
// client configuration, cgroup cpusets and NOMAD_CPU_CORES, and CoreUsage,
// which cores of a node are taken. The scheduler and the plan applier both
// build a CoreUsage, so two allocations never hold the same core even when
// two schedulers worked from stale snapshots.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// DimensionCores is the placement metric dimension of a node without
// enough free cores, as Nomad names it.
const DimensionCores = "cores"

// ParseCPUList parses the kernel's cpu list notation ("0-3,8,10-11", as in
// cpuset.cpus and /sys/devices/system/cpu/online) into sorted, distinct
// core IDs. Blanks around items are ignored; the empty list is valid.
func ParseCPUList(s string) ([]uint16, error) {
	set := map[uint16]bool{}
	for item := range strings.SplitSeq(strings.TrimSpace(s), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: bad core %q", s, item)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 16); err != nil {
				return nil, fmt.Errorf("cpu list %q: bad range %q", s, item)
			}
			if b < a {
				return nil, fmt.Errorf("cpu list %q: range %q runs backwards", s, item)
			}
		}
		for c := a; c <= b; c++ {
			set[uint16(c)] = true
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// FormatCPUList writes cores in the kernel's cpu list notation, runs of
// consecutive cores as ranges ("0-2,7"): what cpuset.cpus accepts and
// what Nomad puts in NOMAD_CPU_CORES.
func FormatCPUList(cores []uint16) string {
	cs := slices.Clone(cores)
	slices.Sort(cs)
	cs = slices.Compact(cs)
	var b strings.Builder
	for i := 0; i < len(cs); {
		j := i
		for j+1 < len(cs) && cs[j+1] == cs[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(cs[i])))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(cs[j])))
		}
		i = j + 1
	}
	return b.String()
}

// ReservableCores is the cores of n that `cores` tasks may hold: the
// fingerprinted reservable cores less those the client reserves for the
// host, sorted.
func (n *Node) ReservableCores() []uint16 {
	if n == nil || n.NodeResources == nil {
		return nil
	}
	var reserved []uint16
	if n.ReservedResources != nil {
		reserved = n.ReservedResources.Cpu.ReservedCpuCores
	}
	out := make([]uint16, 0, len(n.NodeResources.Cpu.ReservableCpuCores))
	for _, c := range n.NodeResources.Cpu.ReservableCpuCores {
		if !slices.Contains(reserved, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// MHzPerCore is the node's clock per core, what one exclusive core counts
// against its CPU; 0 when the node did not report its cores.
func (n *Node) MHzPerCore() int64 {
	if n == nil || n.NodeResources == nil || n.NodeResources.Cpu.TotalCpuCores == 0 {
		return 0
	}
	return n.NodeResources.Cpu.CpuShares / int64(n.NodeResources.Cpu.TotalCpuCores)
}

// AllocReservedCores lists the cores an allocation's tasks hold.
func AllocReservedCores(ar *AllocatedResources) []uint16 {
	if ar == nil {
		return nil
	}
	var out []uint16
	for _, name := range slices.Sorted(maps.Keys(ar.Tasks)) {
		if t := ar.Tasks[name]; t != nil {
			out = append(out, t.Cpu.ReservedCores...)
		}
	}
	return out
}

// CoreUsage is which of a node's reservable cores are taken.
type CoreUsage struct {
	reservable []uint16 // sorted
	used       map[uint16]bool
}

// NewCoreUsage starts the usage of node n with every reservable core free.
func NewCoreUsage(n *Node) *CoreUsage {
	return &CoreUsage{reservable: n.ReservableCores(), used: map[uint16]bool{}}
}

// Free lists the reservable cores nobody holds, lowest first.
func (u *CoreUsage) Free() []uint16 {
	var out []uint16
	for _, c := range u.reservable {
		if !u.used[c] {
			out = append(out, c)
		}
	}
	return out
}

// Take marks cores held.
func (u *CoreUsage) Take(cores []uint16) {
	for _, c := range cores {
		u.used[c] = true
	}
}

// AddAlloc marks the cores of a held. It returns false when one of them
// was held already or is not reservable on the node, having still marked
// them all, so a caller loading existing allocations may ignore it.
func (u *CoreUsage) AddAlloc(a *Allocation) bool {
	ok := true
	for _, c := range AllocReservedCores(a.AllocatedResources) {
		if u.used[c] {
			ok = false
		}
		if _, found := slices.BinarySearch(u.reservable, c); !found {
			ok = false
		}
		u.used[c] = true
	}
	return ok
}

// ReleaseAlloc frees the cores of a again (a is evicted or stopped).
func (u *CoreUsage) ReleaseAlloc(a *Allocation) {
	for _, c := range AllocReservedCores(a.AllocatedResources) {
		delete(u.used, c)
	}
}

// coresAssigned reports whether every task of a that asks for cores holds
// exactly that many. A placement the scheduler could not give its cores
// (it never should) must not run on shared ones.
func coresAssigned(a *Allocation) bool {
	if a.Job == nil || a.AllocatedResources == nil {
		return true
	}
	tg := a.Job.LookupTaskGroup(a.TaskGroup)
	if tg == nil {
		return true
	}
	for _, t := range tg.Tasks {
		if t == nil || t.Resources == nil || t.Resources.Cores <= 0 {
			continue
		}
		tr := a.AllocatedResources.Tasks[t.Name]
		if tr == nil || len(tr.Cpu.ReservedCores) != t.Resources.Cores {
			return false
		}
	}
	return true
}

// PlacementCoresFit reports whether the cores of placements are free on
// node, given its allocations (read through existing, only when some
// placement holds cores) less those in skip (stopped or replaced by the
// same plan) and the terminal ones. The plan applier calls it so that two
// schedulers working from stale snapshots cannot give one core twice.
func PlacementCoresFit(node *Node, skip map[string]bool, placements []*Allocation, existing func() ([]*Allocation, error)) (bool, error) {
	asks := false
	for _, a := range placements {
		if a.ClientTerminalStatus() {
			continue
		}
		if !coresAssigned(a) {
			return false, nil
		}
		if len(AllocReservedCores(a.AllocatedResources)) > 0 {
			asks = true
		}
	}
	if !asks {
		return true, nil
	}
	allocs, err := existing()
	if err != nil {
		return false, fmt.Errorf("read allocations of node %s: %w", node.ID, err)
	}
	u := NewCoreUsage(node)
	for _, a := range allocs {
		if !skip[a.ID] && !a.TerminalStatus() {
			u.AddAlloc(a)
		}
	}
	for _, a := range placements {
		if !a.ClientTerminalStatus() && !u.AddAlloc(a) {
			return false, nil
		}
	}
	return true, nil
}
