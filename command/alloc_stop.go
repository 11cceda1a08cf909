// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"

	"github.com/droverhq/drover/api"
)

func init() {
	Register("alloc stop", func(ui *UI) Command { return &AllocStopCommand{Meta: Meta{UI: ui}} })
}

// AllocStopCommand implements "drover alloc stop": stop an allocation and
// have the scheduler replace it.
type AllocStopCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *AllocStopCommand) Synopsis() string { return "Stop and reschedule a running allocation" }

// Help implements Command.
func (c *AllocStopCommand) Help() string {
	return `Usage: drover alloc stop [options] <allocation>

  Stops an allocation: the scheduler stops it and places a replacement,
  possibly on another node. The evaluation that does so is monitored until
  it completes, unless -detach is given. <allocation> may be a unique ID
  prefix.

` + generalOptions + `

Stop Options:

  -detach
    Return at once with the evaluation's ID instead of monitoring it.

  -no-shutdown-delay
    Ignore the group's and tasks' shutdown_delay.

  -verbose
    Show full IDs.`
}

// Run implements Command.
func (c *AllocStopCommand) Run(ctx context.Context, args []string) int {
	var detach, noDelay, verbose bool
	fs := c.FlagSet("alloc stop")
	fs.BoolVar(&detach, "detach", false, "")
	fs.BoolVar(&noDelay, "no-shutdown-delay", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() != 1 {
		return c.usageError("alloc stop", "This command takes one argument: <allocation>")
	}
	client, id, code := c.clientForAlloc(fs.Arg(0), verbose)
	if code != ExitOK {
		return code
	}
	q := (&api.QueryOptions{}).WithContext(ctx)
	if noDelay {
		q.Params = map[string]string{"no_shutdown_delay": "true"}
	}
	resp, err := client.Allocations().Stop(&api.Allocation{ID: id}, q)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error stopping allocation: %v", err))
		return ExitError
	}
	if detach {
		c.UI.Output(resp.EvalID)
		return ExitOK
	}
	mon := &evalMonitor{meta: &c.Meta, client: client, verbose: verbose}
	return mon.monitor(ctx, resp.EvalID)
}
