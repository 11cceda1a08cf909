// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

// "drover job plan": a dry run of "job run". It prints the diff between the
// submitted and the stored job, what the scheduler would do, and the job
// modify index to pass to "job run -check-index".

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/droverhq/drover/api"
)

func init() {
	Register("job plan", func(ui *UI) Command { return &JobPlanCommand{Meta: Meta{UI: ui}} })
}

// Exit codes of "job plan", Nomad's: 0 when no allocation would be created
// or destroyed, 1 when some would, 255 on error.
const (
	exitPlanNoChange = 0
	exitPlanChanges  = 1
	exitPlanError    = 255
)

// JobPlanCommand implements "drover job plan".
type JobPlanCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *JobPlanCommand) Synopsis() string {
	return "Dry-run a job update to determine its effects"
}

// Help implements Command.
func (c *JobPlanCommand) Help() string {
	return `Usage: drover job plan [options] <path>

  Run the scheduler in dry-run mode on the job file at <path> (HCL2, or JSON;
  "-" reads stdin): show how the job differs from the one the servers have,
  and what submitting it would do to its allocations. Nothing is changed.

  The plan prints the job modify index of the stored job. Passing it to
  "drover job run -check-index" submits the job only if nobody changed it
  since the plan.

  Exit codes: 0 when no allocation would be created or destroyed, 1 when some
  would, 255 on error.

` + generalOptions + `

Plan Options:

  -diff
    Show the diff between the stored job and the submitted one. Defaults to
    true.

  -policy-override
    Ask to override soft-mandatory policies.

  -json
    Treat the job file as JSON (an API job object, bare or as {"Job": ...}).

  -var 'key=value'
    Set an HCL2 input variable; repeatable.

  -var-file=path
    Read HCL2 input variables from a file; repeatable.

  -verbose
    Show unchanged fields too, and the full contents of added and removed
    groups and tasks.`
}

// Run implements Command.
func (c *JobPlanCommand) Run(ctx context.Context, args []string) int {
	var (
		diff, verbose, jsonInput, policyOverride bool
		vars, varFiles                           stringList
	)
	fs := c.FlagSet("job plan")
	fs.BoolVar(&diff, "diff", true, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	fs.BoolVar(&jsonInput, "json", false, "")
	fs.BoolVar(&policyOverride, "policy-override", false, "")
	fs.Var(&vars, "var", "")
	fs.Var(&varFiles, "var-file", "")
	if !c.parseFlags(fs, args) {
		return exitPlanError
	}
	if fs.NArg() != 1 {
		c.usageError("job plan", "This command takes one argument: <path>")
		return exitPlanError
	}
	path := fs.Arg(0)
	job, err := readJob(path, c.UI.In, jobFileOptions{json: jsonInput, vars: vars, varFiles: varFiles})
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error parsing job file %s:\n%v", path, err))
		return exitPlanError
	}
	client := c.clientOrFail()
	if client == nil {
		return exitPlanError
	}
	if job.Region != nil && *job.Region != "" {
		client.SetRegion(*job.Region)
	}
	if job.Namespace != nil && *job.Namespace != "" {
		client.SetNamespace(*job.Namespace)
	}
	opts := &api.PlanOptions{Diff: diff, PolicyOverride: policyOverride}
	resp, _, err := client.Jobs().PlanOpts(job, opts, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error during plan: %v", err))
		return exitPlanError
	}

	var out strings.Builder
	if diff && resp.Diff != nil {
		out.WriteString(formatJobDiff(resp.Diff, verbose))
		out.WriteString("\n")
	}
	if resp.Annotations != nil && len(resp.Annotations.PreemptedAllocs) > 0 {
		out.WriteString(formatPreemptions(resp.Annotations.PreemptedAllocs, verbose))
		out.WriteString("\n")
	}
	out.WriteString("Scheduler dry-run:\n")
	out.WriteString(c.formatDryRun(resp))
	if resp.Warnings != "" {
		out.WriteString("\nJob Warnings:\n" + strings.TrimSpace(resp.Warnings) + "\n")
	}
	out.WriteString("\n" + formatCheckIndex(resp.JobModifyIndex, path))
	c.UI.Output(strings.TrimRight(out.String(), "\n"))
	return planExitCode(resp)
}

// planExitCode is 1 when the plan creates or destroys allocations.
func planExitCode(resp *api.JobPlanResponse) int {
	if resp.Annotations == nil {
		return exitPlanNoChange
	}
	for _, du := range resp.Annotations.DesiredTGUpdates {
		if du.Place+du.Stop+du.Migrate+du.DestructiveUpdate+du.Canary+du.Preemptions > 0 {
			return exitPlanChanges
		}
	}
	return exitPlanNoChange
}

// formatDryRun explains the scheduler's outcome, one "- " line per fact.
func (c *JobPlanCommand) formatDryRun(resp *api.JobPlanResponse) string {
	var b strings.Builder
	if len(resp.FailedTGAllocs) == 0 {
		b.WriteString("- All tasks successfully allocated.\n")
	} else {
		b.WriteString("- WARNING: Failed to place all allocations.\n")
		for _, group := range sortedKeys(resp.FailedTGAllocs) {
			m := resp.FailedTGAllocs[group]
			n := m.CoalescedFailures + 1
			fmt.Fprintf(&b, "  Task Group %q (failed to place %d %s):\n", group, n, plural(n, "allocation"))
			if reasons := formatAllocMetrics(m, "    "); reasons != "" {
				b.WriteString(reasons + "\n")
			}
		}
	}
	if next := resp.NextPeriodicLaunch; !next.IsZero() {
		fmt.Fprintf(&b, "- If submitted now, next periodic launch would be at %s (%s from now).\n",
			formatTime(next, c.loc()), shortDuration(next.Sub(c.timeNow()).Round(1e9)))
	}
	return b.String()
}

// maxPreemptionsListed is how many preempted allocations job plan lists
// one by one; beyond it, as Nomad does, it counts them per job.
const maxPreemptionsListed = 10

// formatPreemptions lists the allocations the plan would evict.
func formatPreemptions(allocs []*api.AllocationListStub, verbose bool) string {
	idLen := shortIDLength
	if verbose {
		idLen = 0
	}
	var lines []string
	if len(allocs) <= maxPreemptionsListed {
		lines = []string{"Alloc ID|Job ID|Task Group"}
		for _, a := range allocs {
			lines = append(lines, fmt.Sprintf("%s|%s|%s", limit(a.ID, idLen), a.JobID, a.TaskGroup))
		}
	} else {
		type jobKey struct{ ns, id string }
		counts := map[jobKey]int{}
		var order []jobKey
		for _, a := range allocs {
			k := jobKey{a.Namespace, a.JobID}
			if counts[k] == 0 {
				order = append(order, k)
			}
			counts[k]++
		}
		lines = []string{"Job ID|Namespace|# Preempted"}
		for _, k := range order {
			lines = append(lines, fmt.Sprintf("%s|%s|%d", k.id, k.ns, counts[k]))
		}
	}
	return "Preemptions:\n\n" + formatList(lines) + "\n"
}

// formatCheckIndex tells how to submit exactly what was planned.
func formatCheckIndex(index uint64, path string) string {
	return fmt.Sprintf(`Job Modify Index: %d
To submit the job with version verification run:

drover job run -check-index %d %s

With -check-index, the job is submitted only if the servers' job modify index
still equals the one given. If it changed, someone else modified the job since
this plan, and the plan may no longer hold.
`, index, index, path)
}

// Diff rendering. Each line starts with a marker (+ added, - deleted, +/-
// edited, nothing for unchanged); markers of one level are padded to the
// same width so names line up.

func diffMarker(typ string) string {
	switch typ {
	case "Added":
		return "+"
	case "Deleted":
		return "-"
	case "Edited":
		return "+/-"
	}
	return ""
}

// markerWidth is the padded width of the markers of types: the longest one
// plus a space, or 0 when none is set.
func markerWidth(types []string) int {
	w := 0
	for _, t := range types {
		w = max(w, len(diffMarker(t)))
	}
	if w > 0 {
		w++
	}
	return w
}

func padMarker(typ string, width int) string {
	m := diffMarker(typ)
	if width == 0 {
		return ""
	}
	return m + strings.Repeat(" ", width-len(m))
}

// diffView selects what of a diff level is printed.
type diffView struct {
	fields  []*api.FieldDiff
	objects []*api.ObjectDiff
}

// visible keeps everything when verbose, else only the changes.
func visible(fs []*api.FieldDiff, os []*api.ObjectDiff, verbose bool) diffView {
	if verbose {
		return diffView{fields: fs, objects: os}
	}
	var v diffView
	for _, f := range fs {
		if f.Type != "None" {
			v.fields = append(v.fields, f)
		}
	}
	for _, o := range os {
		if o.Type != "None" {
			v.objects = append(v.objects, o)
		}
	}
	return v
}

func (v diffView) types() []string {
	var ts []string
	for _, f := range v.fields {
		ts = append(ts, f.Type)
	}
	for _, o := range v.objects {
		ts = append(ts, o.Type)
	}
	return ts
}

// formatJobDiff renders a job diff the way "nomad job plan" does.
func formatJobDiff(d *api.JobDiff, verbose bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%sJob: %q\n", padMarker(d.Type, markerWidth([]string{d.Type})), d.ID)
	view := diffView{}
	if d.Type == "Edited" || verbose {
		view = visible(d.Fields, d.Objects, verbose)
	}
	types := view.types()
	for _, g := range d.TaskGroups {
		types = append(types, g.Type)
	}
	width := markerWidth(types)
	writeFields(&b, view.fields, 0, width)
	writeObjects(&b, view.objects, 0, width, verbose)
	for _, g := range d.TaskGroups {
		writeGroup(&b, g, width, verbose)
	}
	return b.String()
}

func writeGroup(b *strings.Builder, g *api.TaskGroupDiff, width int, verbose bool) {
	fmt.Fprintf(b, "%sTask Group: %q%s\n", padMarker(g.Type, width), g.Name, formatUpdates(g.Updates))
	view := diffView{}
	if g.Type == "Edited" || verbose {
		view = visible(g.Fields, g.Objects, verbose)
	}
	types := view.types()
	for _, t := range g.Tasks {
		types = append(types, t.Type)
	}
	inner := markerWidth(types)
	writeFields(b, view.fields, 2, inner)
	writeObjects(b, view.objects, 2, inner, verbose)
	for _, t := range g.Tasks {
		annotations := ""
		if len(t.Annotations) > 0 {
			annotations = " (" + strings.Join(t.Annotations, ", ") + ")"
		}
		fmt.Fprintf(b, "  %sTask: %q%s\n", padMarker(t.Type, inner), t.Name, annotations)
		tview := diffView{}
		if t.Type == "Edited" || verbose {
			tview = visible(t.Fields, t.Objects, verbose)
		}
		tw := markerWidth(tview.types())
		writeFields(b, tview.fields, 4, tw)
		writeObjects(b, tview.objects, 4, tw, verbose)
	}
}

// formatUpdates renders a group's update counts: " (2 create, 1 ignore)".
func formatUpdates(updates map[string]uint64) string {
	if len(updates) == 0 {
		return ""
	}
	keys := make([]string, 0, len(updates))
	for k := range updates {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", updates[k], k))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// writeFields prints fields with their names aligned.
func writeFields(b *strings.Builder, fs []*api.FieldDiff, indent, width int) {
	nameWidth := 0
	for _, f := range fs {
		nameWidth = max(nameWidth, len(f.Name)+1)
	}
	for _, f := range fs {
		var value string
		switch f.Type {
		case "Added":
			value = fmt.Sprintf("%q", f.New)
		case "Deleted":
			value = fmt.Sprintf("%q", f.Old)
		case "Edited":
			value = fmt.Sprintf("%q => %q", f.Old, f.New)
		default:
			value = fmt.Sprintf("%q", f.New)
		}
		if len(f.Annotations) > 0 {
			value += " (" + strings.Join(f.Annotations, ", ") + ")"
		}
		fmt.Fprintf(b, "%s%s%-*s %s\n", strings.Repeat(" ", indent), padMarker(f.Type, width), nameWidth, f.Name+":", value)
	}
}

// writeObjects prints nested blocks. Inside a block every field is shown,
// unchanged ones too, so a change is read in its context.
func writeObjects(b *strings.Builder, os []*api.ObjectDiff, indent, width int, verbose bool) {
	for _, o := range os {
		// A block's contents and closing brace hang from its marker; an
		// unmarked block's from its name.
		at := indent
		if diffMarker(o.Type) == "" {
			at += width
		}
		fmt.Fprintf(b, "%s%s%s {\n", strings.Repeat(" ", indent), padMarker(o.Type, width), o.Name)
		inner := visible(o.Fields, o.Objects, true)
		if !verbose {
			inner.objects = visible(nil, o.Objects, false).objects
		}
		w := markerWidth(inner.types())
		writeFields(b, inner.fields, at+2, w)
		writeObjects(b, inner.objects, at+2, w, verbose)
		fmt.Fprintf(b, "%s}\n", strings.Repeat(" ", at))
	}
}
