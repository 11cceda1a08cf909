// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/droverhq/drover/api"
)

// AllocStatusCommand implements "drover alloc status": an allocation's
// details and, per task, its state, resources and recent events.
type AllocStatusCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *AllocStatusCommand) Synopsis() string {
	return "Display allocation status information and metadata"
}

// Help implements Command.
func (c *AllocStatusCommand) Help() string {
	return `Usage: drover alloc status [options] <allocation>

  Show an allocation and the state of its tasks. The allocation is given by
  its ID or a unique ID prefix; a prefix that matches several allocations
  lists them.

` + generalOptions + `

Alloc Status Options:

  -short
    Show one line per task with its most recent event.

  -stats
    Also show each running task's measured CPU and memory use.

  -verbose
    Show full IDs and absolute times.`
}

// Run implements Command.
func (c *AllocStatusCommand) Run(_ context.Context, args []string) int {
	var short, stats, verbose bool
	fs := c.FlagSet("alloc status")
	fs.BoolVar(&short, "short", false, "")
	fs.BoolVar(&stats, "stats", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() != 1 {
		return c.usageError("alloc status", "This command takes one argument: <allocation>")
	}
	client, id, code := c.clientForAlloc(fs.Arg(0), verbose)
	if code != ExitOK {
		return code
	}
	if code := c.showAlloc(client, id, short, verbose); code != ExitOK || !stats {
		return code
	}
	usage, err := client.Allocations().Stats(&api.Allocation{ID: id}, nil)
	if err != nil {
		return c.reportErr(fmt.Errorf("querying resource usage of allocation %q: %w", id, err))
	}
	c.UI.Output("\n" + formatAllocUsage(usage))
	return ExitOK
}

// formatAllocUsage renders the measured use of each running task (the
// type is Nomad's: Drover's api package has no alias for it yet).
func formatAllocUsage(u *api.AllocResourceUsage) string {
	lines := []string{"Task|CPU|CPU User|CPU System|Memory RSS|Memory Cache|Memory Swap"}
	for _, name := range sortedKeys(u.Tasks) {
		tu := u.Tasks[name]
		if tu == nil || tu.ResourceUsage == nil {
			continue
		}
		cpu, mem := tu.ResourceUsage.CpuStats, tu.ResourceUsage.MemoryStats
		if cpu == nil {
			cpu = &api.CpuStats{}
		}
		if mem == nil {
			mem = &api.MemoryStats{}
		}
		lines = append(lines, fmt.Sprintf("%s|%.0f MHz (%.2f%%)|%.2f%%|%.2f%%|%s|%s|%s", name,
			cpu.TotalTicks, cpu.Percent, cpu.UserMode, cpu.SystemMode,
			humanBytes(mem.RSS), humanBytes(mem.Cache), humanBytes(mem.Swap)))
	}
	if len(lines) == 1 {
		return "Resource Utilization\nNo running task reports resource usage"
	}
	return "Resource Utilization\n" + formatList(lines)
}

// showAlloc prints the allocation with the full ID id.
func (m *Meta) showAlloc(client *api.Client, id string, short, verbose bool) int {
	alloc, _, err := client.Allocations().Info(id, nil)
	if err != nil {
		return m.reportErr(fmt.Errorf("querying allocation %q: %w", id, err))
	}
	m.UI.Output(m.formatAllocDetails(alloc, verbose))
	if verbose && alloc.Metrics != nil {
		m.UI.Output("\nPlacement Metrics")
		if s := formatPlacementMetrics(alloc.Metrics); s != "" {
			m.UI.Output(s)
		}
	}
	if short {
		m.UI.Output("\nTasks")
		m.UI.Output(m.formatTaskSummaries(alloc))
		return ExitOK
	}
	for _, task := range taskNames(alloc) {
		m.UI.Output("\n" + m.formatTask(alloc, task))
	}
	return ExitOK
}

// formatAllocDetails renders the key/value block about an allocation.
func (m *Meta) formatAllocDetails(a *api.Allocation, verbose bool) string {
	n := idLength(verbose)
	version := "0"
	if a.Job != nil && a.Job.Version != nil {
		version = fmt.Sprint(*a.Job.Version)
	}
	lines := []string{
		"ID|" + limit(a.ID, n),
		"Eval ID|" + limit(a.EvalID, n),
		"Name|" + a.Name,
		"Node ID|" + limit(a.NodeID, n),
		"Node Name|" + a.NodeName,
		"Job ID|" + a.JobID,
		"Job Version|" + version,
		"Client Status|" + a.ClientStatus,
		"Client Description|" + orNone(a.ClientDescription),
		"Desired Status|" + a.DesiredStatus,
		"Desired Description|" + orNone(a.DesiredDescription),
		"Created|" + m.timeOrRelative(a.CreateTime, verbose),
		"Modified|" + m.timeOrRelative(a.ModifyTime, verbose),
	}
	if a.DeploymentID != "" {
		health := "unset"
		if a.DeploymentStatus != nil && a.DeploymentStatus.Healthy != nil {
			health = map[bool]string{true: "healthy", false: "unhealthy"}[*a.DeploymentStatus.Healthy]
		}
		lines = append(lines, "Deployment ID|"+limit(a.DeploymentID, n), "Deployment Health|"+health)
	}
	if a.FollowupEvalID != "" {
		lines = append(lines, "Follow-up Evaluation|"+limit(a.FollowupEvalID, n))
	}
	return formatKV(lines)
}

// taskNames lists the allocation's tasks: those with a state first, then any
// task of the group that has not reported yet, each set sorted by name.
func taskNames(a *api.Allocation) []string {
	names := sortedKeys(a.TaskStates)
	if a.Job != nil {
		if tg := a.Job.LookupTaskGroup(a.TaskGroup); tg != nil {
			var extra []string
			for _, t := range tg.Tasks {
				if _, ok := a.TaskStates[t.Name]; !ok {
					extra = append(extra, t.Name)
				}
			}
			sort.Strings(extra)
			names = append(names, extra...)
		}
	}
	return names
}

// formatTaskSummaries renders the -short table: one line per task.
func (m *Meta) formatTaskSummaries(a *api.Allocation) string {
	lines := []string{"Name|State|Last Event|Time"}
	for _, name := range taskNames(a) {
		state, lastType, lastTime := "pending", "", ""
		if ts := a.TaskStates[name]; ts != nil {
			state = ts.State
			if len(ts.Events) > 0 {
				last := ts.Events[len(ts.Events)-1]
				lastType, lastTime = last.Type, formatUnixNano(last.Time, m.loc())
			}
		}
		lines = append(lines, fmt.Sprintf("%s|%s|%s|%s", name, state, lastType, lastTime))
	}
	return formatList(lines)
}

// formatTask renders one task: its state, resources, lifecycle times and
// recent events.
func (m *Meta) formatTask(a *api.Allocation, task string) string {
	ts := a.TaskStates[task]
	state := "pending"
	if ts != nil {
		state = ts.State
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Task %q is %q\n", task, state)
	b.WriteString("Task Resources:\n")
	b.WriteString(formatTaskResources(a, task))
	if ts == nil {
		return b.String()
	}
	b.WriteString("\n\nTask Events:\n")
	b.WriteString(formatKV([]string{
		"Started At|" + formatTime(ts.StartedAt, m.loc()),
		"Finished At|" + formatTime(ts.FinishedAt, m.loc()),
		fmt.Sprintf("Total Restarts|%d", ts.Restarts),
		"Last Restart|" + formatTime(ts.LastRestart, m.loc()),
	}))
	b.WriteString("\n\nRecent Events:\n")
	b.WriteString(m.formatTaskEvents(ts.Events))
	return b.String()
}

// formatTaskResources renders the resources allotted to task.
func formatTaskResources(a *api.Allocation, task string) string {
	var cpu, mem, disk int64
	var addrs []string
	if ar := a.AllocatedResources; ar != nil {
		disk = ar.Shared.DiskMB
		if tr := ar.Tasks[task]; tr != nil {
			cpu, mem = tr.Cpu.CpuShares, tr.Memory.MemoryMB
			addrs = append(addrs, networkAddrs(tr.Networks)...)
		}
		for _, p := range ar.Shared.Ports {
			addrs = append(addrs, fmt.Sprintf("%s: %s:%d", p.Label, p.HostIP, p.Value))
		}
		if len(ar.Shared.Ports) == 0 {
			addrs = append(addrs, networkAddrs(ar.Shared.Networks)...)
		}
	}
	return formatList([]string{
		"CPU|Memory|Disk|Addresses",
		fmt.Sprintf("%d MHz|%s|%s|%s", cpu, humanBytes(uint64(mem)<<20), humanBytes(uint64(disk)<<20),
			strings.Join(addrs, ", ")),
	})
}

// networkAddrs lists "label: ip:port" for every port of nets.
func networkAddrs(nets []*api.NetworkResource) []string {
	var out []string
	for _, n := range nets {
		if n == nil {
			continue
		}
		for _, p := range append(append([]api.Port(nil), n.ReservedPorts...), n.DynamicPorts...) {
			out = append(out, fmt.Sprintf("%s: %s:%d", p.Label, n.IP, p.Value))
		}
	}
	return out
}

// formatTaskEvents renders task events, newest first.
func (m *Meta) formatTaskEvents(events []*api.TaskEvent) string {
	lines := []string{"Time|Type|Description"}
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		lines = append(lines, fmt.Sprintf("%s|%s|%s",
			formatUnixNano(e.Time, m.loc()), e.Type, eventDescription(e)))
	}
	return formatList(lines)
}

// eventDescription is the human text of a task event: the agent's
// DisplayMessage, else the best of the older detail fields.
func eventDescription(e *api.TaskEvent) string {
	switch {
	case e.DisplayMessage != "":
		return e.DisplayMessage
	case e.Message != "":
		return e.Message
	case e.DriverError != "":
		return e.DriverError
	case e.SetupError != "":
		return e.SetupError
	case e.RestartReason != "":
		return e.RestartReason
	case e.Type == "Terminated":
		return fmt.Sprintf("Exit Code: %d", e.ExitCode)
	}
	return ""
}
