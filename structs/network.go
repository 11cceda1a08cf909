// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// Network modes of a group `network` block.
const (
	NetworkModeHost   = "host"
	NetworkModeBridge = "bridge"
	NetworkModeNone   = "none"
	// NetworkModeCNIPrefix starts "cni/<name>" modes.
	NetworkModeCNIPrefix = "cni/"
	// NetworkModeDefault is what an empty mode means.
	NetworkModeDefault = NetworkModeHost

	// MinDynamicPort and MaxDynamicPort bound Nomad's default dynamic port
	// range; MaxValidPort is the largest TCP/UDP port.
	MinDynamicPort = 20000
	MaxDynamicPort = 32000
	MaxValidPort   = 65535
)

// NetworkResource is a `network` block: the network namespace mode and the
// ports an allocation needs. Group networks are current; task-level
// networks are Nomad's deprecated form.
type NetworkResource struct {
	Mode          string
	Device        string
	CIDR          string
	IP            string
	DNS           *DNSConfig
	ReservedPorts []Port
	DynamicPorts  []Port
	Hostname      string
	MBits         int
	CNI           *CNIConfig
}

// Port is a `port` block. Value is the static host port (ReservedPorts) or
// the one assigned at placement (DynamicPorts); To is the port inside the
// network namespace.
type Port struct {
	Label           string
	Value           int
	To              int
	HostNetwork     string
	IgnoreCollision bool
}

// DNSConfig is a network's `dns` block.
type DNSConfig struct {
	Servers  []string
	Searches []string
	Options  []string
}

// CNIConfig is a network's `cni` block: arguments passed to CNI plugins.
type CNIConfig struct {
	Args map[string]string
}

// RequestedDevice is a task `device` block: how many instances of a device
// (vendor/type/name) the task needs, with constraints on them.
type RequestedDevice struct {
	Name        string
	Count       uint64
	Constraints []*Constraint
	Affinities  []*Affinity
}

// NUMAResource is a task's `numa` block.
type NUMAResource struct {
	Affinity string
	Devices  []string
}

// NUMA affinities.
const (
	NUMAAffinityNone    = "none"
	NUMAAffinityPrefer  = "prefer"
	NUMAAffinityRequire = "require"
)
