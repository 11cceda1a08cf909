// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"

	"github.com/droverhq/drover/api"
)

func init() {
	Register("job inspect", func(ui *UI) Command { return &JobInspectCommand{Meta: Meta{UI: ui}} })
}

// JobInspectCommand implements "drover job inspect": print the stored job
// as JSON, in the form `job run -json` accepts back.
type JobInspectCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *JobInspectCommand) Synopsis() string { return "Inspect a submitted job" }

// Help implements Command.
func (c *JobInspectCommand) Help() string {
	return `Usage: drover job inspect [options] <job>

  Prints the job as the servers store it, as JSON ({"Job": ...}). <job> may
  be a unique prefix of the job's ID.

` + generalOptions
}

// Run implements Command.
func (c *JobInspectCommand) Run(ctx context.Context, args []string) int {
	fs := c.FlagSet("job inspect")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() != 1 {
		return c.usageError("job inspect", "This command takes one argument: <job>")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	q := (&api.QueryOptions{}).WithContext(ctx)
	stub, err := c.resolveJob(client, fs.Arg(0))
	if err != nil {
		return c.reportErr(err)
	}
	job, _, err := client.Jobs().Info(stub.ID, q)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error inspecting job: %v", err))
		return ExitError
	}
	return c.printJobJSON(job)
}
