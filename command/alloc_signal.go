// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
)

func init() {
	Register("alloc signal", func(ui *UI) Command { return &AllocSignalCommand{Meta: Meta{UI: ui}} })
}

// AllocSignalCommand implements "drover alloc signal": send a signal to
// the tasks of an allocation.
type AllocSignalCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *AllocSignalCommand) Synopsis() string { return "Signal a running allocation" }

// Help implements Command.
func (c *AllocSignalCommand) Help() string {
	return `Usage: drover alloc signal [options] <allocation> [<task>]

  Sends a signal to the tasks of an allocation: all its running tasks, or
  only <task>. <allocation> may be a unique ID prefix.

` + generalOptions + `

Signal Options:

  -s <signal>
    The signal to send, such as SIGHUP or HUP. Default: SIGKILL.

  -task <task>
    The task to signal (the same as giving it as an argument).

  -verbose
    Show full IDs.`
}

// Run implements Command.
func (c *AllocSignalCommand) Run(ctx context.Context, args []string) int {
	var signal, task string
	var verbose bool
	fs := c.FlagSet("alloc signal")
	fs.StringVar(&signal, "s", "SIGKILL", "")
	fs.StringVar(&task, "task", "", "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	switch fs.NArg() {
	case 1:
	case 2:
		if task != "" && task != fs.Arg(1) {
			return c.usageError("alloc signal", "Give the task once: as -task or as an argument")
		}
		task = fs.Arg(1)
	default:
		return c.usageError("alloc signal", "This command takes one or two arguments: <allocation> [<task>]")
	}
	client, id, code := c.clientForAlloc(fs.Arg(0), verbose)
	if code != ExitOK {
		return code
	}
	alloc, err := allocInfo(client, id)
	if err != nil {
		return c.reportErr(err)
	}
	if err := client.Allocations().Signal(alloc, nil, task, signal); err != nil {
		c.UI.Error(fmt.Sprintf("Error sending signal: %v", err))
		return ExitError
	}
	return ExitOK
}
