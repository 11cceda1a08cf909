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
	Register("job validate", func(ui *UI) Command { return &JobValidateCommand{Meta: Meta{UI: ui}} })
}

// JobValidateCommand implements "drover job validate": parse a job file and
// have the agent check it the way registration would, without registering.
type JobValidateCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *JobValidateCommand) Synopsis() string { return "Checks if a given job specification is valid" }

// Help implements Command.
func (c *JobValidateCommand) Help() string {
	return `Usage: drover job validate [options] <path>

  Checks that the job file at <path> (HCL2 or JSON; "-" reads stdin) parses,
  and that the agent finds the job valid. When no agent is reachable, only
  the parse is checked, and the command says so.

` + generalOptions + `

Validate Options:

  -json             Treat the job file as JSON.
  -var 'key=value'  Set an HCL2 input variable; repeatable.
  -var-file=path    Read HCL2 input variables from a file; repeatable.`
}

// Run implements Command.
func (c *JobValidateCommand) Run(ctx context.Context, args []string) int {
	var (
		jsonInput      bool
		vars, varFiles stringList
	)
	fs := c.FlagSet("job validate")
	fs.BoolVar(&jsonInput, "json", false, "")
	fs.Var(&vars, "var", "")
	fs.Var(&varFiles, "var-file", "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() != 1 {
		return c.usageError("job validate", "This command takes one argument: <path>")
	}
	job, err := readJob(fs.Arg(0), c.UI.In, jobFileOptions{json: jsonInput, vars: vars, varFiles: varFiles})
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error parsing job file %s:\n%v", fs.Arg(0), err))
		return ExitError
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	resp, _, err := client.Jobs().Validate(job, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error contacting the agent to validate the job (%v): the job file parses, but it was not checked further.", err))
		return ExitError
	}
	if len(resp.ValidationErrors) > 0 || resp.Error != "" {
		errs := resp.ValidationErrors
		if len(errs) == 0 {
			errs = []string{resp.Error}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Job validation errors:\n%d %s occurred:\n", len(errs), plural(len(errs), "error"))
		for _, e := range errs {
			fmt.Fprintf(&b, "\t* %s\n", e)
		}
		c.UI.Error(strings.TrimRight(b.String(), "\n"))
		return ExitError
	}
	if resp.Warnings != "" {
		c.UI.Output("Job Warnings:\n" + strings.TrimSpace(resp.Warnings) + "\n")
	}
	c.UI.Output("Job validation successful")
	return ExitOK
}
