// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/droverhq/drover/api"
)

// JobStopCommand implements "drover job stop": deregister a job and
// monitor the evaluation that stops its allocations.
type JobStopCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *JobStopCommand) Synopsis() string { return "Stop a running job" }

// Help implements Command.
func (c *JobStopCommand) Help() string {
	return `Usage: drover job stop [options] <job>

  Stop the job with the given ID (or unique ID prefix) and monitor the
  evaluation that stops its allocations. When the argument is a prefix rather
  than the exact ID, ask for confirmation first. Exit codes are those of
  'drover job run'.

` + generalOptions + `

Stop Options:

  -detach
    Return right after deregistration and print the evaluation ID.

  -purge
    Remove the job from the cluster state at once instead of leaving it to
    garbage collection.

  -yes
    Answer yes to the confirmation prompt.

  -verbose
    Show full IDs.`
}

// Run implements Command.
func (c *JobStopCommand) Run(ctx context.Context, args []string) int {
	var detach, purge, yes, verbose bool
	fs := c.FlagSet("job stop")
	fs.BoolVar(&detach, "detach", false, "")
	fs.BoolVar(&purge, "purge", false, "")
	fs.BoolVar(&yes, "yes", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() != 1 {
		return c.usageError("job stop", "This command takes one argument: <job>")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	prefix := strings.TrimSpace(fs.Arg(0))
	stub, err := c.resolveJob(client, prefix)
	if err != nil {
		return c.reportErr(err)
	}

	if !yes && stub.ID != prefix {
		if !c.confirm(fmt.Sprintf("Are you sure you want to stop job %q? [y/N] ", stub.ID)) {
			c.UI.Output("Cancelling job stop")
			return ExitOK
		}
	}

	evalID, _, err := client.Jobs().Deregister(stub.ID, purge, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return c.reportErr(fmt.Errorf("deregistering job %q: %w", stub.ID, err))
	}
	// Purging an already stopped job needs no evaluation.
	if evalID == "" {
		return ExitOK
	}
	if detach {
		c.UI.Output(evalID)
		return ExitOK
	}
	mon := &evalMonitor{meta: &c.Meta, client: client, verbose: verbose}
	return mon.monitor(ctx, evalID)
}

// confirm asks question on the output stream and reads a y/yes answer.
func (m *Meta) confirm(question string) bool {
	fmt.Fprint(m.UI.Out, question)
	if m.UI.In == nil {
		return false
	}
	line, _ := bufio.NewReader(m.UI.In).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
