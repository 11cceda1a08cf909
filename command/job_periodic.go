// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"strings"

	"github.com/droverhq/drover/api"
)

func init() {
	Register("job periodic force", func(ui *UI) Command { return &JobPeriodicForceCommand{Meta: Meta{UI: ui}} })
}

// JobPeriodicForceCommand implements "drover job periodic force": launch a
// periodic job's child now, whatever its schedule, and monitor the child's
// evaluation.
type JobPeriodicForceCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *JobPeriodicForceCommand) Synopsis() string {
	return "Force the launch of a periodic job"
}

// Help implements Command.
func (c *JobPeriodicForceCommand) Help() string {
	return `Usage: drover job periodic force [options] <job>

  Launch an instance of the periodic job with the given ID (or unique ID
  prefix) now, regardless of its schedule and of prohibit_overlap, and
  monitor the launched job's evaluation. Exit codes are those of
  'drover job run'.

` + generalOptions + `

Periodic Force Options:

  -detach
    Return right after the launch and print the evaluation ID.

  -verbose
    Show full IDs.`
}

// Run implements Command.
func (c *JobPeriodicForceCommand) Run(ctx context.Context, args []string) int {
	var detach, verbose bool
	fs := c.FlagSet("job periodic force")
	fs.BoolVar(&detach, "detach", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() != 1 {
		return c.usageError("job periodic force", "This command takes one argument: <job>")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	stub, err := c.resolveJob(client, strings.TrimSpace(fs.Arg(0)))
	if err != nil {
		return c.reportErr(err)
	}
	evalID, _, err := client.Jobs().PeriodicForce(stub.ID, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return c.reportErr(fmt.Errorf("forcing periodic job %q: %w", stub.ID, err))
	}
	if detach {
		c.UI.Output("Force periodic successful")
		c.UI.Output("Evaluation ID: " + evalID)
		return ExitOK
	}
	mon := &evalMonitor{meta: &c.Meta, client: client, verbose: verbose}
	return mon.monitor(ctx, evalID)
}
