// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package exec

import (
	"fmt"
	"slices"
	"strings"
)

// capNames are Linux's capabilities by number (linux/capability.h),
// without the "CAP_" prefix, in the lower case job files use.
var capNames = []string{
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
	"setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service",
	"net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
	"sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
	"sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
	"sys_tty_config", "mknod", "lease", "audit_write", "audit_control",
	"setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
	"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
}

// DefaultCaps are the capabilities an exec task gets, and the default
// allow_caps: Docker's default set without net_raw, as in Nomad.
var DefaultCaps = []string{
	"audit_write", "chown", "dac_override", "fowner", "fsetid", "kill", "mknod",
	"net_bind_service", "setfcap", "setgid", "setpcap", "setuid", "sys_chroot",
}

// capSet is a set of capability numbers.
type capSet map[uint]bool

func defaultCaps() capSet {
	s, err := parseCaps(DefaultCaps)
	if err != nil {
		panic(err) // DefaultCaps is a constant list of known names
	}
	return s
}

func allCaps() capSet {
	s := capSet{}
	for i := range capNames {
		s[uint(i)] = true
	}
	return s
}

// parseCaps parses capability names ("net_raw", "CAP_NET_RAW"); "all"
// means every capability.
func parseCaps(names []string) (capSet, error) {
	s := capSet{}
	for _, n := range names {
		name := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(n)), "cap_")
		if name == "all" {
			return allCaps(), nil
		}
		i := slices.Index(capNames, name)
		if i < 0 {
			return nil, fmt.Errorf("unknown capability %q", n)
		}
		s[uint(i)] = true
	}
	return s, nil
}

// taskCaps computes a task's capabilities as Nomad does: the defaults that
// the operator allows, less cap_drop ("all" drops every one), plus
// cap_add. What cap_add asks for must be allowed.
func taskCaps(allowed capSet, add, drop []string) (capSet, error) {
	addSet, err := parseCaps(add)
	if err != nil {
		return nil, fmt.Errorf("cap_add: %w", err)
	}
	dropSet, err := parseCaps(drop)
	if err != nil {
		return nil, fmt.Errorf("cap_drop: %w", err)
	}
	var denied []string
	for _, c := range addSet.numbers() {
		if !allowed[c] {
			denied = append(denied, capNames[c])
		}
	}
	if len(denied) > 0 {
		return nil, fmt.Errorf("cap_add: %s not allowed by the plugin's allow_caps", strings.Join(denied, ", "))
	}
	out := capSet{}
	for c := range defaultCaps() {
		if allowed[c] && !dropSet[c] {
			out[c] = true
		}
	}
	for c := range addSet {
		out[c] = true
	}
	return out, nil
}

// numbers lists the set's capabilities in ascending order.
func (s capSet) numbers() []uint {
	out := make([]uint, 0, len(s))
	for c := range s {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// names lists the set's capabilities by name, in ascending number order.
func (s capSet) names() []string {
	var out []string
	for _, c := range s.numbers() {
		out = append(out, capNames[c])
	}
	return out
}
