// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskenv

// This file sets the network variables of Nomad's runtime environment from
// the ports the scheduler gave the allocation. In host networking a task
// shares the host's network, so the "alloc" address is the host address;
// only the port may differ, when a port block sets `to`.

import (
	"net"
	"slices"
	"strconv"

	"github.com/droverhq/drover/structs"
)

// Prefixes of the per-port variables; the port label follows.
const (
	IPPrefix        = "NOMAD_IP_"
	PortPrefix      = "NOMAD_PORT_"
	AddrPrefix      = "NOMAD_ADDR_"
	HostIPPrefix    = "NOMAD_HOST_IP_"
	HostPortPrefix  = "NOMAD_HOST_PORT_"
	HostAddrPrefix  = "NOMAD_HOST_ADDR_"
	AllocIPPrefix   = "NOMAD_ALLOC_IP_"
	AllocPortPrefix = "NOMAD_ALLOC_PORT_"
	AllocAddrPrefix = "NOMAD_ALLOC_ADDR_"
)

// setPorts sets the variables of every port of the allocation's group
// network, then those of the deprecated task networks: the task's own
// under their label, and every task's under <task>_<label>.
func (b *Builder) setPorts(set func(k, v string)) {
	if b.alloc == nil || b.alloc.AllocatedResources == nil {
		return
	}
	ar := b.alloc.AllocatedResources
	for _, pm := range groupPorts(ar) {
		setPort(set, pm.Label, pm)
	}
	names := make([]string, 0, len(ar.Tasks))
	for name := range ar.Tasks {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		tr := ar.Tasks[name]
		if tr == nil {
			continue
		}
		for _, pm := range networkPorts(tr.Networks) {
			port, addr := strconv.Itoa(taskPort(pm)), net.JoinHostPort(pm.HostIP, strconv.Itoa(taskPort(pm)))
			set(IPPrefix+name+"_"+pm.Label, pm.HostIP)
			set(PortPrefix+name+"_"+pm.Label, port)
			set(AddrPrefix+name+"_"+pm.Label, addr)
			if b.task != nil && name == b.task.Name {
				setPort(set, pm.Label, pm)
			}
		}
	}
}

// setPort sets the variables of one port under label.
func setPort(set func(k, v string), label string, pm structs.PortMapping) {
	host := strconv.Itoa(pm.Value)
	port := strconv.Itoa(taskPort(pm))
	set(HostIPPrefix+label, pm.HostIP)
	set(HostPortPrefix+label, host)
	set(HostAddrPrefix+label, net.JoinHostPort(pm.HostIP, host))
	set(AllocIPPrefix+label, pm.HostIP)
	set(AllocPortPrefix+label, port)
	set(AllocAddrPrefix+label, net.JoinHostPort(pm.HostIP, port))
	set(IPPrefix+label, pm.HostIP)
	set(PortPrefix+label, port)
	set(AddrPrefix+label, net.JoinHostPort(pm.HostIP, port))
}

// taskPort is the port a task binds: `to` when the port block maps one,
// else the host port.
func taskPort(pm structs.PortMapping) int {
	if pm.To > 0 {
		return pm.To
	}
	return pm.Value
}

// groupPorts is the allocation's group ports: Shared.Ports, or, for an
// allocation that only records its networks, their ports.
func groupPorts(ar *structs.AllocatedResources) []structs.PortMapping {
	if len(ar.Shared.Ports) > 0 {
		return ar.Shared.Ports
	}
	return networkPorts(ar.Shared.Networks)
}

// networkPorts flattens networks' static and dynamic ports.
func networkPorts(ns []*structs.NetworkResource) []structs.PortMapping {
	var out []structs.PortMapping
	for _, n := range ns {
		if n == nil {
			continue
		}
		for _, ps := range [][]structs.Port{n.ReservedPorts, n.DynamicPorts} {
			for _, p := range ps {
				out = append(out, structs.PortMapping{Label: p.Label, Value: p.Value, To: p.To, HostIP: n.IP})
			}
		}
	}
	return out
}
