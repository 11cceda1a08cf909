// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// This file expands dynamic blocks, HCL's way of writing a repeated block
// once for every element of a collection:
//
//	dynamic "port" {
//	  for_each = ["http", "grpc"]
//	  iterator = p            # optional; defaults to the block type
//	  labels   = [p.value]    # one per label the block type takes
//	  content { to = 8080 }
//	}
//
// Why not hcl/v2/ext/dynblock: its Expand wraps every body, and the
// wrapper hides the iteration variables inside expressions it wraps only
// on Content calls. Free-form bodies (a driver's config, meta, env) are
// read by walking hclsyntax bodies or with JustAttributes, which the
// wrapper passes through unwrapped, so iterator references there fail.
// Instead, the decoder expands a dynamic block where its parent's schema
// is known (spec.decode) or in the free-form walk (decodeFreeForm), and
// decodes each generated body with a child decoder whose evaluation
// context defines the iterator. Everything below that point, free-form or
// not, sees the iterator, and every error points at the job file's own
// text.

// dynamicSchema is the body of a dynamic "type" block.
var dynamicSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "for_each", Required: true}, {Name: "iterator"}, {Name: "labels"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "content"}},
}

// dynamicHeader is the schema entry that admits dynamic blocks in a body.
var dynamicHeader = hcl.BlockHeaderSchema{Type: "dynamic", LabelNames: []string{"type"}}

// generated is one block a dynamic block stands for, with the decoder its
// body must be decoded with (the one that knows the iterator).
type generated struct {
	d *decoder
	b *hcl.Block
}

// anyLabels, as the label count of expandDynamic, accepts any number of
// labels: free-form policy blocks take as many as the user writes.
const anyLabels = -1

// expandDynamic evaluates the dynamic block dyn and returns the blocks it
// generates, in for_each order. nlabels is how many labels the generated
// block type takes (or anyLabels). The caller has checked that the block
// type is allowed where dyn stands.
func (d *decoder) expandDynamic(dyn *hcl.Block, nlabels int) ([]generated, hcl.Diagnostics) {
	typ := dyn.Labels[0]
	content, diags := dyn.Body.Content(dynamicSchema)
	if content == nil || diags.HasErrors() {
		return nil, diags
	}
	var body *hcl.Block
	for _, c := range content.Blocks {
		if body != nil {
			return nil, append(diags, errorAt(c.DefRange, "Duplicate content block",
				fmt.Sprintf("A dynamic block has one content block; another was defined at line %d.", body.DefRange.Start.Line)))
		}
		body = c
	}
	if body == nil {
		return nil, append(diags, errorAt(dyn.Body.MissingItemRange(), "Missing content block",
			fmt.Sprintf("A dynamic %q block needs a content { ... } block: the body of each %s block it generates.", typ, typ)))
	}

	iterName := typ
	if a, ok := content.Attributes["iterator"]; ok {
		t, tdiags := hcl.AbsTraversalForExpr(a.Expr)
		if tdiags.HasErrors() || len(t) != 1 {
			return nil, append(diags, errorAt(a.Expr.Range(), "Invalid dynamic iterator name",
				"The iterator must be a bare name, such as iterator = port."))
		}
		iterName = t.RootName()
	}

	forEach, fdiags := d.evalKnown(content.Attributes["for_each"].Expr)
	diags = append(diags, fdiags...)
	if fdiags.HasErrors() {
		return nil, diags
	}
	feRange := content.Attributes["for_each"].Expr.Range()
	if ty := forEach.Type(); forEach.IsNull() || !(ty.IsCollectionType() || ty.IsObjectType() || ty.IsTupleType()) {
		what := "null"
		if !forEach.IsNull() {
			what = "a " + ty.FriendlyName()
		}
		return nil, append(diags, errorAt(feRange, "Invalid dynamic for_each value",
			fmt.Sprintf("Cannot use %s value in for_each: a list, set, map or object is required.", what)))
	}
	if n := forEach.LengthInt(); d.budget.spendBlocks(n) {
		return nil, append(diags, errorAt(feRange, "Too many dynamic blocks",
			fmt.Sprintf("Dynamic blocks would generate more than %d blocks in this job file.", maxDynamicBlocks)))
	}

	labelsAttr, hasLabels := content.Attributes["labels"]
	if !hasLabels && nlabels > 0 {
		return nil, append(diags, errorAt(dyn.DefRange, "Missing dynamic block labels",
			fmt.Sprintf("Blocks of type %q take %d label(s); set labels = [...] in the dynamic block.", typ, nlabels)))
	}

	var out []generated
	for it := forEach.ElementIterator(); it.Next(); {
		key, value := it.Element()
		if forEach.Type().IsSetType() {
			key = value
		}
		child := d.ctx.NewChild()
		child.Variables = map[string]cty.Value{iterName: cty.ObjectVal(map[string]cty.Value{"key": key, "value": value})}
		cd := &decoder{ctx: child, budget: d.budget}

		b := &hcl.Block{Type: typ, Body: body.Body, DefRange: dyn.DefRange, TypeRange: dyn.LabelRanges[0]}
		if hasLabels {
			labels, ldiags := cd.dynamicLabels(labelsAttr, typ, nlabels)
			diags = append(diags, ldiags...)
			if ldiags.HasErrors() {
				// The same labels expression fails the same way for the
				// other elements: report it once.
				return out, diags
			}
			b.Labels = labels
			b.LabelRanges = make([]hcl.Range, len(labels))
			for i := range labels {
				b.LabelRanges[i] = labelsAttr.Expr.Range()
			}
		}
		out = append(out, generated{d: cd, b: b})
	}
	return out, diags
}

// dynamicLabels evaluates a dynamic block's labels for one element.
func (d *decoder) dynamicLabels(a *hcl.Attribute, typ string, nlabels int) ([]string, hcl.Diagnostics) {
	v, diags := d.evalKnown(a.Expr)
	if diags.HasErrors() {
		return nil, diags
	}
	lv, err := convert.Convert(v, cty.List(cty.String))
	if err != nil || lv.IsNull() {
		return nil, append(diags, errorAt(a.Expr.Range(), "Invalid dynamic block labels",
			"labels must be a list of strings, such as labels = [port.value]."))
	}
	labels := make([]string, 0, lv.LengthInt())
	for it := lv.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsNull() {
			return nil, append(diags, errorAt(a.Expr.Range(), "Invalid dynamic block labels", "labels must not contain null."))
		}
		labels = append(labels, ev.AsString())
	}
	if nlabels != anyLabels && len(labels) != nlabels {
		return nil, append(diags, errorAt(a.Expr.Range(), "Invalid dynamic block labels",
			fmt.Sprintf("Blocks of type %q take %d label(s), but labels has %d.", typ, nlabels, len(labels))))
	}
	return labels, diags
}
