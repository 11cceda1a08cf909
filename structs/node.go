// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"maps"
	"time"
)

// Node statuses.
const (
	NodeStatusInit         = "initializing"
	NodeStatusReady        = "ready"
	NodeStatusDown         = "down"
	NodeStatusDisconnected = "disconnected"
)

// Scheduling eligibility.
const (
	NodeSchedulingEligible   = "eligible"
	NodeSchedulingIneligible = "ineligible"
)

// Node is a client machine that runs allocations.
type Node struct {
	ID                    string
	SecretID              string `json:"-" codec:"SecretID"`
	Datacenter            string
	Name                  string
	HTTPAddr              string
	Attributes            map[string]string
	NodeResources         *NodeResources
	ReservedResources     *NodeReservedResources
	Meta                  map[string]string
	NodeClass             string
	NodePool              string
	Drain                 bool
	SchedulingEligibility string
	Status                string
	StatusDescription     string
	StatusUpdatedAt       int64
	Drivers               map[string]*DriverInfo
	CreateIndex           uint64
	ModifyIndex           uint64

	// DrainStrategy is the ongoing drain (nil when none); LastDrain
	// describes the most recent one (structs/drain.go).
	DrainStrategy *DrainStrategy
	LastDrain     *DrainMetadata
}

// Ready reports whether the scheduler may place work on the node.
func (n *Node) Ready() bool {
	return n.Status == NodeStatusReady && !n.Drain && n.SchedulingEligibility == NodeSchedulingEligible
}

// Copy returns a deep copy.
func (n *Node) Copy() *Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Attributes = maps.Clone(n.Attributes)
	c.Meta = maps.Clone(n.Meta)
	if n.NodeResources != nil {
		c.NodeResources = deepCopy(n.NodeResources)
	}
	if n.ReservedResources != nil {
		c.ReservedResources = deepCopy(n.ReservedResources)
	}
	if n.Drivers != nil {
		c.Drivers = make(map[string]*DriverInfo, len(n.Drivers))
		for k, v := range n.Drivers {
			d := *v
			d.Attributes = maps.Clone(v.Attributes)
			c.Drivers[k] = &d
		}
	}
	return &c
}

// Comparable returns what the node offers to allocations: its resources
// less what is reserved for the host.
func (n *Node) Comparable() ComparableResources {
	var c ComparableResources
	if n.NodeResources != nil {
		c.CPU = n.NodeResources.Cpu.CpuShares
		c.MemoryMB = n.NodeResources.Memory.MemoryMB
		c.DiskMB = n.NodeResources.Disk.DiskMB
	}
	if r := n.ReservedResources; r != nil {
		c.CPU -= int64(r.Cpu.CpuShares)
		c.MemoryMB -= int64(r.Memory.MemoryMB)
		c.DiskMB -= int64(r.Disk.DiskMB)
	}
	return c
}

// NodeResources is what a node has, as fingerprinted.
type NodeResources struct {
	Cpu    NodeCpuResources
	Memory NodeMemoryResources
	Disk   NodeDiskResources
	// Networks are the node's host networks, the default one first
	// (Mode "host", Device, CIDR, IP); NodeNetworks adds the named
	// host_network addresses (structs/network.go).
	Networks     []*NetworkResource
	NodeNetworks []*NodeNetworkResource
	// MinDynamicPort and MaxDynamicPort bound the ports the scheduler
	// picks for dynamic `port` blocks on this node.
	MinDynamicPort int
	MaxDynamicPort int
}

// NodeCpuResources is the node's compute in MHz and cores.
type NodeCpuResources struct {
	CpuShares          int64
	TotalCpuCores      uint16
	ReservableCpuCores []uint16
}

// NodeMemoryResources is the node's memory.
type NodeMemoryResources struct{ MemoryMB int64 }

// NodeDiskResources is the node's disk for allocations.
type NodeDiskResources struct{ DiskMB int64 }

// NodeReservedResources is kept back for the host.
type NodeReservedResources struct {
	Cpu      NodeReservedCpuResources
	Memory   NodeReservedMemoryResources
	Disk     NodeReservedDiskResources
	Networks NodeReservedNetworkResources
}

// NodeReservedNetworkResources is kept back from the node's ports:
// ReservedHostPorts is a port list such as "22,80,8500-8600".
type NodeReservedNetworkResources struct{ ReservedHostPorts string }

// NodeReservedCpuResources is reserved CPU in MHz, and the cores kept
// from `cores` tasks (client reserved { cores }).
type NodeReservedCpuResources struct {
	CpuShares        uint64
	ReservedCpuCores []uint16
}

// NodeReservedMemoryResources is reserved memory in MB.
type NodeReservedMemoryResources struct{ MemoryMB uint64 }

// NodeReservedDiskResources is reserved disk in MB.
type NodeReservedDiskResources struct{ DiskMB uint64 }

// DriverInfo is the fingerprinted state of one task driver on a node.
type DriverInfo struct {
	Attributes        map[string]string
	Detected          bool
	Healthy           bool
	HealthDescription string
	UpdateTime        time.Time
}

// NodeListStub is the short form of a node in GET /v1/nodes.
type NodeListStub struct {
	Address               string
	ID                    string
	Datacenter            string
	Name                  string
	NodeClass             string
	NodePool              string
	Version               string
	Drain                 bool
	SchedulingEligibility string
	Status                string
	StatusDescription     string
	Drivers               map[string]*DriverInfo
	LastDrain             *DrainMetadata
	CreateIndex           uint64
	ModifyIndex           uint64
}

// Stub returns the list form.
func (n *Node) Stub() *NodeListStub {
	addr := ""
	if n.Attributes != nil {
		addr = n.Attributes["unique.network.ip-address"]
	}
	version := ""
	if n.Attributes != nil {
		version = n.Attributes["nomad.version"]
	}
	return &NodeListStub{
		Address:               addr,
		ID:                    n.ID,
		Datacenter:            n.Datacenter,
		Name:                  n.Name,
		NodeClass:             n.NodeClass,
		NodePool:              n.NodePool,
		Version:               version,
		Drain:                 n.Drain,
		SchedulingEligibility: n.SchedulingEligibility,
		Status:                n.Status,
		StatusDescription:     n.StatusDescription,
		Drivers:               n.Drivers,
		LastDrain:             n.LastDrain,
		CreateIndex:           n.CreateIndex,
		ModifyIndex:           n.ModifyIndex,
	}
}
