// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"

	"github.com/droverhq/drover/api"
)

// EvalStatusCommand implements "drover eval status": an evaluation's
// details and placement failures, or a monitor of it.
type EvalStatusCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *EvalStatusCommand) Synopsis() string {
	return "Display evaluation status and placement failure reasons"
}

// Help implements Command.
func (c *EvalStatusCommand) Help() string {
	return `Usage: drover eval status [options] <evaluation>

  Show an evaluation, given by ID or unique ID prefix, and why it could not
  place allocations if it could not. With -monitor, follow it until it is
  terminal instead, with the exit codes of 'drover job run'.

` + generalOptions + `

Eval Status Options:

  -monitor
    Monitor the evaluation until it is terminal.

  -verbose
    Show full IDs and absolute times.`
}

// Run implements Command.
func (c *EvalStatusCommand) Run(ctx context.Context, args []string) int {
	var monitor, verbose bool
	fs := c.FlagSet("eval status")
	fs.BoolVar(&monitor, "monitor", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() != 1 {
		return c.usageError("eval status", "This command takes one argument: <evaluation>")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	id, err := c.resolveEval(client, fs.Arg(0), verbose)
	if err != nil {
		return c.reportErr(err)
	}
	if monitor {
		mon := &evalMonitor{meta: &c.Meta, client: client, verbose: verbose}
		return mon.monitor(ctx, id)
	}
	return c.showEval(client, id, verbose)
}

// showEval prints one evaluation.
func (m *Meta) showEval(client *api.Client, id string, verbose bool) int {
	eval, _, err := client.Evaluations().Info(id, nil)
	if err != nil {
		return m.reportErr(fmt.Errorf("querying evaluation %q: %w", id, err))
	}
	m.UI.Output(m.formatEvalDetails(eval, verbose))
	if len(eval.FailedTGAllocs) == 0 {
		return ExitOK
	}
	n := idLength(verbose)
	m.UI.Output("\nFailed Placements")
	for _, tg := range sortedKeys(eval.FailedTGAllocs) {
		metrics := eval.FailedTGAllocs[tg]
		failed := metrics.CoalescedFailures + 1
		m.UI.Output(fmt.Sprintf("Task Group %q (failed to place %d %s):", tg, failed, plural(failed, "allocation")))
		if s := formatAllocMetrics(metrics, "  "); s != "" {
			m.UI.Output(s)
		}
	}
	if eval.BlockedEval != "" {
		m.UI.Output(fmt.Sprintf("\nEvaluation %q waiting for additional capacity to place remainder",
			limit(eval.BlockedEval, n)))
	}
	return ExitOK
}

// formatEvalDetails renders the key/value block about an evaluation.
func (m *Meta) formatEvalDetails(e *api.Evaluation, verbose bool) string {
	n := idLength(verbose)
	lines := []string{
		"ID|" + limit(e.ID, n),
		"Create Time|" + m.timeOrRelative(e.CreateTime, verbose),
		"Modify Time|" + m.timeOrRelative(e.ModifyTime, verbose),
		"Status|" + e.Status,
		"Status Description|" + orNone(e.StatusDescription),
		"Type|" + e.Type,
		"TriggeredBy|" + e.TriggeredBy,
	}
	if e.NodeID != "" {
		lines = append(lines, "Node ID|"+limit(e.NodeID, n))
	} else {
		lines = append(lines, "Job ID|"+e.JobID)
	}
	lines = append(lines,
		"Namespace|"+orNone(e.Namespace),
		fmt.Sprintf("Priority|%d", e.Priority),
		fmt.Sprintf("Placement Failures|%t", len(e.FailedTGAllocs) > 0),
	)
	for _, rel := range []struct{ key, id string }{
		{"Previous Eval", e.PreviousEval}, {"Next Eval", e.NextEval}, {"Blocked Eval", e.BlockedEval},
	} {
		if rel.id != "" {
			lines = append(lines, rel.key+"|"+limit(rel.id, n))
		}
	}
	return formatKV(lines)
}

// formatEvalList renders a table of evaluations.
func (m *Meta) formatEvalList(evals []*api.Evaluation, verbose bool) string {
	n := idLength(verbose)
	lines := []string{"ID|Priority|Triggered By|Job ID|Status|Placement Failures"}
	for _, e := range evals {
		lines = append(lines, fmt.Sprintf("%s|%d|%s|%s|%s|%t",
			limit(e.ID, n), e.Priority, e.TriggeredBy, e.JobID, e.Status, len(e.FailedTGAllocs) > 0))
	}
	return formatList(lines)
}
