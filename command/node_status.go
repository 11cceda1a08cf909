// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/droverhq/drover/api"
)

// maxNodeEvents is how many of a node's events node status shows.
const maxNodeEvents = 10

// NodeStatusCommand implements "drover node status": the list of client
// nodes, or one node's details and allocations.
type NodeStatusCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *NodeStatusCommand) Synopsis() string { return "Display status information about nodes" }

// Help implements Command.
func (c *NodeStatusCommand) Help() string {
	return `Usage: drover node status [options] [node]

  Without a node, list all client nodes. With a node ID or unique prefix (or
  -self), show that node's details, events, allocated resources and
  allocations.

` + generalOptions + `

Node Status Options:

  -self
    Show the node of the agent that -address points at.

  -short
    Show only the node's details.

  -stats
    Also show the host's measured resource usage: memory, each CPU core
    and the disks.

  -verbose
    Show full IDs, and the address and version columns in the list.`
}

// Run implements Command.
func (c *NodeStatusCommand) Run(_ context.Context, args []string) int {
	var self, short, stats, verbose bool
	fs := c.FlagSet("node status")
	fs.BoolVar(&self, "self", false, "")
	fs.BoolVar(&stats, "stats", false, "")
	fs.BoolVar(&short, "short", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() > 1 || (self && fs.NArg() != 0) {
		return c.usageError("node status", "This command takes either no arguments, one: <node>, or -self")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}

	var id string
	switch {
	case self:
		info, err := client.Agent().Self()
		if err != nil {
			return c.reportErr(fmt.Errorf("querying agent info: %w", err))
		}
		id = info.Stats["client"]["node_id"]
		if id == "" {
			return c.reportErr(plainError("The agent at this address is not running a client: -self needs a client agent"))
		}
	case fs.NArg() == 1:
		var err error
		if id, err = c.resolveNode(client, fs.Arg(0), verbose); err != nil {
			return c.reportErr(err)
		}
	default:
		nodes, _, err := client.Nodes().List(nil)
		if err != nil {
			return c.reportErr(fmt.Errorf("querying node status: %w", err))
		}
		if len(nodes) == 0 {
			c.UI.Output("No nodes registered")
			return ExitOK
		}
		c.UI.Output(formatNodeList(nodes, verbose))
		return ExitOK
	}
	if code := c.showNode(client, id, short, verbose); code != ExitOK || !stats {
		return code
	}
	hs, err := client.Nodes().Stats(id, nil)
	if err != nil {
		return c.reportErr(fmt.Errorf("querying host stats of node %q: %w", id, err))
	}
	c.UI.Output("\n" + formatHostStats(hs))
	return ExitOK
}

// formatHostStats renders a node's measured usage, as `nomad node status
// -stats` does: a summary, then memory, each core and each disk.
func formatHostStats(hs *api.HostStats) string {
	var b strings.Builder
	var memUsed, memTotal, diskUsed, diskSize uint64
	if m := hs.Memory; m != nil {
		memUsed, memTotal = m.Used, m.Total
	}
	if d := hs.AllocDirStats; d != nil {
		diskUsed, diskSize = d.Used, d.Size
	}
	b.WriteString("Host Resource Utilization\n")
	b.WriteString(formatList([]string{
		"CPU|Memory|Disk",
		fmt.Sprintf("%.0f MHz|%s/%s|%s/%s", hs.CPUTicksConsumed,
			humanBytes(memUsed), humanBytes(memTotal), humanBytes(diskUsed), humanBytes(diskSize)),
	}))
	b.WriteString("\n\nCPU Stats\n")
	cpu := []string{"CPU|User|System|Idle"}
	for _, c := range hs.CPU {
		cpu = append(cpu, fmt.Sprintf("%s|%.2f%%|%.2f%%|%.2f%%", c.CPU, c.User, c.System, c.Idle))
	}
	b.WriteString(formatList(cpu))
	if m := hs.Memory; m != nil {
		b.WriteString("\n\nMemory Stats\n")
		b.WriteString(formatKV([]string{
			"Total|" + humanBytes(m.Total),
			"Available|" + humanBytes(m.Available),
			"Used|" + humanBytes(m.Used),
			"Free|" + humanBytes(m.Free),
		}))
	}
	b.WriteString("\n\nDisk Stats\n")
	disks := []string{"Device|Mountpoint|Size|Used|Available|Used %|Inodes Used %"}
	for _, d := range hs.DiskStats {
		disks = append(disks, fmt.Sprintf("%s|%s|%s|%s|%s|%.2f%%|%.2f%%", d.Device, d.Mountpoint,
			humanBytes(d.Size), humanBytes(d.Used), humanBytes(d.Available), d.UsedPercent, d.InodesUsedPercent))
	}
	b.WriteString(formatList(disks))
	b.WriteString("\n\n" + formatKV([]string{"Uptime|" + (time.Duration(hs.Uptime) * time.Second).String()}))
	return b.String()
}

// formatNodeList renders the node list table.
func formatNodeList(nodes []*api.NodeListStub, verbose bool) string {
	n := idLength(verbose)
	header := "ID|Node Pool|DC|Name|Class|Drain|Eligibility|Status"
	if verbose {
		header = "ID|Node Pool|DC|Name|Class|Address|Version|Drain|Eligibility|Status"
	}
	lines := []string{header}
	for _, node := range nodes {
		cols := []string{limit(node.ID, n), node.NodePool, node.Datacenter, node.Name, orNone(node.NodeClass)}
		if verbose {
			cols = append(cols, node.Address, node.Version)
		}
		cols = append(cols, fmt.Sprint(node.Drain), node.SchedulingEligibility, node.Status)
		lines = append(lines, strings.Join(cols, "|"))
	}
	return formatList(lines)
}

// showNode prints one node.
func (m *Meta) showNode(client *api.Client, id string, short, verbose bool) int {
	node, _, err := client.Nodes().Info(id, nil)
	if err != nil {
		return m.reportErr(fmt.Errorf("querying node %q: %w", id, err))
	}
	m.UI.Output(formatNodeDetails(node, verbose))
	if short {
		return ExitOK
	}
	if len(node.Events) > 0 {
		m.UI.Output("\nNode Events")
		m.UI.Output(m.formatNodeEvents(node))
	}
	allocs, _, err := client.Nodes().Allocations(id, nil)
	if err != nil {
		return m.reportErr(fmt.Errorf("querying allocations of node %q: %w", id, err))
	}
	m.UI.Output("\nAllocated Resources")
	m.UI.Output(formatNodeAllocated(node, allocs))

	m.UI.Output("\nAllocations")
	if len(allocs) == 0 {
		m.UI.Output("No allocations placed")
		return ExitOK
	}
	stubs := make([]*api.AllocationListStub, 0, len(allocs))
	for _, a := range allocs {
		stubs = append(stubs, allocStub(a))
	}
	m.UI.Output(m.formatAllocStubs(stubs, verbose, false))
	return ExitOK
}

// formatNodeDetails renders the key/value block about a node.
func formatNodeDetails(node *api.Node, verbose bool) string {
	return formatKV([]string{
		"ID|" + limit(node.ID, idLength(verbose)),
		"Name|" + node.Name,
		"Node Pool|" + node.NodePool,
		"Class|" + orNone(node.NodeClass),
		"DC|" + node.Datacenter,
		fmt.Sprintf("Drain|%t", node.Drain),
		"Eligibility|" + node.SchedulingEligibility,
		"Status|" + node.Status,
		"Drivers|" + orNone(nodeDrivers(node)),
	})
}

// nodeDrivers lists the detected drivers, healthy ones by name and
// unhealthy ones marked so.
func nodeDrivers(node *api.Node) string {
	var out []string
	for _, name := range sortedKeys(node.Drivers) {
		d := node.Drivers[name]
		switch {
		case d == nil || !d.Detected:
		case d.Healthy:
			out = append(out, name)
		default:
			out = append(out, name+" (unhealthy)")
		}
	}
	return strings.Join(out, ",")
}

// formatNodeEvents renders the node's most recent events, newest first.
// (It works on the node because api does not alias Nomad's NodeEvent type.)
func (m *Meta) formatNodeEvents(node *api.Node) string {
	events := node.Events
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		return events[order[i]].Timestamp.After(events[order[j]].Timestamp)
	})
	if len(order) > maxNodeEvents {
		order = order[:maxNodeEvents]
	}
	lines := []string{"Time|Subsystem|Message"}
	for _, i := range order {
		e := events[i]
		lines = append(lines, fmt.Sprintf("%s|%s|%s", formatTime(e.Timestamp, m.loc()), e.Subsystem, e.Message))
	}
	return formatList(lines)
}

// formatNodeAllocated renders what the node's running allocations use out
// of what it can give (its resources minus the reserved part).
func formatNodeAllocated(node *api.Node, allocs []*api.Allocation) string {
	var cpu, mem, disk int64
	for _, a := range allocs {
		if a.ClientStatus != "pending" && a.ClientStatus != "running" {
			continue
		}
		if ar := a.AllocatedResources; ar != nil {
			disk += ar.Shared.DiskMB
			for _, tr := range ar.Tasks {
				cpu += tr.Cpu.CpuShares
				mem += tr.Memory.MemoryMB
			}
		}
	}
	var totalCPU, totalMem, totalDisk int64
	if nr := node.NodeResources; nr != nil {
		totalCPU, totalMem, totalDisk = nr.Cpu.CpuShares, nr.Memory.MemoryMB, nr.Disk.DiskMB
	}
	if rr := node.ReservedResources; rr != nil {
		totalCPU -= int64(rr.Cpu.CpuShares)
		totalMem -= int64(rr.Memory.MemoryMB)
		totalDisk -= int64(rr.Disk.DiskMB)
	}
	mib := func(mb int64) string { return humanBytes(uint64(max(mb, 0)) << 20) }
	return formatList([]string{
		"CPU|Memory|Disk",
		fmt.Sprintf("%d/%d MHz|%s/%s|%s/%s", cpu, totalCPU, mib(mem), mib(totalMem), mib(disk), mib(totalDisk)),
	})
}

// allocStub reduces an allocation to the fields the allocation tables show.
func allocStub(a *api.Allocation) *api.AllocationListStub {
	var version uint64
	if a.Job != nil && a.Job.Version != nil {
		version = *a.Job.Version
	}
	return &api.AllocationListStub{
		ID: a.ID, EvalID: a.EvalID, Name: a.Name, NodeID: a.NodeID, NodeName: a.NodeName,
		JobID: a.JobID, JobVersion: version, TaskGroup: a.TaskGroup,
		DesiredStatus: a.DesiredStatus, ClientStatus: a.ClientStatus,
		CreateIndex: a.CreateIndex, ModifyIndex: a.ModifyIndex,
		CreateTime: a.CreateTime, ModifyTime: a.ModifyTime,
	}
}
