// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// For expressions are the one way a short job file can make the parser
// loop: functions are bounded (limits.go), but [for i in range(1000):
// [for j in range(1000): [for k in range(1000): k]]] is 62 bytes of source
// and a billion iterations, and the servers parse job files
// (/v1/jobs/parse). The fuzzer found such a file (40 s for one input).
// HCL evaluates for expressions itself, so the parser instruments them
// before anything is evaluated: every for expression's collection counts
// its elements against maxForIterations, and every value it produces
// counts its size against maxForBytes, in all for the whole job file; past
// either, evaluation fails at the for expression that went over, and the
// loops around it stop at their next step.
const (
	maxForIterations = 250_000
	maxForBytes      = maxEvalBytes
)

// forBudget is what the for expressions of one job file have spent.
type forBudget struct {
	iterations int
	bytes      int
	// over is the error of the first expression that went over; every
	// later evaluation returns it again (errorsOnly keeps one copy).
	over *hcl.Diagnostic
}

// limitForExprs instruments every for expression under node (a body, an
// expression or a template) to spend b; it runs once on a freshly parsed
// tree (the walk goes on into the wrappers, never back to a for
// expression it has seen).
func limitForExprs(node hclsyntax.Node, b *forBudget) {
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		fe, ok := n.(*hclsyntax.ForExpr)
		if !ok {
			return nil
		}
		fe.CollExpr = &forCollection{ParenthesesExpr: wrap(fe.CollExpr), budget: b}
		fe.ValExpr = &forValue{ParenthesesExpr: wrap(fe.ValExpr), budget: b}
		return nil
	})
}

// wrap embeds expr so that a wrapper keeps its place in syntax walks: a
// ParenthesesExpr walks into the expression itself, so references to
// variables in it are still found (locals are ordered by them).
func wrap(expr hclsyntax.Expression) *hclsyntax.ParenthesesExpr {
	return &hclsyntax.ParenthesesExpr{Expression: expr, SrcRange: expr.Range()}
}

// forCollection is a for expression's collection: it counts the
// iterations the collection makes the loop run.
type forCollection struct {
	*hclsyntax.ParenthesesExpr
	budget *forBudget
}

func (c *forCollection) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	return c.budget.evaluate(c.Expression, ctx, func(v cty.Value) *hcl.Diagnostic {
		if !v.IsKnown() || v.IsNull() || !v.CanIterateElements() {
			return nil
		}
		if c.budget.iterations += v.LengthInt(); c.budget.iterations <= maxForIterations {
			return nil
		}
		return errorAt(c.Range(), "Too many for expression iterations",
			fmt.Sprintf("The job file's for expressions iterate more than %d times in all (nested ones multiply); this is where the limit was reached.", maxForIterations))
	})
}

// forValue is a for expression's value: it counts the bytes each
// iteration produces.
type forValue struct {
	*hclsyntax.ParenthesesExpr
	budget *forBudget
}

func (e *forValue) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	return e.budget.evaluate(e.Expression, ctx, func(v cty.Value) *hcl.Diagnostic {
		if e.budget.bytes += valueSize(v); e.budget.bytes <= maxForBytes {
			return nil
		}
		return errorAt(e.Range(), "For expressions produce too much",
			fmt.Sprintf("The job file's for expressions produce more than %d bytes in all (nested ones multiply); this is where the limit was reached.", maxForBytes))
	})
}

// evaluate evaluates expr unless the budget is spent already, then has
// spend charge its (unmarked) value; spend returns the error to report
// when that went over the budget.
func (b *forBudget) evaluate(expr hclsyntax.Expression, ctx *hcl.EvalContext, spend func(cty.Value) *hcl.Diagnostic) (cty.Value, hcl.Diagnostics) {
	if b.over != nil {
		return cty.DynamicVal, hcl.Diagnostics{b.over}
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return v, diags
	}
	u, _ := v.Unmark()
	if over := spend(u); over != nil {
		b.over = over
		return cty.DynamicVal, append(diags, over)
	}
	return v, diags
}
