// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package fingerprint discovers what a client node is: its identity
// (persisted across restarts), its attributes under Nomad's names
// (kernel.name, cpu.numcores, unique.network.ip-address, ...), its
// resources, and the health of its task drivers. Jobs constrain on these
// attribute names, so they must match Nomad's exactly.
package fingerprint

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/droverhq/drover/structs"
)

// DefaultCPUMHz is the per-core clock assumed when neither /proc/cpuinfo nor
// cpufreq tell it (VMs and some ARM boards hide it). 1000 MHz per core keeps
// the node schedulable with a conservative capacity.
const DefaultCPUMHz = 1000

// Default dynamic port range, Nomad's.
const (
	DefaultMinDynamicPort = 20000
	DefaultMaxDynamicPort = 32000
)

// Options say where the node's data lives and how to find its address.
type Options struct {
	// DataDir is the agent's data directory; its file system is the node's
	// disk for allocations.
	DataDir string
	// NetworkInterface names the interface whose first IPv4 address is the
	// node's address; empty means the default route's interface.
	NetworkInterface string
	// DevMode uses the loopback address, for a single-machine dev agent.
	DevMode bool
	// HostNetworks are the client's named host_network blocks.
	HostNetworks []HostNetwork
	// MinDynamicPort and MaxDynamicPort bound the node's dynamic ports;
	// zero means Nomad's default range.
	MinDynamicPort int
	MaxDynamicPort int
	// Version becomes nomad.version.
	Version string

	// Root prefixes /proc, /sys and /etc paths; tests point it at a fake
	// tree. Empty means the real root.
	Root string
}

// Host is the fingerprint of the machine itself.
type Host struct {
	Attributes map[string]string
	Resources  *structs.NodeResources
}

// FingerprintHost reads the machine. Missing sources leave their attributes
// out (and resources at fallbacks) rather than failing: a node with fewer
// attributes is still a useful node.
func FingerprintHost(opts Options) (*Host, error) {
	attrs := map[string]string{
		"kernel.name": runtime.GOOS,
		"cpu.arch":    runtime.GOARCH,
	}
	if opts.Version != "" {
		attrs["nomad.version"] = opts.Version
	}
	if v := readTrim(opts.path("/proc/sys/kernel/osrelease")); v != "" {
		attrs["kernel.version"] = v
	}
	if osr := parseOSRelease(opts.path("/etc/os-release")); osr != nil {
		if osr["ID"] != "" {
			attrs["os.name"] = osr["ID"]
		}
		if osr["VERSION_ID"] != "" {
			attrs["os.version"] = osr["VERSION_ID"]
		}
	}
	if h, err := os.Hostname(); err == nil {
		attrs["unique.hostname"] = h
	}

	cpu := readCPU(opts)
	attrs["cpu.numcores"] = strconv.Itoa(cpu.cores)
	attrs["cpu.frequency"] = strconv.Itoa(cpu.mhz)
	attrs["cpu.totalcompute"] = strconv.Itoa(cpu.cores * cpu.mhz)
	if cpu.model != "" {
		attrs["cpu.modelname"] = cpu.model
	}

	memBytes := readMemTotal(opts.path("/proc/meminfo"))
	if memBytes > 0 {
		attrs["memory.totalbytes"] = strconv.FormatUint(memBytes, 10)
	}

	ip, device, err := nodeAddress(opts)
	if err != nil {
		return nil, fmt.Errorf("fingerprint network: %w", err)
	}
	attrs["unique.network.ip-address"] = ip
	nets, nodeNets, err := networks(ip, device, opts.HostNetworks)
	if err != nil {
		return nil, fmt.Errorf("fingerprint network: %w", err)
	}
	minPort, maxPort := DefaultMinDynamicPort, DefaultMaxDynamicPort
	if opts.MinDynamicPort > 0 {
		minPort = opts.MinDynamicPort
	}
	if opts.MaxDynamicPort > 0 {
		maxPort = opts.MaxDynamicPort
	}
	if minPort > maxPort || maxPort > structs.MaxValidPort {
		return nil, fmt.Errorf("fingerprint network: dynamic port range %d-%d is empty or beyond %d", minPort, maxPort, structs.MaxValidPort)
	}

	res := &structs.NodeResources{
		Cpu: structs.NodeCpuResources{
			CpuShares:     int64(cpu.cores * cpu.mhz),
			TotalCpuCores: uint16(min(cpu.cores, math.MaxUint16)),
		},
		Memory:         structs.NodeMemoryResources{MemoryMB: int64(memBytes / (1 << 20))},
		Networks:       nets,
		NodeNetworks:   nodeNets,
		MinDynamicPort: minPort,
		MaxDynamicPort: maxPort,
	}
	res.Cpu.ReservableCpuCores = reservableCores(opts, cpu.cores)

	if opts.DataDir != "" {
		disk, err := statDisk(opts.DataDir)
		if err != nil {
			return nil, fmt.Errorf("fingerprint disk of %s: %w", opts.DataDir, err)
		}
		attrs["unique.storage.bytestotal"] = strconv.FormatUint(disk.total, 10)
		attrs["unique.storage.bytesfree"] = strconv.FormatUint(disk.free, 10)
		if vol := mountSource(opts.path("/proc/mounts"), opts.DataDir); vol != "" {
			attrs["unique.storage.volume"] = vol
		}
		res.Disk.DiskMB = int64(disk.free / (1 << 20))
	}
	return &Host{Attributes: attrs, Resources: res}, nil
}

func (o Options) path(p string) string { return o.Root + p }

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// parseOSRelease reads KEY=value lines, values optionally quoted.
func parseOSRelease(path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `"'`)
		}
		out[k] = v
	}
	return out
}

type cpuInfo struct {
	cores int
	mhz   int
	model string
}

// readCPU takes the core count from the runtime (which honours the
// affinity mask), the model and clock from /proc/cpuinfo, and prefers the
// maximum clock from cpufreq, since "cpu MHz" in cpuinfo is the current,
// possibly throttled, one.
func readCPU(opts Options) cpuInfo {
	info := cpuInfo{cores: runtime.NumCPU()}
	if f, err := os.Open(opts.path("/proc/cpuinfo")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch k {
			case "model name":
				if info.model == "" {
					info.model = v
				}
			case "cpu MHz":
				if info.mhz == 0 {
					if mhz, err := strconv.ParseFloat(v, 64); err == nil {
						info.mhz = int(mhz)
					}
				}
			}
		}
		f.Close()
	}
	if khz, err := strconv.Atoi(readTrim(opts.path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"))); err == nil && khz > 0 {
		info.mhz = khz / 1000
	}
	if info.mhz <= 0 {
		info.mhz = DefaultCPUMHz
	}
	return info
}

// readMemTotal returns MemTotal from /proc/meminfo in bytes.
func readMemTotal(path string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// mountSource returns the device of the longest mount point containing dir.
func mountSource(mounts, dir string) string {
	f, err := os.Open(mounts)
	if err != nil {
		return ""
	}
	defer f.Close()
	best, bestLen := "", -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		mp := fields[1]
		if within(dir, mp) && len(mp) > bestLen {
			best, bestLen = fields[0], len(mp)
		}
	}
	return best
}

func within(dir, mountPoint string) bool {
	if mountPoint == "/" {
		return strings.HasPrefix(dir, "/")
	}
	return dir == mountPoint || strings.HasPrefix(dir, mountPoint+"/")
}
