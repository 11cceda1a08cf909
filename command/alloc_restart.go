// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"

	"github.com/droverhq/drover/api"
)

func init() {
	Register("alloc restart", func(ui *UI) Command { return &AllocRestartCommand{Meta: Meta{UI: ui}} })
}

// AllocRestartCommand implements "drover alloc restart": restart the
// tasks of an allocation in place.
type AllocRestartCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *AllocRestartCommand) Synopsis() string { return "Restart a running allocation" }

// Help implements Command.
func (c *AllocRestartCommand) Help() string {
	return `Usage: drover alloc restart [options] <allocation> [<task>]

  Restarts, in place, the tasks of an allocation that are running, or only
  <task>, which must be running. A restart asked for by a user does not
  count against the task's restart policy. <allocation> may be a unique ID
  prefix.

` + generalOptions + `

Restart Options:

  -all-tasks
    Restart every task of the allocation. It cannot be combined with a task.
    Nomad also runs again the prestart and poststart tasks that already
    completed; Drover does not, and refuses -all-tasks for an allocation
    with a completed task (the error names it).

  -task <task>
    The task to restart (the same as giving it as an argument).

  -verbose
    Show full IDs.`
}

// Run implements Command.
func (c *AllocRestartCommand) Run(ctx context.Context, args []string) int {
	var task string
	var allTasks, verbose bool
	fs := c.FlagSet("alloc restart")
	fs.StringVar(&task, "task", "", "")
	fs.BoolVar(&allTasks, "all-tasks", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	switch fs.NArg() {
	case 1:
	case 2:
		// As in Nomad, -task wins over the argument.
		if task == "" {
			task = fs.Arg(1)
		}
	default:
		return c.usageError("alloc restart", "This command takes one or two arguments: <allocation> [<task>]")
	}
	if allTasks && task != "" {
		return c.usageError("alloc restart", "The -all-tasks option cannot be used with a task name")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	id, err := c.resolveAlloc(client, fs.Arg(0), verbose)
	if err != nil {
		return c.reportErr(err)
	}
	alloc, _, err := client.Allocations().Info(id, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return c.reportErr(fmt.Errorf("querying allocation %q: %w", id, err))
	}
	if task != "" && !hasTask(alloc, task) {
		return c.reportErr(plainError(fmt.Sprintf("Could not find task named %q in allocation %s", task, limit(id, idLength(verbose)))))
	}
	q := (&api.QueryOptions{}).WithContext(ctx)
	if allTasks {
		err = client.Allocations().RestartAllTasks(alloc, q) //nolint:staticcheck // Nomad's client API; the HTTP body is the same.
	} else {
		err = client.Allocations().Restart(alloc, task, q)
	}
	if err != nil {
		c.UI.Error(fmt.Sprintf("Failed to restart allocation: %v", err))
		return ExitError
	}
	return ExitOK
}

// hasTask reports whether the allocation's group has the task.
func hasTask(a *api.Allocation, task string) bool {
	for _, name := range taskNames(a) {
		if name == task {
			return true
		}
	}
	return false
}
