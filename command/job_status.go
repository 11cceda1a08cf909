// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/droverhq/drover/api"
)

// JobStatusCommand implements "drover job status": the list of jobs, or one
// job's details, task group summary and allocations.
type JobStatusCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *JobStatusCommand) Synopsis() string { return "Display status information about a job" }

// Help implements Command.
func (c *JobStatusCommand) Help() string {
	return `Usage: drover job status [options] [job]

  Without a job, list all jobs. With a job ID or ID prefix, show that job's
  details, the summary of its task groups and its allocations. A prefix that
  matches several jobs lists them.

` + generalOptions + `

Status Options:

  -short
    Show only the job's details, not its summary and allocations.

  -verbose
    Show full IDs and absolute times.`
}

// Run implements Command.
func (c *JobStatusCommand) Run(_ context.Context, args []string) int {
	var short, verbose bool
	fs := c.FlagSet("job status")
	fs.BoolVar(&short, "short", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() > 1 {
		return c.usageError("job status", "This command takes either no arguments or one: <job>")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	if fs.NArg() == 0 {
		return c.listJobs(client)
	}
	stub, err := c.resolveJob(client, fs.Arg(0))
	if err != nil {
		return c.reportErr(err)
	}
	return c.showJob(client, stub.ID, short, verbose)
}

// listJobs prints the table of all jobs.
func (m *Meta) listJobs(client *api.Client) int {
	jobs, _, err := client.Jobs().List(nil)
	if err != nil {
		return m.reportErr(fmt.Errorf("querying jobs: %w", err))
	}
	if len(jobs) == 0 {
		m.UI.Output("No running jobs")
		return ExitOK
	}
	m.UI.Output(m.formatJobList(jobs))
	return ExitOK
}

// formatJobList renders the job list table.
func (m *Meta) formatJobList(jobs []*api.JobListStub) string {
	lines := []string{"ID|Type|Priority|Status|Submit Date"}
	for _, j := range jobs {
		lines = append(lines, fmt.Sprintf("%s|%s|%d|%s|%s",
			j.ID, j.Type, j.Priority, jobStatus(j.Status, j.Stop), formatUnixNano(j.SubmitTime, m.loc())))
	}
	return formatList(lines)
}

// jobStatus is the status column: a stopped job reads "dead (stopped)".
func jobStatus(status string, stop bool) string {
	if stop {
		return status + " (stopped)"
	}
	return status
}

// showJob prints one job: details, then (unless short) its task group
// summary, placement failures and allocations.
func (m *Meta) showJob(client *api.Client, id string, short, verbose bool) int {
	job, _, err := client.Jobs().Info(id, nil)
	if err != nil {
		return m.reportErr(fmt.Errorf("querying job %q: %w", id, err))
	}
	m.UI.Output(m.formatJobDetails(job))
	if short {
		return ExitOK
	}

	summary, _, err := client.Jobs().Summary(id, nil)
	if err != nil {
		return m.reportErr(fmt.Errorf("querying job summary of %q: %w", id, err))
	}
	m.UI.Output("\nSummary")
	m.UI.Output(formatJobSummary(summary))

	evals, _, err := client.Jobs().Evaluations(id, nil)
	if err != nil {
		return m.reportErr(fmt.Errorf("querying evaluations of job %q: %w", id, err))
	}
	if s := formatPlacementFailures(evals); s != "" {
		m.UI.Output("\nPlacement Failure")
		m.UI.Output(s)
	}

	allocs, _, err := client.Jobs().Allocations(id, false, nil)
	if err != nil {
		return m.reportErr(fmt.Errorf("querying allocations of job %q: %w", id, err))
	}
	m.UI.Output("\nAllocations")
	if len(allocs) == 0 {
		m.UI.Output("No allocations placed")
		return ExitOK
	}
	m.UI.Output(m.formatAllocStubs(allocs, verbose, false))
	return ExitOK
}

// formatJobDetails renders the key/value block about a job.
func (m *Meta) formatJobDetails(job *api.Job) string {
	submit := "N/A"
	if job.SubmitTime != nil {
		submit = formatUnixNano(*job.SubmitTime, m.loc())
	}
	status := deref(job.Status)
	if deref(job.Stop) {
		status = jobStatus(status, true)
	}
	nodePool := deref(job.NodePool)
	if nodePool == "" {
		nodePool = "default"
	}
	namespace := deref(job.Namespace)
	if namespace == "" {
		namespace = "default"
	}
	return formatKV([]string{
		"ID|" + deref(job.ID),
		"Name|" + deref(job.Name),
		"Submit Date|" + submit,
		"Type|" + deref(job.Type),
		fmt.Sprintf("Priority|%d", deref(job.Priority)),
		"Datacenters|" + strings.Join(job.Datacenters, ","),
		"Namespace|" + namespace,
		"Node Pool|" + nodePool,
		"Status|" + status,
		fmt.Sprintf("Periodic|%t", job.Periodic != nil),
		fmt.Sprintf("Parameterized|%t", job.ParameterizedJob != nil),
	})
}

// formatJobSummary renders the per task group allocation counts.
func formatJobSummary(s *api.JobSummary) string {
	lines := []string{"Task Group|Queued|Starting|Running|Failed|Complete|Lost|Unknown"}
	for _, tg := range sortedKeys(s.Summary) {
		c := s.Summary[tg]
		lines = append(lines, fmt.Sprintf("%s|%d|%d|%d|%d|%d|%d|%d",
			tg, c.Queued, c.Starting, c.Running, c.Failed, c.Complete, c.Lost, c.Unknown))
	}
	return formatList(lines)
}

// formatPlacementFailures explains why the job's blocked evaluations could
// not place allocations; "" when none is blocked.
func formatPlacementFailures(evals []*api.Evaluation) string {
	// While an evaluation is blocked, the job still waits for room: the
	// reasons are those of the newest evaluation that failed to place (a
	// blocked evaluation records none itself; the one that blocked it did).
	var blocked bool
	var latest *api.Evaluation
	for _, e := range evals {
		blocked = blocked || e.Status == "blocked"
		if len(e.FailedTGAllocs) > 0 && (latest == nil || e.CreateIndex > latest.CreateIndex) {
			latest = e
		}
	}
	if !blocked || latest == nil {
		return ""
	}
	var parts []string
	for _, tg := range sortedKeys(latest.FailedTGAllocs) {
		part := fmt.Sprintf("Task Group %q:", tg)
		if s := formatAllocMetrics(latest.FailedTGAllocs[tg], "  "); s != "" {
			part += "\n" + s
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "\n\n")
}

// formatAllocStubs renders an allocation table, newest first. withEval adds
// the Eval ID column (used when listing prefix matches).
func (m *Meta) formatAllocStubs(allocs []*api.AllocationListStub, verbose, withEval bool) string {
	sorted := append([]*api.AllocationListStub(nil), allocs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].CreateIndex != sorted[j].CreateIndex {
			return sorted[i].CreateIndex > sorted[j].CreateIndex
		}
		return sorted[i].ID < sorted[j].ID
	})
	n := idLength(verbose)
	header := "ID|Node ID|Task Group|Version|Desired|Status|Created|Modified"
	if verbose {
		header = "ID|Eval ID|Node ID|Node Name|Task Group|Version|Desired|Status|Created|Modified"
	} else if withEval {
		header = "ID|Eval ID|Node ID|Task Group|Version|Desired|Status|Created|Modified"
	}
	lines := []string{header}
	for _, a := range sorted {
		cols := []string{limit(a.ID, n)}
		if verbose || withEval {
			cols = append(cols, limit(a.EvalID, n))
		}
		cols = append(cols, limit(a.NodeID, n))
		if verbose {
			cols = append(cols, a.NodeName)
		}
		cols = append(cols, a.TaskGroup, fmt.Sprint(a.JobVersion), a.DesiredStatus, a.ClientStatus,
			m.timeOrRelative(a.CreateTime, verbose), m.timeOrRelative(a.ModifyTime, verbose))
		lines = append(lines, strings.Join(cols, "|"))
	}
	return formatList(lines)
}

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
