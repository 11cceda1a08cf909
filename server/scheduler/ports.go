// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file gives host-mode `network` blocks their ports. A group that asks
// for ports fits a node only when its static ports are free there and the
// node's dynamic range still has a free port for each dynamic one; the
// placement then records the chosen ports in the allocation's
// AllocatedResources (Shared.Networks, Shared.Ports, and each deprecated
// task network).
//
// Which ports a node has taken is read lazily, once per node per plan
// attempt and only for groups that ask for ports, from the node's live
// allocations less the ones this plan stops; every placement of the plan
// then marks its ports, so two allocations of one plan never share a port.
// The plan applier re-checks the result against the newest state
// (structs.PortUsage is shared with it).

import (
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/droverhq/drover/structs"
)

// portState is the placer's port bookkeeping for one plan attempt.
type portState struct {
	stopped map[string]bool // allocations this plan stops: their ports are free
	// nodes holds the usage by node index, loaded on first use; nil for
	// a node whose reserved port lists do not parse.
	nodes map[int]*structs.PortUsage
	cores coreState // exclusive cores per node, read lazily (cores.go)
}

// wantsPorts reports whether tg asks for any host port, in its group
// networks or its tasks' deprecated networks.
func wantsPorts(tg *structs.TaskGroup) bool {
	has := func(ns []*structs.NetworkResource) bool {
		for _, n := range ns {
			if n != nil && len(n.ReservedPorts)+len(n.DynamicPorts) > 0 {
				return true
			}
		}
		return false
	}
	if has(tg.Networks) {
		return true
	}
	for _, t := range tg.Tasks {
		if t.Resources != nil && has(t.Resources.Networks) {
			return true
		}
	}
	return false
}

// fitsGroup is fits for one more allocation of cg on node i: its resources
// and, when it asks for ports, its ports. It returns the exhausted
// dimension when it does not fit.
func (p *placer) fitsGroup(cg *compiledGroup, i int) (bool, string, error) {
	if ok, dim := p.fits(i, cg.ask); !ok {
		return false, dim, nil
	}
	if ok, dim, err := p.fitsCores(cg, i); !ok || err != nil {
		return false, dim, err
	}
	if !wantsPorts(cg.tg) {
		return true, "", nil
	}
	_, dim, err := p.pickPorts(cg, i, 0)
	if err != nil {
		return false, "", err
	}
	return dim == "", dim, nil
}

// portUsage returns the ports taken on node i, reading them on first use;
// nil when the node's reserved ports cannot be read (the node then takes
// no allocation with ports: which ports are free is unknown).
func (p *placer) portUsage(i int) (*structs.PortUsage, error) {
	if u, ok := p.ports.nodes[i]; ok {
		return u, nil
	}
	if p.ports.nodes == nil {
		p.ports.nodes = map[int]*structs.PortUsage{}
	}
	n := p.nodes[i].node
	u, err := structs.NewPortUsage(n)
	if err != nil {
		p.ports.nodes[i] = nil
		return nil, nil
	}
	allocs, err := p.state.AllocsByNode(n.ID)
	if err != nil {
		return nil, fmt.Errorf("read allocations of node %s: %w", n.ID, err)
	}
	for _, a := range allocs {
		if isLive(a) && !p.ports.stopped[a.ID] {
			u.AddAlloc(a) // existing collisions (ignore_collision, old data) are not ours to refuse
		}
	}
	p.ports.nodes[i] = u
	return u, nil
}

// portPick is the ports chosen for one allocation on one node.
type portPick struct {
	shared []*structs.NetworkResource
	ports  []structs.PortMapping
	tasks  map[string][]*structs.NetworkResource
	taken  []structs.HostPort
}

type ipPort struct {
	ip   string
	port int
}

// pickPorts chooses the ports of one more allocation of cg on node i
// without taking them. Static ports come first, so no dynamic port takes
// one a static port of the same allocation needs. Dynamic ports are
// probed from an offset given by seed (0 starts at the bottom of the
// range), so consecutive allocations do not all start from the same port
// and a port freed by a stop is not handed out again at once. It returns
// the dimension that failed, or "".
func (p *placer) pickPorts(cg *compiledGroup, i int, seed uint64) (*portPick, string, error) {
	u, err := p.portUsage(i)
	if err != nil {
		return nil, "", err
	}
	if u == nil {
		return nil, structs.DimensionReservedConfig, nil
	}
	node := p.nodes[i].node
	defaultIP, device := node.DefaultIP(), defaultDevice(node)
	taken := map[ipPort]bool{}
	free := func(ip string, port int) bool { return !u.Used(ip, port) && !taken[ipPort{ip, port}] }
	pk := &portPick{}

	// Copies of the networks, each port to be given its host value.
	type netRef struct {
		n      *structs.NetworkResource
		shared bool
	}
	var nets []netRef
	for _, n := range cg.tg.Networks {
		if n != nil {
			c := copyNetwork(n, defaultIP, device)
			pk.shared = append(pk.shared, c)
			nets = append(nets, netRef{c, true})
		}
	}
	for _, t := range cg.tg.Tasks {
		if t.Resources == nil {
			continue
		}
		for _, n := range t.Resources.Networks {
			if n == nil {
				continue
			}
			if pk.tasks == nil {
				pk.tasks = map[string][]*structs.NetworkResource{}
			}
			c := copyNetwork(n, defaultIP, device)
			pk.tasks[t.Name] = append(pk.tasks[t.Name], c)
			nets = append(nets, netRef{c, false})
		}
	}

	hostIP := func(port structs.Port) (string, string) {
		ip, ok := node.HostNetworkIP(port.HostNetwork)
		if !ok {
			return "", fmt.Sprintf("network: missing host network %q for port %q", port.HostNetwork, port.Label)
		}
		return ip, ""
	}
	record := func(nr netRef, port structs.Port, ip string) {
		taken[ipPort{ip, port.Value}] = true
		pk.taken = append(pk.taken, structs.HostPort{Label: port.Label, IP: ip, Value: port.Value, IgnoreCollision: port.IgnoreCollision})
		if nr.shared {
			pk.ports = append(pk.ports, structs.PortMapping{Label: port.Label, Value: port.Value, To: port.To, HostIP: ip})
		}
	}
	for _, nr := range nets {
		for k := range nr.n.ReservedPorts {
			port := &nr.n.ReservedPorts[k]
			ip, dim := hostIP(*port)
			if dim != "" {
				return nil, dim, nil
			}
			if !port.IgnoreCollision && !free(ip, port.Value) {
				return nil, structs.DimensionPortCollision, nil
			}
			if port.To == -1 {
				port.To = port.Value
			}
			record(nr, *port, ip)
		}
	}
	lo, hi := node.DynamicPortRange()
	size := uint64(hi - lo + 1)
	for _, nr := range nets {
		for k := range nr.n.DynamicPorts {
			port := &nr.n.DynamicPorts[k]
			ip, dim := hostIP(*port)
			if dim != "" {
				return nil, dim, nil
			}
			port.Value = 0
			start := seed % size
			for off := uint64(0); off < size; off++ {
				if v := lo + int((start+off)%size); free(ip, v) {
					port.Value = v
					break
				}
			}
			if port.Value == 0 {
				return nil, structs.DimensionDynamicPorts, nil
			}
			if port.To == -1 {
				port.To = port.Value
			}
			record(nr, *port, ip)
		}
	}
	return pk, "", nil
}

// assignPorts gives alloc, just placed on node, its ports and marks them
// taken for the rest of the plan. The node was checked by fitsGroup for
// this very placement, so the pick cannot fail; if it did anyway, the
// dynamic ports stay 0 and the plan applier refuses the placement.
func (p *placer) assignPorts(cg *compiledGroup, node *structs.Node, alloc *structs.Allocation) {
	if !wantsPorts(cg.tg) {
		return
	}
	i, ok := p.byID[node.ID]
	if !ok {
		return
	}
	h := fnv.New64a()
	h.Write([]byte(alloc.ID))
	pk, dim, err := p.pickPorts(cg, i, h.Sum64())
	if err != nil || dim != "" {
		// Unreachable after fitsGroup; leave the networks unassigned.
		ar := alloc.AllocatedResources
		for _, n := range cg.tg.Networks {
			if n != nil {
				ar.Shared.Networks = append(ar.Shared.Networks, copyNetwork(n, "", ""))
			}
		}
		return
	}
	u := p.ports.nodes[i]
	for _, hp := range pk.taken {
		u.Add(hp.IP, hp.Value)
	}
	ar := alloc.AllocatedResources
	ar.Shared.Networks = pk.shared
	ar.Shared.Ports = pk.ports
	for name, ns := range pk.tasks {
		if tr := ar.Tasks[name]; tr != nil {
			tr.Networks = ns
		}
	}
}

// copyNetwork copies a job's network block for an allocation, on the
// node's default address and device.
func copyNetwork(n *structs.NetworkResource, ip, device string) *structs.NetworkResource {
	c := *n
	c.ReservedPorts = slices.Clone(n.ReservedPorts)
	c.DynamicPorts = slices.Clone(n.DynamicPorts)
	if c.Mode == "" {
		c.Mode = structs.NetworkModeHost
	}
	c.IP, c.Device = ip, device
	return &c
}

// defaultDevice is the interface of the node's default network.
func defaultDevice(n *structs.Node) string {
	if n.NodeResources != nil {
		for _, nw := range n.NodeResources.Networks {
			if nw != nil && nw.IP != "" {
				return nw.Device
			}
		}
	}
	return ""
}
