// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

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
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

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
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

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

// NodeNetworkResource is one network interface of a node, with its
// addresses; an address with an Alias is a named `host_network` that
// ports select with `host_network = "<alias>"`.
type NodeNetworkResource struct {
	Mode       string
	Device     string
	MacAddress string
	Speed      int
	Addresses  []NodeNetworkAddress
}

// NodeNetworkAddress is one address of a node network. ReservedPorts
// ("22,80,8500-8600") are kept back on this address only.
type NodeNetworkAddress struct {
	Family        string
	Alias         string
	Address       string
	ReservedPorts string
	Gateway       string
}

// ParsePortSpec reads a port list such as "22,80,8500-8600" (Nomad's
// reserved_ports syntax) into the ports it names, in order, without
// duplicates. Blank input names no port.
func ParsePortSpec(spec string) ([]int, error) {
	var out []int
	seen := map[int]bool{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := parsePort(lo)
		if err != nil {
			return nil, fmt.Errorf("port list %q: %w", spec, err)
		}
		last := first
		if isRange {
			if last, err = parsePort(hi); err != nil {
				return nil, fmt.Errorf("port list %q: %w", spec, err)
			}
			if last < first {
				return nil, fmt.Errorf("port list %q: range %q ends before it starts", spec, part)
			}
		}
		for p := first; p <= last; p++ {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || p < 1 || p > MaxValidPort {
		return 0, fmt.Errorf("%q is not a port between 1 and %d", strings.TrimSpace(s), MaxValidPort)
	}
	return p, nil
}

// HostNetworkIsDefault reports whether a port's host_network names the
// node's default network.
func HostNetworkIsDefault(name string) bool {
	return name == "" || name == DefaultHostNetwork
}

// DefaultIP is the node's address for ports on its default network: the
// first fingerprinted host network's IP, else its advertised address.
func (n *Node) DefaultIP() string {
	if n.NodeResources != nil {
		for _, nw := range n.NodeResources.Networks {
			if nw != nil && nw.IP != "" {
				return nw.IP
			}
		}
	}
	return n.Attributes["unique.network.ip-address"]
}

// HostNetworkIP is the address of the node's host_network alias; ok is
// false when the node has no such network.
func (n *Node) HostNetworkIP(alias string) (ip string, ok bool) {
	if HostNetworkIsDefault(alias) {
		ip = n.DefaultIP()
		return ip, ip != ""
	}
	if n.NodeResources == nil {
		return "", false
	}
	for _, nn := range n.NodeResources.NodeNetworks {
		if nn == nil {
			continue
		}
		for _, a := range nn.Addresses {
			if a.Alias == alias {
				return a.Address, true
			}
		}
	}
	return "", false
}

// DynamicPortRange is the node's range for dynamic ports, Nomad's
// default when the node does not say.
func (n *Node) DynamicPortRange() (lo, hi int) {
	lo, hi = MinDynamicPort, MaxDynamicPort
	if r := n.NodeResources; r != nil && r.MinDynamicPort > 0 && r.MaxDynamicPort >= r.MinDynamicPort {
		lo, hi = r.MinDynamicPort, min(r.MaxDynamicPort, MaxValidPort)
	}
	return lo, hi
}

// Port usage dimensions, as Nomad names them in placement metrics.
const (
	DimensionPortCollision  = "network: reserved port collision"
	DimensionDynamicPorts   = "network: dynamic port selection failed"
	DimensionReservedConfig = "network: invalid node reserved ports"
)

// PortUsage is which host ports are taken on one node, by host IP. The
// node's reserved ports are taken on every IP; an address's own reserved
// ports only on it. Both the scheduler and the plan applier build one to
// keep two allocations from binding the same port.
type PortUsage struct {
	reserved map[int]bool
	byIP     map[string]map[int]bool
}

// NewPortUsage starts the usage of node n from its reserved ports. The
// error reports a reserved port list that does not parse.
func NewPortUsage(n *Node) (*PortUsage, error) {
	u := &PortUsage{reserved: map[int]bool{}, byIP: map[string]map[int]bool{}}
	if r := n.ReservedResources; r != nil {
		ports, err := ParsePortSpec(r.Networks.ReservedHostPorts)
		if err != nil {
			return nil, fmt.Errorf("node %s reserved host ports: %w", n.ID, err)
		}
		for _, p := range ports {
			u.reserved[p] = true
		}
	}
	if n.NodeResources != nil {
		for _, nn := range n.NodeResources.NodeNetworks {
			if nn == nil {
				continue
			}
			for _, a := range nn.Addresses {
				ports, err := ParsePortSpec(a.ReservedPorts)
				if err != nil {
					return nil, fmt.Errorf("node %s host network %q reserved ports: %w", n.ID, a.Alias, err)
				}
				for _, p := range ports {
					u.Add(a.Address, p)
				}
			}
		}
	}
	return u, nil
}

// Used reports whether port is taken on ip.
func (u *PortUsage) Used(ip string, port int) bool {
	return u.reserved[port] || u.byIP[ip][port]
}

// Add marks port taken on ip.
func (u *PortUsage) Add(ip string, port int) {
	m := u.byIP[ip]
	if m == nil {
		m = map[int]bool{}
		u.byIP[ip] = m
	}
	m[port] = true
}

// AddAlloc marks the ports of a's networks taken. When one was already
// taken (and does not ignore collisions) it returns false and that port,
// having still added the rest, so a caller loading existing allocations
// may ignore the answer.
func (u *PortUsage) AddAlloc(a *Allocation) (ok bool, collision HostPort) {
	ok = true
	for _, hp := range AllocHostPorts(a.AllocatedResources) {
		if hp.IgnoreCollision {
			continue
		}
		if ok && (hp.Value <= 0 || u.Used(hp.IP, hp.Value)) {
			ok, collision = false, hp
		}
		if hp.Value > 0 {
			u.Add(hp.IP, hp.Value)
		}
	}
	return ok, collision
}

// ReleaseAlloc frees the ports of a's networks again: the scheduler
// evicts a (preemption) to make room on the node.
func (u *PortUsage) ReleaseAlloc(a *Allocation) {
	for _, hp := range AllocHostPorts(a.AllocatedResources) {
		if hp.Value > 0 {
			delete(u.byIP[hp.IP], hp.Value)
		}
	}
}

// HostPort is one host port an allocation holds.
type HostPort struct {
	Label           string
	IP              string
	Value           int
	IgnoreCollision bool
}

// AllocHostPorts lists the host ports of an allocation's group networks
// and deprecated task networks. A dynamic port not yet assigned has Value
// 0.
func AllocHostPorts(ar *AllocatedResources) []HostPort {
	if ar == nil {
		return nil
	}
	var out []HostPort
	// A port on a named host network is bound on that network's address,
	// which Ports records; the network's IP is the default one.
	hostIP := make(map[string]string, len(ar.Shared.Ports))
	for _, pm := range ar.Shared.Ports {
		hostIP[pm.Label] = pm.HostIP
	}
	add := func(ns []*NetworkResource, ips map[string]string) {
		for _, n := range ns {
			if n == nil {
				continue
			}
			for _, ps := range [][]Port{n.ReservedPorts, n.DynamicPorts} {
				for _, p := range ps {
					ip := n.IP
					if v, ok := ips[p.Label]; ok && v != "" {
						ip = v
					}
					out = append(out, HostPort{Label: p.Label, IP: ip, Value: p.Value, IgnoreCollision: p.IgnoreCollision})
				}
			}
		}
	}
	add(ar.Shared.Networks, hostIP)
	for _, name := range slices.Sorted(maps.Keys(ar.Tasks)) {
		if t := ar.Tasks[name]; t != nil {
			add(t.Networks, nil)
		}
	}
	return out
}

// PlacementPortsFit reports whether the host ports of placements are free
// on node, given its allocations in existing less those in skip (stopped
// or replaced by the same plan) and the terminal ones. The plan applier
// calls it so that two schedulers working from stale snapshots cannot give
// one port twice. A dynamic port left unassigned (0) does not fit.
func PlacementPortsFit(node *Node, existing []*Allocation, skip map[string]bool, placements []*Allocation) bool {
	asks := false
	for _, a := range placements {
		if !a.ClientTerminalStatus() && len(AllocHostPorts(a.AllocatedResources)) > 0 {
			asks = true
			break
		}
	}
	if !asks {
		return true
	}
	u, err := NewPortUsage(node)
	if err != nil {
		return false
	}
	for _, a := range existing {
		if !skip[a.ID] && !a.TerminalStatus() {
			u.AddAlloc(a)
		}
	}
	for _, a := range placements {
		if a.ClientTerminalStatus() {
			continue
		}
		if ok, _ := u.AddAlloc(a); !ok {
			return false
		}
	}
	return true
}
