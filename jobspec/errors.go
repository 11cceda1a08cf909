// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Error is what Parse returns when a job file is wrong. It carries every
// problem found in one pass, so a user fixes them all at once instead of one
// per run, and prints them one per line as "file:line:col: summary; detail".
type Error struct {
	Diags hcl.Diagnostics
}

// Error implements error.
func (e *Error) Error() string {
	diags := errorsOnly(e.Diags)
	lines := make([]string, 0, len(diags))
	for _, d := range diags {
		lines = append(lines, formatDiag(d))
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives errors.As access to the underlying hcl.Diagnostics.
func (e *Error) Unwrap() error { return e.Diags }

// errorsOnly returns the errors among diags in source order. An error
// that repeats exactly (same place, same words) is kept once: a dynamic
// block's content is decoded once per element, and a mistake that does
// not depend on the element would otherwise be listed for each.
func errorsOnly(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	type key struct {
		rng             hcl.Range
		summary, detail string
	}
	seen := map[key]bool{}
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		var k key
		if d.Subject != nil {
			k = key{*d.Subject, d.Summary, d.Detail}
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Subject, out[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		case a.Start.Line != b.Start.Line:
			return a.Start.Line < b.Start.Line
		default:
			return a.Start.Column < b.Start.Column
		}
	})
	return out
}

func formatDiag(d *hcl.Diagnostic) string {
	msg := d.Summary
	if d.Detail != "" {
		msg += "; " + d.Detail
	}
	if d.Subject == nil {
		return msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, msg)
}

// diagsError turns diagnostics into an *Error, or nil when none is an error.
func diagsError(diags hcl.Diagnostics) error {
	if !diags.HasErrors() {
		return nil
	}
	return &Error{Diags: diags}
}

// errorAt builds one error diagnostic at rng.
func errorAt(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	r := rng
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &r}
}
