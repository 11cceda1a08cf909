// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskstats

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/droverhq/drover/plugins"
)

// clockTick is the kernel's USER_HZ, the unit of /proc CPU times. Linux
// has reported 100 on every architecture Go supports for decades.
const clockTick = 10 * time.Millisecond

var pageSize = uint64(os.Getpagesize())

// ProcStat is what /proc/PID/stat says about one process.
type ProcStat struct {
	PID    int
	PGID   int
	User   time.Duration
	System time.Duration
	RSS    uint64 // bytes
}

// ReadProc reads /proc/PID/stat.
func ReadProc(pid int) (ProcStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ProcStat{}, err
	}
	return parseStat(pid, string(b))
}

// parseStat parses a /proc/PID/stat line. The command name (field 2) is in
// parentheses and may hold spaces, so fields are counted after the last
// ')': fields[0] is field 3.
func parseStat(pid int, s string) (ProcStat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return ProcStat{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 22 {
		return ProcStat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	num := func(idx int) uint64 { n, _ := strconv.ParseUint(f[idx], 10, 64); return n }
	pgid, _ := strconv.Atoi(f[2]) // field 5
	return ProcStat{
		PID:    pid,
		PGID:   pgid,
		User:   time.Duration(num(11)) * clockTick, // field 14
		System: time.Duration(num(12)) * clockTick, // field 15
		RSS:    num(21) * pageSize,                 // field 24, pages
	}, nil
}

// GroupProcs lists the processes of process group pgid: a raw_exec task
// and everything it started that did not leave the group.
func GroupProcs(pgid int) ([]ProcStat, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []ProcStat
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := ReadProc(pid)
		if err != nil || st.PGID != pgid {
			continue // gone meanwhile, or another group
		}
		out = append(out, st)
	}
	return out, nil
}

// Procs measures a changing set of processes: the whole and each one,
// keeping a CPU rate tracker per process.
type Procs struct {
	total CPU
	each  map[int]*CPU
}

// Sample turns one reading of procs into a TaskResourceUsage.
func (p *Procs) Sample(at time.Time, procs []ProcStat) *plugins.TaskResourceUsage {
	if p.each == nil {
		p.each = map[int]*CPU{}
	}
	var user, sys time.Duration
	var rss uint64
	pids := make(map[string]*plugins.ResourceUsage, len(procs))
	seen := make(map[int]*CPU, len(procs))
	for _, st := range procs {
		user, sys, rss = user+st.User, sys+st.System, rss+st.RSS
		c := p.each[st.PID]
		if c == nil {
			c = &CPU{}
		}
		seen[st.PID] = c
		pids[strconv.Itoa(st.PID)] = &plugins.ResourceUsage{
			MemoryStats: &plugins.MemoryStats{RSS: st.RSS, Measured: []string{plugins.MeasuredRSS}},
			CpuStats:    c.Sample(at, st.User, st.System),
		}
	}
	p.each = seen
	return &plugins.TaskResourceUsage{
		ResourceUsage: &plugins.ResourceUsage{
			MemoryStats: &plugins.MemoryStats{RSS: rss, Measured: []string{plugins.MeasuredRSS}},
			CpuStats:    p.total.Sample(at, user, sys),
		},
		Timestamp: at.UnixNano(),
		Pids:      pids,
	}
}
