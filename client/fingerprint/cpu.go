// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package fingerprint

// This file finds which cores the node may hand out as exclusive `cores`:
// those the agent itself may run on. A supervisor that confines the agent
// to a cpuset (systemd AllowedCPUs, a container's --cpuset-cpus) confines
// its tasks too, so the agent's own cgroup cpuset is the truth; without one
// readable, the kernel's online cores are.

import (
	"math"
	"path/filepath"
	"strings"

	"github.com/droverhq/drover/structs"
)

// reservableCores lists the cores the agent may run on, lowest first, or
// 0..cores-1 when neither its cpuset nor the online list can be read.
func reservableCores(opts Options, cores int) []uint16 {
	for _, path := range cpusetPaths(opts) {
		if list, err := structs.ParseCPUList(readTrim(path)); err == nil && len(list) > 0 {
			return list
		}
	}
	var out []uint16
	for i := 0; i < cores && i < math.MaxUint16; i++ {
		out = append(out, uint16(i))
	}
	return out
}

// cpusetPaths are the files that may name the agent's cores, best first:
// its v2 cgroup's effective cpuset, its v1 cpuset cgroup's effective cpus,
// then the host's online cores.
func cpusetPaths(opts Options) []string {
	var out []string
	for line := range strings.SplitSeq(readTrim(opts.path("/proc/self/cgroup")), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			out = append(out, opts.path(filepath.Join("/sys/fs/cgroup", parts[2], "cpuset.cpus.effective")))
		case hasController(parts[1], "cpuset"):
			out = append(out, opts.path(filepath.Join("/sys/fs/cgroup/cpuset", parts[2], "cpuset.effective_cpus")))
		}
	}
	// A v1 cpuset names the cores more exactly than the v2 line of a
	// hybrid host, whose unified hierarchy has no cpuset controller.
	for i, p := range out {
		if strings.Contains(p, "/sys/fs/cgroup/cpuset/") && i > 0 {
			out[0], out[i] = out[i], out[0]
		}
	}
	return append(out, opts.path("/sys/devices/system/cpu/online"))
}

// hasController reports whether a /proc/self/cgroup controller field
// ("cpu,cpuacct") names c.
func hasController(field, c string) bool {
	for f := range strings.SplitSeq(field, ",") {
		if f == c {
			return true
		}
	}
	return false
}
