// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"slices"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// This file holds the small framework every block decoder is written in.
// A block family (job, group, task, ...) declares a spec: which arguments it
// takes and how each lands in the api struct, which nested blocks it takes
// and which decoder handles them, and which of Nomad's arguments and blocks
// Drover does not support yet. Adding a block to the language is adding one
// entry to the spec of its parent and one decoder function.

// decoder carries what every block decoder needs: the evaluation context
// with variables, locals and functions.
type decoder struct {
	ctx *hcl.EvalContext
}

// attrFn decodes one argument into out.
type attrFn[T any] func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics

// blockFn decodes one nested block into out.
type blockFn[T any] func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics

// blockRule describes a nested block: its label names, whether it may
// appear more than once, and its decoder.
type blockRule[T any] struct {
	labels []string
	single bool
	decode blockFn[T]
}

// spec is the schema of one block body together with its decoders.
type spec[T any] struct {
	// what names the block in messages ("job", "group", "task").
	what   string
	attrs  map[string]attrFn[T]
	blocks map[string]blockRule[T]
	// required names the arguments that must be present, as Nomad's
	// documentation marks them.
	required []string
	// pending lists names that Nomad's specification has in this block but
	// Drover does not decode yet; they get a clear error instead of HCL's
	// generic "not expected here". Every block of Nomad's specification is
	// decoded today, so no spec uses it; it stays for the next block Nomad
	// adds.
	pending []string
}

// decode checks body against the spec and runs the decoders for what it
// finds. It keeps going after an error so that one run reports as many
// problems as it can.
func (s *spec[T]) decode(d *decoder, body hcl.Body, out *T) hcl.Diagnostics {
	var diags hcl.Diagnostics
	body, diags = s.dropPending(body)

	schema := &hcl.BodySchema{}
	for _, name := range sortedKeys(s.attrs) {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: name, Required: slices.Contains(s.required, name)})
	}
	for _, name := range sortedKeys(s.blocks) {
		schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: name, LabelNames: s.blocks[name].labels})
	}
	content, cdiags := body.Content(schema)
	diags = append(diags, cdiags...)
	if content == nil {
		return diags
	}

	attrs := make([]*hcl.Attribute, 0, len(content.Attributes))
	for _, a := range content.Attributes {
		attrs = append(attrs, a)
	}
	sort.Slice(attrs, func(i, j int) bool { return posLess(attrs[i].Range, attrs[j].Range) })
	for _, a := range attrs {
		diags = append(diags, s.attrs[a.Name](d, a, out)...)
	}

	seen := map[string]*hcl.Block{}
	for _, b := range content.Blocks {
		rule := s.blocks[b.Type]
		if prev, dup := seen[b.Type]; dup && rule.single {
			diags = append(diags, errorAt(b.DefRange, fmt.Sprintf("Duplicate %s block", b.Type),
				fmt.Sprintf("Only one %s block is allowed in a %s; another was defined at line %d.", b.Type, s.what, prev.DefRange.Start.Line)))
			continue
		}
		seen[b.Type] = b
		diags = append(diags, rule.decode(d, b, out)...)
	}
	return diags
}

// dropPending reports the not-yet-supported arguments and blocks of a
// native-syntax body and returns the body without them, so that they are
// not reported a second time as unexpected.
func (s *spec[T]) dropPending(body hcl.Body) (hcl.Body, hcl.Diagnostics) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok || len(s.pending) == 0 {
		return body, nil
	}
	pending := make(map[string]bool, len(s.pending))
	for _, p := range s.pending {
		pending[p] = true
	}
	var diags hcl.Diagnostics
	out := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, SrcRange: sb.SrcRange, EndRange: sb.EndRange}
	for name, a := range sb.Attributes {
		if pending[name] {
			diags = append(diags, errorAt(a.NameRange, "Unsupported argument",
				fmt.Sprintf("argument %q is not supported by Drover yet (in a %s block)", name, s.what)))
			continue
		}
		out.Attributes[name] = a
	}
	for _, b := range sb.Blocks {
		if pending[b.Type] {
			diags = append(diags, errorAt(b.TypeRange, "Unsupported block type",
				fmt.Sprintf("block %q is not supported by Drover yet (in a %s block)", b.Type, s.what)))
			continue
		}
		out.Blocks = append(out.Blocks, b)
	}
	return out, diags
}

// listBlock is the rule for a repeatable block: each one decodes with s
// into a new element appended to the list f points to.
func listBlock[T, B any](f field[T, []*B], s *spec[B]) blockRule[T] {
	return blockRule[T]{decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		v := new(B)
		diags := s.decode(d, b.Body, v)
		*f(out) = append(*f(out), v)
		return diags
	}}
}

// valueListBlock is listBlock for lists of values rather than pointers
// (ServiceCheck, Port).
func valueListBlock[T, B any](f field[T, []B], s *spec[B]) blockRule[T] {
	return blockRule[T]{decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		var v B
		diags := s.decode(d, b.Body, &v)
		*f(out) = append(*f(out), v)
		return diags
	}}
}

// labelledListBlock is listBlock for blocks with one label, such as
// action "name" { ... }; setLabel stores the label in the new element.
// Two blocks with the same label are an error.
func labelledListBlock[T, B any](f field[T, []*B], s *spec[B], label string, setLabel func(*B, string), getLabel func(*B) string) blockRule[T] {
	return blockRule[T]{labels: []string{label}, decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		name := b.Labels[0]
		for _, prev := range *f(out) {
			if getLabel(prev) == name {
				return hcl.Diagnostics{errorAt(b.LabelRanges[0], fmt.Sprintf("Duplicate %s block", b.Type),
					fmt.Sprintf("Another %s block here is already labelled %q; labels must be unique.", b.Type, name))}
			}
		}
		v := new(B)
		setLabel(v, name)
		diags := s.decode(d, b.Body, v)
		*f(out) = append(*f(out), v)
		return diags
	}}
}

// labelledMapBlock is the rule for blocks with one label that land in a
// map keyed by that label, such as volume "name" { ... }.
func labelledMapBlock[T, B any](f field[T, map[string]*B], s *spec[B], label string, setLabel func(*B, string)) blockRule[T] {
	return blockRule[T]{labels: []string{label}, decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		name := b.Labels[0]
		m := f(out)
		if _, dup := (*m)[name]; dup {
			return hcl.Diagnostics{errorAt(b.LabelRanges[0], fmt.Sprintf("Duplicate %s block", b.Type),
				fmt.Sprintf("Another %s block here is already labelled %q; labels must be unique.", b.Type, name))}
		}
		if *m == nil {
			*m = map[string]*B{}
		}
		v := new(B)
		if setLabel != nil {
			setLabel(v, name)
		}
		diags := s.decode(d, b.Body, v)
		(*m)[name] = v
		return diags
	}}
}

// freeFormBlock is the rule for a block whose content belongs to someone
// else (a driver's config, Envoy's escape hatch): it lands as a plain
// map, see decodeFreeForm.
func freeFormBlock[T any](f field[T, map[string]interface{}]) blockRule[T] {
	return freeForm(f, false)
}

// policyBlock is freeFormBlock for an autoscaler policy, whose nested
// blocks carry labels (check "name" { ... }).
func policyBlock[T any](f field[T, map[string]interface{}]) blockRule[T] {
	return freeForm(f, true)
}

func freeForm[T any](f field[T, map[string]interface{}], allowLabels bool) blockRule[T] {
	return blockRule[T]{single: true, decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		m, diags := decodeFreeForm(d, b.Body, allowLabels)
		*f(out) = m
		return diags
	}}
}

func posLess(a, b hcl.Range) bool {
	if a.Start.Line != b.Start.Line {
		return a.Start.Line < b.Start.Line
	}
	return a.Start.Column < b.Start.Column
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// eval evaluates expr. References to names the file does not define
// (attr.*, meta.*, node.*, env[...], NOMAD_*, ...) are runtime
// interpolations that the client resolves; they come out as their own
// "${...}" text. See runtimeRefs.
func (d *decoder) eval(expr hcl.Expression) (cty.Value, hcl.Diagnostics) {
	return evalLimited(expr, withRuntimeRefs(d.ctx, expr.Variables()))
}

// evalLimited evaluates expr and rejects values over maxValueBytes; see
// limits.go.
func evalLimited(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if !diags.HasErrors() && valueSize(v) > maxValueBytes {
		return cty.NilVal, append(diags, errorAt(expr.Range(), "Value too large",
			fmt.Sprintf("This expression produces more than %d bytes, the most one value of a job file may hold.", maxValueBytes)))
	}
	return v, diags
}

// evalKnown evaluates expr and rejects unknown results, which the api
// structs cannot represent.
func (d *decoder) evalKnown(expr hcl.Expression) (cty.Value, hcl.Diagnostics) {
	v, diags := d.eval(expr)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, append(diags, errorAt(expr.Range(), "Unknown value",
			"The value of this expression is not known when the job file is parsed."))
	}
	return v, diags
}
