// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupRoot is where the host's cgroup file systems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cgroupPath is the cgroup the driver asks runc to put a container in. It
// is fixed, rather than left to defaults, so the driver can read the
// container's OOM count when it exits.
func cgroupPath(namespace, containerID string) string {
	return "/" + namespace + "/" + containerID
}

// cgroupV2 reports whether the host runs the unified hierarchy only.
func cgroupV2() bool {
	_, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers"))
	return err == nil
}

// oomKilled reports whether the kernel's OOM killer killed a process of
// the cgroup. The exit status alone cannot tell (it is SIGKILL either
// way), and containerd's OOM events are lost while the plugin is down,
// whereas the count stays in the cgroup until the task is deleted.
func oomKilled(cgroup string) bool {
	if cgroupV2() {
		return counter(filepath.Join(cgroupRoot, cgroup, "memory.events"), "oom_kill") > 0
	}
	return counter(filepath.Join(cgroupRoot, "memory", cgroup, "memory.oom_control"), "oom_kill") > 0
}

// counter reads the "key N" line of a cgroup stats file; 0 when absent.
func counter(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && name == key {
			n, _ := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			return n
		}
	}
	return 0
}

// swapAccounting reports whether a memory+swap limit can be set: always
// on cgroup v2 (runc ignores it where swap is off), and on v1 only when
// the kernel accounts swap (memory.memsw.* exists).
func swapAccounting() bool {
	if cgroupV2() {
		return true
	}
	_, err := os.Stat(filepath.Join(cgroupRoot, "memory", "memory.memsw.limit_in_bytes"))
	return err == nil
}
