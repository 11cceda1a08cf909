// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/droverhq/drover/api"
)

func init() {
	Register("node drain", func(ui *UI) Command { return &NodeDrainCommand{Meta: Meta{UI: ui}} })
}

// defaultDrainDeadline is how long a drain may take before the remaining
// allocations are stopped, as Nomad's -deadline default.
const defaultDrainDeadline = time.Hour

// NodeDrainCommand implements "drover node drain": start, update or cancel
// a node's drain, and follow it.
type NodeDrainCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *NodeDrainCommand) Synopsis() string { return "Toggle drain mode on a given node" }

// Help implements Command.
func (c *NodeDrainCommand) Help() string {
	return `Usage: drover node drain [options] <node>

  Toggle node draining on a node (its ID or a unique prefix, or -self).
  A draining node is ineligible for new allocations; its allocations migrate
  to other nodes as their groups' migrate blocks allow, and whatever is left
  at the deadline is stopped. When the drain is complete the node stays
  ineligible until 'drover node eligibility -enable'.

` + generalOptions + `

Node Drain Options:

  -disable
    Cancel the node's drain.

  -enable
    Start (or update) the node's drain.

  -deadline <duration>
    How long allocations may take to migrate before the rest are stopped.
    Default: 1h.

  -detach
    Return at once instead of monitoring the drain.

  -monitor
    Monitor the drain without changing it.

  -force
    Stop every allocation at once (no deadline to migrate).

  -no-deadline
    Let allocations take as long as they need to migrate.

  -ignore-system
    Leave the allocations of system jobs on the node.

  -keep-ineligible
    With -disable, keep the node ineligible for scheduling.

  -m <message>
    Record a message in the node's drain metadata.

  -meta <key>=<value>
    Record custom metadata in the node's drain metadata (repeatable).

  -self
    Drain the node of the agent that -address points at.

  -yes
    Do not ask for confirmation.`
}

// drainFlags are node drain's options once parsed.
type drainFlags struct {
	enable, disable, detach, monitor, force, noDeadline bool
	ignoreSystem, keepIneligible, self, yes             bool
	deadline                                            time.Duration
	message                                             string
	meta                                                stringList
}

// Run implements Command.
func (c *NodeDrainCommand) Run(ctx context.Context, args []string) int {
	var f drainFlags
	fs := c.FlagSet("node drain")
	fs.BoolVar(&f.enable, "enable", false, "")
	fs.BoolVar(&f.disable, "disable", false, "")
	fs.DurationVar(&f.deadline, "deadline", defaultDrainDeadline, "")
	fs.BoolVar(&f.detach, "detach", false, "")
	fs.BoolVar(&f.monitor, "monitor", false, "")
	fs.BoolVar(&f.force, "force", false, "")
	fs.BoolVar(&f.noDeadline, "no-deadline", false, "")
	fs.BoolVar(&f.ignoreSystem, "ignore-system", false, "")
	fs.BoolVar(&f.keepIneligible, "keep-ineligible", false, "")
	fs.StringVar(&f.message, "m", "", "")
	fs.Var(&f.meta, "meta", "")
	fs.BoolVar(&f.self, "self", false, "")
	fs.BoolVar(&f.yes, "yes", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	deadlineSet := false
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "deadline" {
			deadlineSet = true
		}
	})
	if msg := f.validate(deadlineSet, fs.NArg()); msg != "" {
		return c.usageError("node drain", msg)
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	id, err := c.nodeArg(client, f.self, fs.Args())
	if err != nil {
		return c.reportErr(err)
	}
	if f.monitor {
		return c.monitorDrain(ctx, client, id, 0, f.ignoreSystem)
	}
	if f.enable && !f.yes && !c.confirm(fmt.Sprintf("Are you sure you want to enable drain mode for node %q? [y/N] ", id)) {
		c.UI.Output("Canceling drain toggle")
		return ExitOK
	}

	opts := &api.DrainOptions{MarkEligible: !f.keepIneligible}
	if f.enable {
		spec := &api.DrainSpec{Deadline: f.deadline, IgnoreSystemJobs: f.ignoreSystem}
		switch {
		case f.force:
			spec.Deadline = -1 * time.Second
		case f.noDeadline:
			spec.Deadline = 0
		}
		opts.DrainSpec = spec
	}
	if meta, err := drainMeta(f.message, f.meta); err != nil {
		return c.usageError("node drain", err.Error())
	} else if meta != nil {
		opts.Meta = meta
	}
	resp, err := client.Nodes().UpdateDrainOpts(id, opts, nil)
	if err != nil {
		return c.reportErr(fmt.Errorf("updating drain specification: %w", err))
	}
	if !f.enable {
		c.UI.Output(fmt.Sprintf("Node %q drain strategy unset", id))
		return ExitOK
	}
	if f.detach {
		c.UI.Output(fmt.Sprintf("Node %q drain strategy set", id))
		return ExitOK
	}
	c.UI.Output(fmt.Sprintf("%s: Ctrl-C to stop monitoring: will not cancel the node drain", c.stamp()))
	c.UI.Output(fmt.Sprintf("%s: Node %q drain strategy set", c.stamp(), id))
	return c.monitorDrain(ctx, client, id, resp.LastIndex, f.ignoreSystem)
}

// validate checks the combination of flags; it returns the problem or "".
func (f *drainFlags) validate(deadlineSet bool, nargs int) string {
	switch {
	case f.self && nargs != 0, !f.self && nargs != 1:
		return "This command takes either one argument: <node>, or -self"
	case f.monitor && (f.enable || f.disable):
		return "The -monitor flag cannot be used with the -enable or -disable flags"
	case !f.monitor && f.enable == f.disable:
		return "Either the '-enable' or '-disable' flag must be set, unless using '-monitor'"
	case f.force && f.noDeadline:
		return "-force and -no-deadline are mutually exclusive"
	case deadlineSet && (f.force || f.noDeadline):
		return "-deadline cannot be combined with -force or -no-deadline"
	case deadlineSet && f.deadline <= 0:
		return "A positive drain deadline must be given"
	case f.keepIneligible && !f.disable:
		return "-keep-ineligible can only be used with -disable"
	}
	return ""
}

// drainMeta builds the drain's metadata from -m and -meta k=v.
func drainMeta(message string, kvs []string) (map[string]string, error) {
	if message == "" && len(kvs) == 0 {
		return nil, nil
	}
	meta := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("Error parsing -meta %q: want key=value", kv)
		}
		meta[k] = v
	}
	if message != "" {
		meta["message"] = message
	}
	return meta, nil
}

// nodeArg resolves the node the command acts on: -self or a prefix.
func (m *Meta) nodeArg(client *api.Client, self bool, args []string) (string, error) {
	if !self {
		return m.resolveNode(client, args[0], true)
	}
	info, err := client.Agent().Self()
	if err != nil {
		return "", fmt.Errorf("querying agent info: %w", err)
	}
	id := info.Stats["client"]["node_id"]
	if id == "" {
		return "", plainError("The agent at this address is not running a client: -self needs a client agent")
	}
	return id, nil
}

// stamp formats now as monitor lines show it.
func (m *Meta) stamp() string { return m.timeNow().In(m.loc()).Format(timeFormat) }

// monitorDrain prints the drain's progress, as the official client's
// MonitorDrain reports it, until it is complete and the node's
// allocations have stopped, or ctx ends (Ctrl-C: the drain goes on).
func (m *Meta) monitorDrain(ctx context.Context, client *api.Client, id string, index uint64, ignoreSystem bool) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	code := ExitOK
	for msg := range client.Nodes().MonitorDrain(ctx, id, index, ignoreSystem) {
		if msg.Level == api.MonitorMsgLevelError {
			code = ExitError
		}
		m.UI.Output(fmt.Sprintf("%s: %s", m.stamp(), msg))
	}
	return code
}
