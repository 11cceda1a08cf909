// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// Nomad's resource defaults for a task that does not say.
const (
	DefaultCPU           = 100 // MHz
	DefaultMemoryMB      = 300
	DefaultEphemeralDisk = 300 // MB
	MinCPU               = 1
	MinMemoryMB          = 10
)

// Resources is what a task asks for.
type Resources struct {
	CPU         int
	Cores       int
	MemoryMB    int
	MemoryMaxMB int
	DiskMB      int
	SecretsMB   int
	Networks    []*NetworkResource
	Devices     []*RequestedDevice
	NUMA        *NUMAResource
}

// Copy returns a deep copy.
func (r *Resources) Copy() *Resources {
	return deepCopy(r)
}

// AllocatedResources is what the scheduler reserved for an allocation.
type AllocatedResources struct {
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	Tasks  map[string]*AllocatedTaskResources
	Shared AllocatedSharedResources
}

// AllocatedTaskResources is one task's reservation. Networks holds the
// task's deprecated task-level network with its ports assigned.
type AllocatedTaskResources struct {
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	Cpu      AllocatedCpuResources
	Memory   AllocatedMemoryResources
	Networks []*NetworkResource
}

// AllocatedCpuResources is CPU reserved in MHz and, for a task that asks
// for `cores`, the host cores it holds alone (structs/cores.go). CpuShares
// then counts those cores at the node's clock, so they weigh on the node's
// CPU like any other reservation.
type AllocatedCpuResources struct {
	CpuShares     int64
	ReservedCores []uint16
}

// AllocatedMemoryResources is memory reserved in MB.
type AllocatedMemoryResources struct {
	MemoryMB    int64
	MemoryMaxMB int64
}

// AllocatedSharedResources is reserved once for the whole allocation:
// the group's disk, its `network` blocks with every port's host value
// assigned, and the same ports flattened (what tasks and services read).
type AllocatedSharedResources struct {
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	DiskMB   int64
	Networks []*NetworkResource
	Ports    []PortMapping
}

// PortMapping is one port of an allocation: its label, the host port
// (Value) on HostIP, and the port inside the network namespace (To).
type PortMapping struct {
	Label  string
	Value  int
	To     int
	HostIP string
}

// Comparable sums an allocation's reservation into one vector, the form the
// scheduler and the plan applier compare against a node's capacity.
func (a *AllocatedResources) Comparable() ComparableResources {
	var c ComparableResources
	if a == nil {
		return c
	}
	for _, t := range a.Tasks {
		c.CPU += t.Cpu.CpuShares
		c.MemoryMB += t.Memory.MemoryMB
	}
	c.DiskMB = a.Shared.DiskMB
	return c
}

// ComparableResources is a resource vector that can be added and compared.
type ComparableResources struct {
	CPU      int64
	MemoryMB int64
	DiskMB   int64
}

// Add adds o to c.
func (c *ComparableResources) Add(o ComparableResources) {
	c.CPU += o.CPU
	c.MemoryMB += o.MemoryMB
	c.DiskMB += o.DiskMB
}

// Superset reports whether c holds o; if not, it names the first exhausted
// dimension ("cpu", "memory" or "disk"), as Nomad's placement metrics do.
func (c ComparableResources) Superset(o ComparableResources) (bool, string) {
	switch {
	case c.CPU < o.CPU:
		return false, "cpu"
	case c.MemoryMB < o.MemoryMB:
		return false, "memory"
	case c.DiskMB < o.DiskMB:
		return false, "disk"
	}
	return true, ""
}
