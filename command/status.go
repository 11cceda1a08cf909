// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"strings"

	"github.com/droverhq/drover/api"
)

// StatusCommand implements "drover status": the job list, or the status of
// whatever job, allocation, node or evaluation an identifier names.
type StatusCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *StatusCommand) Synopsis() string { return "Display the status output for a resource" }

// Help implements Command.
func (c *StatusCommand) Help() string {
	return `Usage: drover status [options] [identifier]

  Without an identifier, list all jobs. With a job ID, or an allocation, node
  or evaluation ID (or a prefix of one), find what it names and show its
  status as the matching 'job status', 'alloc status', 'node status' or
  'eval status' command would.

` + generalOptions + `

Status Options:

  -short
    Show short output where the target command supports it.

  -verbose
    Show full IDs and absolute times.`
}

// statusMatches are the objects an identifier matched, by kind.
type statusMatches struct {
	jobs   []*api.JobListStub
	allocs []*api.AllocationListStub
	nodes  []*api.NodeListStub
	evals  []*api.Evaluation
}

// Run implements Command.
func (c *StatusCommand) Run(_ context.Context, args []string) int {
	var short, verbose bool
	fs := c.FlagSet("status")
	fs.BoolVar(&short, "short", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() > 1 {
		return c.usageError("status", "This command takes either no arguments or one: <identifier>")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	if fs.NArg() == 0 {
		return c.listJobs(client)
	}
	id := strings.TrimSpace(fs.Arg(0))
	m, err := c.findAll(client, id)
	if err != nil {
		return c.reportErr(err)
	}

	// An exact job ID wins over anything else it might prefix.
	for _, j := range m.jobs {
		if j.ID == id {
			return c.showJob(client, j.ID, short, verbose)
		}
	}
	kinds := 0
	for _, n := range []int{len(m.jobs), len(m.allocs), len(m.nodes), len(m.evals)} {
		if n > 0 {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		return c.reportErr(plainError(fmt.Sprintf("No matches found for id %q", id)))
	case kinds > 1:
		return c.reportErr(plainError(m.describe(id)))
	case len(m.jobs) == 1:
		return c.showJob(client, m.jobs[0].ID, short, verbose)
	case len(m.jobs) > 1:
		return c.reportErr(&ambiguousError{kind: "jobs", table: c.formatJobList(m.jobs)})
	case len(m.allocs) == 1:
		return c.showAlloc(client, m.allocs[0].ID, short, verbose)
	case len(m.allocs) > 1:
		return c.reportErr(&ambiguousError{kind: "allocations", table: c.formatAllocStubs(m.allocs, verbose, true)})
	case len(m.nodes) == 1:
		return c.showNode(client, m.nodes[0].ID, short, verbose)
	case len(m.nodes) > 1:
		return c.reportErr(&ambiguousError{kind: "nodes", table: formatNodeList(m.nodes, verbose)})
	case len(m.evals) == 1:
		return c.showEval(client, m.evals[0].ID, verbose)
	default:
		return c.reportErr(&ambiguousError{kind: "evaluations", table: c.formatEvalList(m.evals, verbose)})
	}
}

// findAll looks id up as a job ID prefix and, when it could be the start of
// a UUID, as an allocation, node and evaluation ID prefix.
func (c *StatusCommand) findAll(client *api.Client, id string) (*statusMatches, error) {
	m := &statusMatches{}
	var err error
	if m.jobs, _, err = client.Jobs().PrefixList(id); err != nil {
		return nil, fmt.Errorf("querying jobs with prefix %q: %w", id, err)
	}
	if !looksLikeUUIDPrefix(id) {
		return m, nil
	}
	prefix := sanitizeUUIDPrefix(id)
	if m.allocs, _, err = client.Allocations().PrefixList(prefix); err != nil {
		return nil, fmt.Errorf("querying allocations with prefix %q: %w", id, err)
	}
	if m.nodes, _, err = client.Nodes().PrefixList(prefix); err != nil {
		return nil, fmt.Errorf("querying nodes with prefix %q: %w", id, err)
	}
	if m.evals, _, err = client.Evaluations().PrefixList(prefix); err != nil {
		return nil, fmt.Errorf("querying evaluations with prefix %q: %w", id, err)
	}
	m.allocs = filterPrefix(m.allocs, id, func(a *api.AllocationListStub) string { return a.ID })
	m.nodes = filterPrefix(m.nodes, id, func(n *api.NodeListStub) string { return n.ID })
	m.evals = filterPrefix(m.evals, id, func(e *api.Evaluation) string { return e.ID })
	return m, nil
}

// describe lists the matches of several kinds, for the user to pick one.
func (m *statusMatches) describe(id string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Multiple matches found for id %q", id)
	section := func(title string, ids []string) {
		if len(ids) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n\n%s:\n  %s", title, strings.Join(ids, "\n  "))
	}
	var ids []string
	for _, j := range m.jobs {
		ids = append(ids, j.ID)
	}
	section("Jobs", ids)
	ids = nil
	for _, a := range m.allocs {
		ids = append(ids, a.ID)
	}
	section("Allocations", ids)
	ids = nil
	for _, n := range m.nodes {
		ids = append(ids, n.ID)
	}
	section("Nodes", ids)
	ids = nil
	for _, e := range m.evals {
		ids = append(ids, e.ID)
	}
	section("Evaluations", ids)
	return b.String()
}
