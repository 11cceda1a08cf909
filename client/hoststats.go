// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file measures the host for /v1/client/stats (`node status
// -stats`): memory from /proc/meminfo, per-core CPU from /proc/stat, uptime
// from /proc/uptime and disks with statfs. It reads the kernel's files
// directly rather than through a system-statistics library: these few
// numbers are all Nomad reports.

// hostCPUWindow is how long HostStats measures CPU use over: /proc/stat
// holds counters since boot, and a share of time needs two readings.
const hostCPUWindow = 200 * time.Millisecond

// HostStats is the host's resource usage, with the JSON shape of Nomad's
// api.HostStats (and its Timestamp, in Unix nanoseconds).
type HostStats struct {
	Memory           *HostMemoryStats
	CPU              []*HostCPUStats
	DiskStats        []*HostDiskStats
	AllocDirStats    *HostDiskStats
	Uptime           uint64
	CPUTicksConsumed float64
	Timestamp        int64
}

// HostMemoryStats is the host's memory in bytes.
type HostMemoryStats struct {
	Total     uint64
	Available uint64
	Used      uint64
	Free      uint64
}

// HostCPUStats is one core's use over the measuring window, in percent.
type HostCPUStats struct {
	CPU    string
	User   float64
	System float64
	Idle   float64
}

// HostDiskStats is one filesystem's use.
type HostDiskStats struct {
	Device            string
	Mountpoint        string
	Size              uint64
	Used              uint64
	Available         uint64
	UsedPercent       float64
	InodesUsedPercent float64
}

// HostStats measures the host. It takes hostCPUWindow (or until ctx ends)
// to measure CPU use.
func (c *Client) HostStats(ctx context.Context) (*HostStats, error) {
	before, err := readCPUTimes("/proc/stat")
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(hostCPUWindow)
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
		return nil, fmt.Errorf("host stats: %w", ctx.Err())
	}
	after, err := readCPUTimes("/proc/stat")
	if err != nil {
		return nil, err
	}
	hs := &HostStats{CPU: cpuUsage(before, after), Timestamp: time.Now().UnixNano()}
	mhz, _ := strconv.ParseFloat(c.Node().Attributes["cpu.frequency"], 64)
	for _, core := range hs.CPU {
		hs.CPUTicksConsumed += (100 - core.Idle) / 100 * mhz
	}
	if hs.Memory, err = readMeminfo("/proc/meminfo"); err != nil {
		return nil, err
	}
	if hs.Uptime, err = readUptime("/proc/uptime"); err != nil {
		return nil, err
	}
	mounts, err := readMounts("/proc/self/mounts")
	if err != nil {
		return nil, err
	}
	for _, m := range mounts {
		ds, err := diskStats(m.device, m.mountpoint)
		if err != nil {
			c.logger.Debug("skipping filesystem in host stats", "mountpoint", m.mountpoint, "error", err)
			continue
		}
		hs.DiskStats = append(hs.DiskStats, ds)
	}
	root := allocRoot(c.cfg.DataDir)
	m := mountOf(mounts, root)
	if hs.AllocDirStats, err = diskStats(m.device, root); err != nil {
		return nil, err
	}
	return hs, nil
}

// cpuTimes are one core's cumulative times from /proc/stat, in ticks.
type cpuTimes struct {
	name               string
	user, system, idle uint64
	total              uint64
}

func readCPUTimes(path string) ([]cpuTimes, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("host stats: %w", err)
	}
	defer f.Close()
	out, err := parseCPUTimes(f)
	if err != nil {
		return nil, fmt.Errorf("host stats: parse %s: %w", path, err)
	}
	return out, nil
}

// parseCPUTimes reads the per-core "cpuN" lines of /proc/stat: user nice
// system idle iowait irq softirq steal ... Nice counts as user time, and
// iowait as idle, as top shows them.
func parseCPUTimes(r io.Reader) ([]cpuTimes, error) {
	var out []cpuTimes
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || !strings.HasPrefix(fields[0], "cpu") || fields[0] == "cpu" {
			continue
		}
		var v [8]uint64
		for i := 0; i < len(v) && i+1 < len(fields); i++ {
			n, err := strconv.ParseUint(fields[i+1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: field %d: %w", fields[0], i+1, err)
			}
			v[i] = n
		}
		t := cpuTimes{name: fields[0], user: v[0] + v[1], system: v[2] + v[5] + v[6], idle: v[3] + v[4]}
		t.total = t.user + t.system + t.idle + v[7]
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no per-core cpu lines")
	}
	return out, nil
}

// cpuUsage turns two readings into each core's shares of the time between
// them.
func cpuUsage(before, after []cpuTimes) []*HostCPUStats {
	prev := make(map[string]cpuTimes, len(before))
	for _, t := range before {
		prev[t.name] = t
	}
	out := make([]*HostCPUStats, 0, len(after))
	for _, t := range after {
		p := prev[t.name]
		st := &HostCPUStats{CPU: t.name, Idle: 100}
		if total := float64(t.total - p.total); t.total > p.total {
			st.User = float64(t.user-p.user) / total * 100
			st.System = float64(t.system-p.system) / total * 100
			st.Idle = float64(t.idle-p.idle) / total * 100
		}
		out = append(out, st)
	}
	return out
}

func readMeminfo(path string) (*HostMemoryStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("host stats: %w", err)
	}
	defer f.Close()
	m, err := parseMeminfo(f)
	if err != nil {
		return nil, fmt.Errorf("host stats: parse %s: %w", path, err)
	}
	return m, nil
}

// parseMeminfo reads MemTotal, MemFree and MemAvailable (kB). Used is what
// is not available, which is what a user means by memory in use.
func parseMeminfo(r io.Reader) (*HostMemoryStats, error) {
	vals := map[string]uint64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		vals[key] = n * 1024
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	total, ok := vals["MemTotal"]
	if !ok {
		return nil, fmt.Errorf("no MemTotal")
	}
	avail, ok := vals["MemAvailable"]
	if !ok {
		// Kernels before 3.14: estimate as free plus page cache.
		avail = vals["MemFree"] + vals["Buffers"] + vals["Cached"]
	}
	m := &HostMemoryStats{Total: total, Available: avail, Free: vals["MemFree"]}
	if total > avail {
		m.Used = total - avail
	}
	return m, nil
}

func readUptime(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("host stats: %w", err)
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0, fmt.Errorf("host stats: empty %s", path)
	}
	secs, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return 0, fmt.Errorf("host stats: parse %s: %w", path, err)
	}
	return uint64(secs), nil
}

type mount struct{ device, mountpoint string }

func readMounts(path string) ([]mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("host stats: %w", err)
	}
	defer f.Close()
	return parseMounts(f)
}

// parseMounts lists the filesystems worth reporting: those on a block
// device (once per device), and the root filesystem whatever backs it (an
// overlay in a container). Pseudo filesystems (proc, tmpfs, cgroup) are
// left out.
func parseMounts(r io.Reader) ([]mount, error) {
	var out []mount
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		dev, mp := fields[0], unescapeMount(fields[1])
		if !(strings.HasPrefix(dev, "/dev/") || mp == "/") || seen[dev] {
			continue
		}
		seen[dev] = true
		out = append(out, mount{device: dev, mountpoint: mp})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("host stats: read mounts: %w", err)
	}
	return out, nil
}

// unescapeMount undoes the octal escapes (\040 for a space) of
// /proc/self/mounts.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
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

// mountOf finds the mount holding path: the longest mountpoint prefix.
func mountOf(mounts []mount, path string) mount {
	best := mount{mountpoint: "/"}
	for _, m := range mounts {
		if (path == m.mountpoint || strings.HasPrefix(path, strings.TrimSuffix(m.mountpoint, "/")+"/")) &&
			len(m.mountpoint) >= len(best.mountpoint) {
			best = m
		}
	}
	return best
}

// diskStats measures the filesystem holding path, as df does: Used
// excludes the blocks reserved for root, and UsedPercent is of what a user
// can have.
func diskStats(device, path string) (*HostDiskStats, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return nil, fmt.Errorf("statfs %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	ds := &HostDiskStats{
		Device:     device,
		Mountpoint: filepath.Clean(path),
		Size:       st.Blocks * bs,
		Used:       (st.Blocks - st.Bfree) * bs,
		Available:  st.Bavail * bs,
	}
	if d := ds.Used + ds.Available; d > 0 {
		ds.UsedPercent = float64(ds.Used) / float64(d) * 100
	}
	if st.Files > 0 {
		ds.InodesUsedPercent = float64(st.Files-st.Ffree) / float64(st.Files) * 100
	}
	return ds, nil
}
