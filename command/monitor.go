// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/droverhq/drover/api"
)

// blockingWait is how long one blocking query may wait for a change.
const blockingWait = 5 * time.Minute

// evalMonitor follows an evaluation until it is terminal and narrates what
// happens (status changes, allocations created, placement failures), like
// the monitor of Nomad's job run, job stop and eval status.
type evalMonitor struct {
	meta    *Meta
	client  *api.Client
	verbose bool
}

// stamp formats the current time as monitor lines show it.
func (mon *evalMonitor) stamp() string {
	return mon.meta.timeNow().In(mon.meta.loc()).Format(timeFormat)
}

// header prints a "==> <time>: msg" line.
func (mon *evalMonitor) header(msg string) {
	mon.meta.UI.Output(fmt.Sprintf("==> %s: %s", mon.stamp(), msg))
}

// detail prints a "    <time>: msg" line.
func (mon *evalMonitor) detail(msg string) {
	mon.meta.UI.Output(fmt.Sprintf("    %s: %s", mon.stamp(), msg))
}

// monitor follows evalID and returns the exit code: ExitOK when the
// evaluation completed and placed everything, ExitPlacementFailure when it
// failed or could not place all allocations, ExitError on errors.
func (mon *evalMonitor) monitor(ctx context.Context, evalID string) int {
	n := idLength(mon.verbose)
	mon.header(fmt.Sprintf("Monitoring evaluation %q", limit(evalID, n)))

	var (
		index       uint64
		lastStatus  = "pending"
		announced   bool
		deployShown bool
		seen        = map[string]bool{}
	)
	for {
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: blockingWait}).WithContext(ctx)
		eval, meta, err := mon.client.Evaluations().Info(evalID, q)
		if err != nil {
			if ctx.Err() != nil {
				mon.meta.UI.Error("Monitoring interrupted: the evaluation goes on in the cluster")
				return ExitError
			}
			mon.meta.UI.Error(fmt.Sprintf("Error reading evaluation %q: %v", evalID, err))
			return ExitError
		}

		if !announced {
			announced = true
			mon.detail(triggerMessage(eval, n))
		}
		if eval.DeploymentID != "" && !deployShown {
			deployShown = true
			mon.detail(fmt.Sprintf("Evaluation within deployment: %q", limit(eval.DeploymentID, n)))
		}

		allocs, _, err := mon.client.Evaluations().Allocations(evalID, (&api.QueryOptions{}).WithContext(ctx))
		if err != nil {
			mon.meta.UI.Error(fmt.Sprintf("Error reading allocations of evaluation %q: %v", evalID, err))
			return ExitError
		}
		sort.Slice(allocs, func(i, j int) bool {
			if allocs[i].Name != allocs[j].Name {
				return allocs[i].Name < allocs[j].Name
			}
			return allocs[i].ID < allocs[j].ID
		})
		for _, a := range allocs {
			if seen[a.ID] {
				continue
			}
			seen[a.ID] = true
			mon.detail(fmt.Sprintf("Allocation %q created: node %q, group %q",
				limit(a.ID, n), limit(a.NodeID, n), a.TaskGroup))
		}

		if eval.Status != lastStatus {
			mon.detail(fmt.Sprintf("Evaluation status changed: %q -> %q", lastStatus, eval.Status))
			lastStatus = eval.Status
		}

		switch eval.Status {
		case "complete", "failed", "canceled", "cancelled":
			if eval.NextEval != "" && eval.Wait > 0 && eval.Status == "complete" {
				mon.detail(fmt.Sprintf("Monitoring next evaluation %q in %s", limit(eval.NextEval, n), eval.Wait))
				evalID, index, lastStatus, announced, deployShown = eval.NextEval, 0, "pending", false, false
				continue
			}
			return mon.finish(eval, n)
		}

		if meta.LastIndex <= index {
			// The agent answered without waiting (no newer index): pace
			// the polling instead of spinning.
			if err := sleepCtx(ctx, mon.meta.poll()); err != nil {
				mon.meta.UI.Error("Monitoring interrupted: the evaluation goes on in the cluster")
				return ExitError
			}
		}
		index = meta.LastIndex
	}
}

// finish prints the outcome of a terminal evaluation and returns the exit
// code.
func (mon *evalMonitor) finish(eval *api.Evaluation, n int) int {
	if len(eval.FailedTGAllocs) == 0 {
		mon.header(fmt.Sprintf("Evaluation %q finished with status %q", limit(eval.ID, n), eval.Status))
		if eval.Status == "failed" {
			return ExitPlacementFailure
		}
		if eval.Status != "complete" {
			return ExitError
		}
		return ExitOK
	}
	mon.header(fmt.Sprintf("Evaluation %q finished with status %q but failed to place all allocations:",
		limit(eval.ID, n), eval.Status))
	for _, tg := range sortedKeys(eval.FailedTGAllocs) {
		metrics := eval.FailedTGAllocs[tg]
		failed := metrics.CoalescedFailures + 1
		mon.detail(fmt.Sprintf("Task Group %q (failed to place %d %s):", tg, failed, plural(failed, "allocation")))
		if s := formatAllocMetrics(metrics, "      "); s != "" {
			mon.meta.UI.Output(s)
		}
	}
	if eval.BlockedEval != "" {
		mon.detail(fmt.Sprintf("Evaluation %q waiting for additional capacity to place remainder",
			limit(eval.BlockedEval, n)))
	}
	return ExitPlacementFailure
}

// triggerMessage says what caused an evaluation.
func triggerMessage(eval *api.Evaluation, n int) string {
	switch eval.TriggeredBy {
	case "node-update", "node-drain":
		return fmt.Sprintf("Evaluation triggered by node %q", limit(eval.NodeID, n))
	case "alloc-stop", "alloc-failure", "failed-follow-up", "reconnect", "max-disconnect-timeout":
		return fmt.Sprintf("Evaluation triggered by %s of job %q", eval.TriggeredBy, eval.JobID)
	case "deployment-watcher":
		return fmt.Sprintf("Evaluation triggered by deployment %q", limit(eval.DeploymentID, n))
	}
	return fmt.Sprintf("Evaluation triggered by job %q", eval.JobID)
}

// formatAllocMetrics explains why placements failed, one "* reason" line per
// cause, each line starting with prefix. Map-keyed causes are sorted so the
// output is stable.
func formatAllocMetrics(m *api.AllocationMetric, prefix string) string {
	if m == nil {
		return ""
	}
	var lines []string
	add := func(format string, args ...any) {
		lines = append(lines, prefix+"* "+fmt.Sprintf(format, args...))
	}
	if m.NodesEvaluated == 0 {
		add("No nodes were eligible for evaluation")
	}
	for _, dc := range sortedKeys(m.NodesAvailable) {
		if m.NodesAvailable[dc] == 0 {
			add("No nodes are available in datacenter %q", dc)
		}
	}
	for _, class := range sortedKeys(m.ClassFiltered) {
		add("Class %q: %d nodes excluded by filter", class, m.ClassFiltered[class])
	}
	for _, cons := range sortedKeys(m.ConstraintFiltered) {
		add("Constraint %q: %d nodes excluded by filter", cons, m.ConstraintFiltered[cons])
	}
	if m.NodesExhausted > 0 {
		add("Resources exhausted on %d nodes", m.NodesExhausted)
	}
	for _, class := range sortedKeys(m.ClassExhausted) {
		add("Class %q exhausted on %d nodes", class, m.ClassExhausted[class])
	}
	for _, dim := range sortedKeys(m.DimensionExhausted) {
		add("Dimension %q exhausted on %d nodes", dim, m.DimensionExhausted[dim])
	}
	for _, q := range m.QuotaExhausted {
		add("Quota limit hit %q", q)
	}
	return strings.Join(lines, "\n")
}

// formatPlacementMetrics is the placement part of `alloc status
// -verbose`: what filtered or exhausted nodes, then a table of each scored
// node's score per scorer (sorted by name) and its final score.
func formatPlacementMetrics(m *api.AllocationMetric) string {
	var parts []string
	if reasons := formatAllocMetrics(m, "  "); reasons != "" {
		parts = append(parts, reasons)
	}
	if len(m.ScoreMetaData) > 0 {
		scorers := map[string]bool{}
		for _, node := range m.ScoreMetaData {
			for name := range node.Scores {
				scorers[name] = true
			}
		}
		names := sortedKeys(scorers)
		rows := []string{"Node|" + strings.Join(names, "|") + "|final score"}
		for _, node := range m.ScoreMetaData {
			row := []string{node.NodeID}
			for _, name := range names {
				row = append(row, fmt.Sprintf("%.3g", node.Scores[name]))
			}
			rows = append(rows, strings.Join(append(row, fmt.Sprintf("%.3g", node.NormScore)), "|"))
		}
		parts = append(parts, formatList(rows))
	}
	return strings.Join(parts, "\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sleepCtx waits for d or until ctx is done, whichever comes first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
