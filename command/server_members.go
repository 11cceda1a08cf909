// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

func init() {
	Register("server members", func(ui *UI) Command { return &ServerMembersCommand{Meta: Meta{UI: ui}} })
}

// ServerMembersCommand implements "drover server members": the servers the
// agent's server knows, with which one leads.
type ServerMembersCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *ServerMembersCommand) Synopsis() string {
	return "Display a list of known servers and their status"
}

// Help implements Command.
func (c *ServerMembersCommand) Help() string {
	return `Usage: drover server members [options]

  Display a list of the known servers and their status. Only Drover servers
  are able to service this command.

` + generalOptions + `

Server Members Options:

  -verbose
    Show all of each server's tags.`
}

// Run implements Command.
func (c *ServerMembersCommand) Run(ctx context.Context, args []string) int {
	var verbose bool
	fs := c.FlagSet("server members")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() > 0 {
		return c.usageError("server members", "This command takes no arguments")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	members, err := client.Agent().Members()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error querying servers: %v", err))
		return ExitError
	}
	leader, err := client.Status().Leader()
	if err != nil {
		// Members are still worth showing without a leader.
		leader = ""
	}
	sort.Slice(members.Members, func(i, j int) bool { return members.Members[i].Name < members.Members[j].Name })
	header := "Name|Address|Port|Status|Leader|Raft Version|Build|Datacenter|Region"
	if verbose {
		header += "|Tags"
	}
	lines := []string{header}
	for _, m := range members.Members {
		isLeader := leader != "" && m.Tags["rpc_addr"] == leader
		line := strings.Join([]string{
			m.Name, m.Addr, strconv.Itoa(int(m.Port)), m.Status, strconv.FormatBool(isLeader),
			orDash(m.Tags["raft_vsn"]), orDash(m.Tags["build"]), m.Tags["dc"], m.Tags["region"],
		}, "|")
		if verbose {
			keys := make([]string, 0, len(m.Tags))
			for k := range m.Tags {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			tags := make([]string, 0, len(keys))
			for _, k := range keys {
				tags = append(tags, k+"="+m.Tags[k])
			}
			line += "|" + strings.Join(tags, ",")
		}
		lines = append(lines, line)
	}
	c.UI.Output(formatList(lines))
	return ExitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
