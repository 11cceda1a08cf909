// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

// constraintOperators are the operators Nomad's scheduler understands.
var constraintOperators = map[string]bool{
	"=": true, "==": true, "is": true, "!=": true, "not": true,
	"<": true, "<=": true, ">": true, ">=": true,
	"distinct_hosts": true, "distinct_property": true,
	"regexp": true, "version": true, "semver": true,
	"set_contains": true, "set_contains_all": true, "set_contains_any": true,
	"is_set": true, "is_not_set": true,
}

// constraintShorthands are the arguments that name the operator and carry
// its value in one, such as version = ">= 1.2".
var constraintShorthands = []string{
	"distinct_hosts", "distinct_property", "regexp", "version", "semver",
	"set_contains", "set_contains_all", "set_contains_any",
}

// affinityShorthands are the shorthand arguments an affinity accepts:
// distinct_hosts and distinct_property constrain placement, they do not
// express a preference.
var affinityShorthands = []string{
	"regexp", "version", "semver", "set_contains", "set_contains_all", "set_contains_any",
}

// ruleSchema is the body schema of a constraint (or, with weight, an
// affinity) with the given shorthands.
func ruleSchema(shorthands []string, weight bool) *hcl.BodySchema {
	s := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "attribute"}, {Name: "operator"}, {Name: "value"}}}
	for _, name := range shorthands {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: name})
	}
	if weight {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: "weight"})
	}
	return s
}

var (
	constraintSchema = ruleSchema(constraintShorthands, false)
	affinitySchema   = ruleSchema(affinityShorthands, true)
)

// constraintBlock appends each constraint block to the list f points to.
func constraintBlock[T any](f field[T, []*api.Constraint]) blockRule[T] {
	return blockRule[T]{decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		content, diags := b.Body.Content(constraintSchema)
		if content == nil {
			return diags
		}
		c, keep, rdiags := decodeRule(d, content, constraintShorthands)
		diags = append(diags, rdiags...)
		if keep && !diags.HasErrors() {
			*f(out) = append(*f(out), c)
		}
		return diags
	}}
}

// affinityBlock appends each affinity block to the list f points to. An
// affinity is a constraint with a weight, from -100 to 100 (zero is not a
// preference); the server applies the default weight when it is absent.
func affinityBlock[T any](f field[T, []*api.Affinity]) blockRule[T] {
	return blockRule[T]{decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		content, diags := b.Body.Content(affinitySchema)
		if content == nil {
			return diags
		}
		c, _, rdiags := decodeRule(d, content, affinityShorthands)
		diags = append(diags, rdiags...)
		a := &api.Affinity{LTarget: c.LTarget, RTarget: c.RTarget, Operand: c.Operand}
		if w, ok := content.Attributes["weight"]; ok {
			n, ok, wdiags := integerOf[int8](d, w)
			diags = append(diags, wdiags...)
			switch {
			case ok && (n < -100 || n > 100 || n == 0):
				diags = append(diags, errorAt(w.Expr.Range(), "Invalid affinity weight",
					fmt.Sprintf("weight must be from -100 to 100 and not 0, not %d.", n)))
			case ok:
				a.Weight = &n
			}
		}
		if !diags.HasErrors() {
			*f(out) = append(*f(out), a)
		}
		return diags
	}}
}

// decodeRule decodes the body of a constraint or affinity. The operator
// defaults to "=" as Nomad documents. A shorthand argument sets the
// operator: for distinct_property its value is the attribute, for
// distinct_hosts a bool that turns it on, and for the others the value to
// compare against. keep is false for distinct_hosts = false, which asks
// for nothing.
func decodeRule(d *decoder, content *hcl.BodyContent, shorthands []string) (c *api.Constraint, keep bool, diags hcl.Diagnostics) {
	c = &api.Constraint{}
	str := func(name string, dst *string) {
		if a, ok := content.Attributes[name]; ok {
			s, _, adiags := d.stringOf(a)
			diags = append(diags, adiags...)
			*dst = s
		}
	}
	str("attribute", &c.LTarget)
	str("operator", &c.Operand)
	str("value", &c.RTarget)

	var shorts []*hcl.Attribute
	for _, name := range shorthands {
		if a, ok := content.Attributes[name]; ok {
			shorts = append(shorts, a)
		}
	}
	sort.Slice(shorts, func(i, j int) bool { return posLess(shorts[i].Range, shorts[j].Range) })
	var short *hcl.Attribute
	for _, a := range shorts {
		if short != nil {
			diags = append(diags, errorAt(a.NameRange, "Conflicting constraint arguments",
				fmt.Sprintf("%s and %s both set the operator; use one block for each.", short.Name, a.Name)))
			continue
		}
		short = a
	}
	if short != nil {
		if op, ok := content.Attributes["operator"]; ok {
			diags = append(diags, errorAt(op.NameRange, "Conflicting constraint arguments",
				fmt.Sprintf("operator cannot be combined with %s, which sets the operator itself.", short.Name)))
		}
		switch short.Name {
		case "distinct_hosts":
			on, ok, adiags := d.boolOf(short)
			diags = append(diags, adiags...)
			if ok && !on {
				return c, false, diags
			}
		case "distinct_property":
			str(short.Name, &c.LTarget)
		default:
			str(short.Name, &c.RTarget)
		}
		c.Operand = short.Name
	}
	if c.Operand == "" {
		c.Operand = "="
	}
	if a, ok := content.Attributes["operator"]; ok && !constraintOperators[c.Operand] && !diags.HasErrors() {
		diags = append(diags, errorAt(a.Expr.Range(), "Invalid constraint operator",
			fmt.Sprintf("%q is not an operator; use one of %s.", c.Operand, operatorList())))
	}
	return c, true, diags
}

// spreadSpec is the spread block: an attribute to spread allocations
// over, and optional target "value" { percent = N } blocks.
var spreadSpec = &spec[api.Spread]{
	what: "spread",
	attrs: map[string]attrFn[api.Spread]{
		"attribute": strAttr(func(s *api.Spread) *string { return &s.Attribute }),
		"weight":    numPtrAttr(func(s *api.Spread) **int8 { return &s.Weight }),
	},
	blocks: map[string]blockRule[api.Spread]{
		"target": labelledListBlock(func(s *api.Spread) *[]*api.SpreadTarget { return &s.SpreadTarget }, spreadTargetSpec, "value",
			func(t *api.SpreadTarget, v string) { t.Value = v }, func(t *api.SpreadTarget) string { return t.Value }),
	},
}

var spreadTargetSpec = &spec[api.SpreadTarget]{
	what: "target",
	attrs: map[string]attrFn[api.SpreadTarget]{
		"percent": numAttr(func(t *api.SpreadTarget) *uint8 { return &t.Percent }),
	},
}

func spreadBlock[T any](f field[T, []*api.Spread]) blockRule[T] {
	return listBlock(f, spreadSpec)
}

func operatorList() string {
	ops := sortedKeys(constraintOperators)
	for i, o := range ops {
		ops[i] = fmt.Sprintf("%q", o)
	}
	return strings.Join(ops, ", ")
}
