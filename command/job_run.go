// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/droverhq/drover/api"
)

// JobRunCommand implements "drover job run": parse a job file, register the
// job and monitor the evaluation that the registration created.
type JobRunCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *JobRunCommand) Synopsis() string { return "Run a new job or update an existing job" }

// Help implements Command.
func (c *JobRunCommand) Help() string {
	return `Usage: drover job run [options] <path>

  Parse the job file at <path> (HCL2, or JSON; "-" reads stdin), register the
  job, and monitor the evaluation until the scheduler has placed the job's
  allocations. It is safe to leave the monitor early with ctrl+c.

  Exit code 0 means the job was registered and every allocation placed, 2 that
  placement failed (unsatisfiable constraints, exhausted resources, ...), and
  1 any other error.

` + generalOptions + `

Run Options:

  -check-index
    Submit the job only if the servers' job modify index equals this value
    ("drover job plan" prints it; 0 means the job must not exist yet).

  -detach
    Return right after registration and print the evaluation ID.

  -var 'key=value'
    Set an HCL2 input variable; repeatable.

  -var-file=path
    Read HCL2 input variables from a file; repeatable.

  -json
    Treat the job file as JSON (an API job object, bare or as {"Job": ...}).

  -output
    Print the parsed job as JSON ({"Job": ...}) instead of registering it.
    Nothing contacts the agent; fields the file does not set stay null.

  -verbose
    Show full IDs.`
}

// Run implements Command.
func (c *JobRunCommand) Run(ctx context.Context, args []string) int {
	var (
		detach, verbose, jsonInput, output bool
		vars, varFiles                     stringList
		checkIndex                         string
	)
	fs := c.FlagSet("job run")
	fs.StringVar(&checkIndex, "check-index", "", "")
	fs.BoolVar(&detach, "detach", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	fs.BoolVar(&jsonInput, "json", false, "")
	fs.BoolVar(&output, "output", false, "")
	fs.Var(&vars, "var", "")
	fs.Var(&varFiles, "var-file", "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() != 1 {
		return c.usageError("job run", "This command takes one argument: <path>")
	}

	job, err := readJob(fs.Arg(0), c.UI.In, jobFileOptions{json: jsonInput, vars: vars, varFiles: varFiles})
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error parsing job file %s:\n%v", fs.Arg(0), err))
		return ExitError
	}

	if output {
		return c.printJobJSON(job)
	}

	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	// A job that names its region or namespace is registered there,
	// whatever the flags and environment say (Nomad's rule); the monitor
	// then reads the evaluation from there too.
	if job.Region != nil && *job.Region != "" {
		client.SetRegion(*job.Region)
	}
	if job.Namespace != nil && *job.Namespace != "" {
		client.SetNamespace(*job.Namespace)
	}

	var opts *api.RegisterOptions
	if checkIndex != "" {
		index, err := strconv.ParseUint(checkIndex, 10, 64)
		if err != nil {
			return c.usageError("job run", fmt.Sprintf("Invalid -check-index %q: %v", checkIndex, err))
		}
		opts = &api.RegisterOptions{EnforceIndex: true, ModifyIndex: index}
	}
	resp, _, err := client.Jobs().RegisterOpts(job, opts, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error submitting job: %v", err))
		return ExitError
	}
	if resp.Warnings != "" {
		c.UI.Error("Job Warnings:\n" + strings.TrimSpace(resp.Warnings) + "\n")
	}

	// Periodic and parameterized jobs register without an evaluation.
	if detach || resp.EvalID == "" {
		c.UI.Output("Job registration successful")
		if resp.EvalID != "" {
			c.UI.Output("Evaluation ID: " + resp.EvalID)
		}
		return ExitOK
	}
	mon := &evalMonitor{meta: &c.Meta, client: client, verbose: verbose}
	return mon.monitor(ctx, resp.EvalID)
}

// printJobJSON prints job as `nomad job run -output` does: {"Job": ...}
// indented with four spaces.
func (m *Meta) printJobJSON(job *api.Job) int {
	buf, err := json.MarshalIndent(struct{ Job *api.Job }{Job: job}, "", "    ")
	if err != nil {
		m.UI.Error(fmt.Sprintf("Error encoding job: %v", err))
		return ExitError
	}
	m.UI.Output(string(buf))
	return ExitOK
}
