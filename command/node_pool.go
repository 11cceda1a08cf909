// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/droverhq/drover/api"
)

// "node pool" is one command that dispatches its own subcommands (the CLI
// resolves two words), keeping Nomad's spelling: drover node pool list.

func init() {
	Register("node pool", func(ui *UI) Command { return &NodePoolCommand{Meta: Meta{UI: ui}} })
}

// NodePoolCommand implements "drover node pool list|info|apply|delete|nodes|jobs".
type NodePoolCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *NodePoolCommand) Synopsis() string { return "Interact with node pools" }

// Help implements Command.
func (c *NodePoolCommand) Help() string {
	return `Usage: drover node pool <subcommand> [options] [args]

  Create, inspect and delete node pools: named groups of client nodes
  that jobs target with node_pool. The built-in pools "default" and
  "all" always exist and cannot be changed.

Subcommands:

  list [-prefix=<p>]      List node pools.
  info <pool>             Show a node pool's details.
  apply <file>            Create or update a node pool from a specification
                          file (HCL, or JSON when the name ends in .json).
  delete <pool>           Delete a node pool that no node or live job uses.
  nodes [-verbose] <pool> List the nodes in a pool.
  jobs <pool>             List the jobs in a pool (all namespaces with
                          -namespace=*).

` + generalOptions
}

// Run implements Command.
func (c *NodePoolCommand) Run(_ context.Context, args []string) int {
	if len(args) == 0 {
		c.UI.Error(c.Help())
		return ExitError
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list":
		return c.list(rest)
	case "info":
		return c.info(rest)
	case "apply":
		return c.apply(rest)
	case "delete":
		return c.delete(rest)
	case "nodes":
		return c.nodes(rest)
	case "jobs":
		return c.jobs(rest)
	}
	return c.usageError("node pool", fmt.Sprintf("Unknown subcommand %q: use list, info, apply, delete, nodes or jobs", sub))
}

// oneArg parses flags and wants exactly one argument, named what.
func (c *NodePoolCommand) oneArg(sub, what string, args []string, setup func(fsSetter)) (string, bool) {
	fs := c.FlagSet("node pool " + sub)
	if setup != nil {
		setup(fs)
	}
	if !c.parseFlags(fs, args) {
		return "", false
	}
	if fs.NArg() != 1 {
		c.usageError("node pool "+sub, "This command takes one argument: "+what)
		return "", false
	}
	return fs.Arg(0), true
}

// fsSetter is the part of flag.FlagSet the subcommands use.
type fsSetter interface {
	BoolVar(p *bool, name string, value bool, usage string)
	StringVar(p *string, name string, value string, usage string)
}

func (c *NodePoolCommand) list(args []string) int {
	var prefix string
	fs := c.FlagSet("node pool list")
	fs.StringVar(&prefix, "prefix", "", "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() > 0 {
		return c.usageError("node pool list", "This command takes no arguments")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	pools, _, err := client.NodePools().PrefixList(prefix, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error listing node pools: %v", err))
		return ExitError
	}
	if len(pools) == 0 {
		c.UI.Output("No node pools found")
		return ExitOK
	}
	lines := []string{"Name|Description"}
	for _, p := range pools {
		lines = append(lines, p.Name+"|"+orNone(p.Description))
	}
	c.UI.Output(formatList(lines))
	return ExitOK
}

func (c *NodePoolCommand) info(args []string) int {
	name, ok := c.oneArg("info", "the node pool name", args, nil)
	if !ok {
		return ExitError
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	p, _, err := client.NodePools().Info(name, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading node pool %q: %v", name, err))
		return ExitError
	}
	c.UI.Output(formatKV([]string{"Name|" + p.Name, "Description|" + orNone(p.Description)}))
	c.UI.Output("\nMetadata")
	if len(p.Meta) == 0 {
		c.UI.Output("No metadata")
	} else {
		keys := make([]string, 0, len(p.Meta))
		for k := range p.Meta {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var lines []string
		for _, k := range keys {
			lines = append(lines, k+"|"+p.Meta[k])
		}
		c.UI.Output(formatKV(lines))
	}
	c.UI.Output("\nScheduler Configuration")
	sc := p.SchedulerConfiguration
	if sc == nil || (sc.SchedulerAlgorithm == "" && sc.MemoryOversubscriptionEnabled == nil) {
		c.UI.Output("No scheduler configuration")
		return ExitOK
	}
	oversub := "<not set>"
	if sc.MemoryOversubscriptionEnabled != nil {
		oversub = fmt.Sprint(*sc.MemoryOversubscriptionEnabled)
	}
	c.UI.Output(formatKV([]string{
		"Scheduler Algorithm|" + orNone(string(sc.SchedulerAlgorithm)),
		"Memory Oversubscription Enabled|" + oversub,
	}))
	return ExitOK
}

func (c *NodePoolCommand) apply(args []string) int {
	path, ok := c.oneArg("apply", "the node pool specification file", args, nil)
	if !ok {
		return ExitError
	}
	src, err := os.ReadFile(path)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading node pool specification: %v", err))
		return ExitError
	}
	pool, err := parseNodePoolSpec(path, src)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error parsing node pool specification:\n%v", err))
		return ExitError
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	if _, err := client.NodePools().Register(pool, nil); err != nil {
		c.UI.Error(fmt.Sprintf("Error applying node pool %q: %v", pool.Name, err))
		return ExitError
	}
	c.UI.Output(fmt.Sprintf("Successfully applied node pool %q!", pool.Name))
	return ExitOK
}

func (c *NodePoolCommand) delete(args []string) int {
	name, ok := c.oneArg("delete", "the node pool name", args, nil)
	if !ok {
		return ExitError
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	if _, err := client.NodePools().Delete(name, nil); err != nil {
		c.UI.Error(fmt.Sprintf("Error deleting node pool %q: %v", name, err))
		return ExitError
	}
	c.UI.Output(fmt.Sprintf("Successfully deleted node pool %q!", name))
	return ExitOK
}

func (c *NodePoolCommand) nodes(args []string) int {
	var verbose bool
	name, ok := c.oneArg("nodes", "the node pool name", args, func(fs fsSetter) { fs.BoolVar(&verbose, "verbose", false, "") })
	if !ok {
		return ExitError
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	nodes, _, err := client.NodePools().ListNodes(name, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error listing nodes of node pool %q: %v", name, err))
		return ExitError
	}
	if len(nodes) == 0 {
		c.UI.Output(fmt.Sprintf("No nodes in node pool %q", name))
		return ExitOK
	}
	c.UI.Output(formatNodeList(nodes, verbose))
	return ExitOK
}

func (c *NodePoolCommand) jobs(args []string) int {
	name, ok := c.oneArg("jobs", "the node pool name", args, nil)
	if !ok {
		return ExitError
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	jobs, _, err := client.NodePools().ListJobs(name, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error listing jobs of node pool %q: %v", name, err))
		return ExitError
	}
	if len(jobs) == 0 {
		c.UI.Output(fmt.Sprintf("No jobs in node pool %q", name))
		return ExitOK
	}
	c.UI.Output(formatPoolJobs(jobs))
	return ExitOK
}

func formatPoolJobs(jobs []*api.JobListStub) string {
	lines := []string{"ID|Namespace|Type|Priority|Status"}
	for _, j := range jobs {
		lines = append(lines, strings.Join([]string{j.ID, j.Namespace, j.Type, fmt.Sprint(j.Priority), j.Status}, "|"))
	}
	return formatList(lines)
}
