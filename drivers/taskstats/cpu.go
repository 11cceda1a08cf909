// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package taskstats measures tasks' resource usage for the drivers'
// TaskStats: CPU rates from cumulative counters, processes from /proc, and
// the sampling loop that feeds the stream.
package taskstats

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/droverhq/drover/plugins"
)

// CPU turns cumulative CPU times into Nomad's CPU stats, which are rates
// over the time since the previous sample. The first sample has no
// predecessor and reports zero rates.
type CPU struct {
	last             time.Time
	lastUser, lastSy time.Duration
}

// Sample records the cumulative user and system CPU time at at and
// returns the rates since the previous sample.
func (c *CPU) Sample(at time.Time, user, system time.Duration) *plugins.CpuStats {
	st := &plugins.CpuStats{Measured: []string{
		plugins.MeasuredSystemMode, plugins.MeasuredUserMode, plugins.MeasuredTotalTicks, plugins.MeasuredPercent,
	}}
	if !c.last.IsZero() {
		if wall := at.Sub(c.last); wall > 0 {
			st.UserMode = pct(user-c.lastUser, wall)
			st.SystemMode = pct(system-c.lastSy, wall)
			st.Percent = st.UserMode + st.SystemMode
			st.TotalTicks = st.Percent / 100 * CoreMHz()
		}
	}
	c.last, c.lastUser, c.lastSy = at, user, system
	return st
}

// pct is used as a percentage of wall, never below zero (a counter that
// went backwards, e.g. a process that left the group).
func pct(used, wall time.Duration) float64 {
	if used <= 0 {
		return 0
	}
	return float64(used) / float64(wall) * 100
}

var coreMHz = sync.OnceValue(func() float64 {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 1000
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "cpu MHz" {
			if mhz, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && mhz > 0 {
				return mhz
			}
		}
	}
	return 1000
})

// CoreMHz is one core's clock speed, which turns a share of a core into
// Nomad's MHz-denominated TotalTicks; 1000 where /proc/cpuinfo lacks it.
func CoreMHz() float64 { return coreMHz() }
