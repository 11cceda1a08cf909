// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
)

func init() {
	Register("node eligibility", func(ui *UI) Command { return &NodeEligibilityCommand{Meta: Meta{UI: ui}} })
}

// NodeEligibilityCommand implements "drover node eligibility": whether the
// scheduler may place new allocations on a node. Allocations already there
// keep running.
type NodeEligibilityCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *NodeEligibilityCommand) Synopsis() string {
	return "Toggle scheduling eligibility for a given node"
}

// Help implements Command.
func (c *NodeEligibilityCommand) Help() string {
	return `Usage: drover node eligibility [options] <node>

  Toggle whether the scheduler may place new allocations on a node (its ID
  or a unique prefix, or -self). Allocations already on the node keep
  running; to move them, drain the node. A draining node cannot be made
  eligible.

` + generalOptions + `

Node Eligibility Options:

  -enable
    Make the node eligible for scheduling.

  -disable
    Make the node ineligible for scheduling.

  -self
    Act on the node of the agent that -address points at.`
}

// Run implements Command.
func (c *NodeEligibilityCommand) Run(_ context.Context, args []string) int {
	var enable, disable, self bool
	fs := c.FlagSet("node eligibility")
	fs.BoolVar(&enable, "enable", false, "")
	fs.BoolVar(&disable, "disable", false, "")
	fs.BoolVar(&self, "self", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	switch {
	case self && fs.NArg() != 0, !self && fs.NArg() != 1:
		return c.usageError("node eligibility", "This command takes either one argument: <node>, or -self")
	case enable == disable:
		return c.usageError("node eligibility", "Either the '-enable' or '-disable' flag must be set")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	id, err := c.nodeArg(client, self, fs.Args())
	if err != nil {
		return c.reportErr(err)
	}
	if _, err := client.Nodes().ToggleEligibility(id, enable, nil); err != nil {
		return c.reportErr(fmt.Errorf("updating scheduling eligibility: %w", err))
	}
	state := "ineligible"
	if enable {
		state = "eligible"
	}
	c.UI.Output(fmt.Sprintf("Node %q scheduling eligibility set: %s for scheduling", id, state))
	return ExitOK
}
