// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// This file decodes the two shapes of free-form content: string maps that
// may be written as a block or an argument (meta, env), and a driver's
// config block, whose schema belongs to the driver.

// mapAttr decodes meta = { ... } style arguments, merging into what a
// block of the same name set.
func mapAttr[T any](f field[T, map[string]string]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		m, ok, diags := d.stringMapOf(a)
		if !ok {
			return diags
		}
		return append(diags, mergeStrings(f(out), m, a.Name, a.Range)...)
	}
}

// mapBlock decodes meta { key = value } style blocks. Values that are
// numbers or bools become strings, as Nomad does.
func mapBlock[T any](f field[T, map[string]string]) blockRule[T] {
	return blockRule[T]{single: true, decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		attrs, diags := b.Body.JustAttributes()
		m := make(map[string]string, len(attrs))
		for _, a := range sortedAttrs(attrs) {
			s, ok, adiags := d.stringOf(a)
			diags = append(diags, adiags...)
			if ok {
				m[a.Name] = s
			}
		}
		return append(diags, mergeStrings(f(out), m, b.Type, b.DefRange)...)
	}}
}

func mergeStrings(dst *map[string]string, src map[string]string, what string, rng hcl.Range) hcl.Diagnostics {
	if *dst == nil {
		*dst = make(map[string]string, len(src))
	}
	var diags hcl.Diagnostics
	for _, k := range sortedKeys(src) {
		if _, dup := (*dst)[k]; dup {
			diags = append(diags, errorAt(rng, fmt.Sprintf("Duplicate %s key", what),
				fmt.Sprintf("Key %q is set both in a %s block and a %s argument.", k, what, what)))
			continue
		}
		(*dst)[k] = src[k]
	}
	return diags
}

// decodeFreeForm turns a block body into the map Nomad sends for a task's
// config: arguments become their values, and nested blocks become lists of
// maps under their type name, one element per block.
//
// Labelled blocks, which the autoscaler's policy uses (check "name" {}),
// nest one map level per label, as HCL's JSON form writes them:
// check "cpu" { a = 1 } becomes "check": [{"cpu": [{"a": 1}]}]. Driver
// configs take no labels (allowLabels false) because no driver's schema
// has them.
func decodeFreeForm(d *decoder, body hcl.Body, allowLabels bool) (map[string]interface{}, hcl.Diagnostics) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		attrs, diags := body.JustAttributes()
		out := map[string]interface{}{}
		for _, a := range sortedAttrs(attrs) {
			v, vdiags := d.evalKnown(a.Expr)
			diags = append(diags, vdiags...)
			if !vdiags.HasErrors() {
				out[a.Name] = ctyToGo(v)
			}
		}
		return out, diags
	}

	var diags hcl.Diagnostics
	out := make(map[string]interface{}, len(sb.Attributes)+len(sb.Blocks))
	attrs := make([]*hclsyntax.Attribute, 0, len(sb.Attributes))
	for _, a := range sb.Attributes {
		attrs = append(attrs, a)
	}
	sort.Slice(attrs, func(i, j int) bool { return posLess(attrs[i].SrcRange, attrs[j].SrcRange) })
	for _, a := range attrs {
		v, vdiags := d.evalKnown(a.Expr)
		diags = append(diags, vdiags...)
		if !vdiags.HasErrors() {
			out[a.Name] = ctyToGo(v)
		}
	}
	for _, blk := range sb.Blocks {
		b := blk.AsHCLBlock()
		if b.Type != dynamicHeader.Type {
			diags = append(diags, freeFormBlockInto(d, b, out, attrs, allowLabels)...)
			continue
		}
		if len(b.Labels) != 1 {
			diags = append(diags, errorAt(b.DefRange, "Invalid dynamic block",
				"A dynamic block takes one label, the type of the blocks it generates: dynamic \"name\" { ... }."))
			continue
		}
		nlabels := 0
		if allowLabels {
			nlabels = anyLabels
		}
		gen, gdiags := d.expandDynamic(b, nlabels)
		diags = append(diags, gdiags...)
		for _, g := range gen {
			diags = append(diags, freeFormBlockInto(g.d, g.b, out, attrs, allowLabels)...)
		}
	}
	return out, diags
}

// freeFormBlockInto adds one nested block of a free-form body to out,
// under its type name; attrs are the body's arguments, which a block may
// not shadow.
func freeFormBlockInto(d *decoder, b *hcl.Block, out map[string]interface{}, attrs []*hclsyntax.Attribute, allowLabels bool) hcl.Diagnostics {
	if len(b.Labels) > 0 && !allowLabels {
		return hcl.Diagnostics{errorAt(b.LabelRanges[0], "Unexpected block label",
			fmt.Sprintf("Blocks inside a driver config take no labels; write %s { ... }.", b.Type))}
	}
	for _, a := range attrs {
		if a.Name == b.Type {
			return hcl.Diagnostics{errorAt(b.TypeRange, "Duplicate config key",
				fmt.Sprintf("%q is set both as an argument and as a block.", b.Type))}
		}
	}
	inner, diags := decodeFreeForm(d, b.Body, allowLabels)
	for i := len(b.Labels) - 1; i >= 0; i-- {
		inner = map[string]interface{}{b.Labels[i]: []map[string]interface{}{inner}}
	}
	list, _ := out[b.Type].([]map[string]interface{})
	out[b.Type] = append(list, inner)
	return diags
}
