// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/droverhq/drover/api"
)

// The CLI's dispatcher resolves at most two words, so "operator raft" is
// one command that dispatches its own subcommands (list-peers,
// remove-peer), keeping Nomad's three-word spelling.

func init() {
	Register("operator raft", func(ui *UI) Command { return &OperatorRaftCommand{Meta: Meta{UI: ui}} })
}

// OperatorRaftCommand implements "drover operator raft list-peers|remove-peer".
type OperatorRaftCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *OperatorRaftCommand) Synopsis() string { return "Provides access to the Raft subsystem" }

// Help implements Command.
func (c *OperatorRaftCommand) Help() string {
	return `Usage: drover operator raft <subcommand> [options]

  Inspect and change the servers' Raft peer set.

Subcommands:

  list-peers
    Display the current Raft peer configuration.

      -stale  Let any server answer from its own state, without
              checking with the leader.

  remove-peer
    Remove a Drover server from the Raft configuration (a server that
    failed and will not come back).

      -peer-address=<IP:port>  The peer's Raft (RPC) address.
      -peer-id=<id>            The peer's Raft ID.

` + generalOptions
}

// Run implements Command.
func (c *OperatorRaftCommand) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		c.UI.Error(c.Help())
		return ExitError
	}
	switch args[0] {
	case "list-peers":
		return c.listPeers(args[1:])
	case "remove-peer":
		return c.removePeer(args[1:])
	}
	return c.usageError("operator raft", fmt.Sprintf("Unknown subcommand %q: use list-peers or remove-peer", args[0]))
}

func (c *OperatorRaftCommand) listPeers(args []string) int {
	var stale bool
	fs := c.FlagSet("operator raft list-peers")
	fs.BoolVar(&stale, "stale", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() > 0 {
		return c.usageError("operator raft list-peers", "This command takes no arguments")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	cfg, err := client.Operator().RaftGetConfiguration(&api.QueryOptions{AllowStale: stale})
	if err != nil {
		c.UI.Error(fmt.Sprintf("Failed to retrieve raft configuration: %v", err))
		return ExitError
	}
	lines := []string{"Node|ID|Address|State|Voter|RaftProtocol"}
	for _, s := range cfg.Servers {
		state := "follower"
		if s.Leader {
			state = "leader"
		}
		lines = append(lines, strings.Join([]string{
			s.Node, s.ID, s.Address, state, strconv.FormatBool(s.Voter), s.RaftProtocol,
		}, "|"))
	}
	c.UI.Output(formatList(lines))
	return ExitOK
}

func (c *OperatorRaftCommand) removePeer(args []string) int {
	var address, id string
	fs := c.FlagSet("operator raft remove-peer")
	fs.StringVar(&address, "peer-address", "", "")
	fs.StringVar(&id, "peer-id", "", "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() > 0 {
		return c.usageError("operator raft remove-peer", "This command takes no arguments")
	}
	if (address == "") == (id == "") {
		return c.usageError("operator raft remove-peer", "Exactly one of -peer-address and -peer-id is required")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	if address != "" {
		if err := client.Operator().RaftRemovePeerByAddress(address, nil); err != nil {
			c.UI.Error(fmt.Sprintf("Error removing peer: %v", err))
			return ExitError
		}
		c.UI.Output(fmt.Sprintf("Removed peer with address %q", address))
		return ExitOK
	}
	if err := client.Operator().RaftRemovePeerByID(id, nil); err != nil {
		c.UI.Error(fmt.Sprintf("Error removing peer: %v", err))
		return ExitError
	}
	c.UI.Output(fmt.Sprintf("Removed peer with id %q", id))
	return ExitOK
}
