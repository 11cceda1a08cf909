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

var constraintSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "attribute"}, {Name: "operator"}, {Name: "value"}}}
	for _, name := range constraintShorthands {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: name})
	}
	return s
}()

// constraintBlock appends each constraint block to the list f points to.
func constraintBlock[T any](f field[T, []*api.Constraint]) blockRule[T] {
	return blockRule[T]{decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		c, diags := decodeConstraint(d, b)
		if c != nil && !diags.HasErrors() {
			*f(out) = append(*f(out), c)
		}
		return diags
	}}
}

// decodeConstraint decodes one constraint block. The operator defaults to
// "=" as Nomad documents. A shorthand argument sets the operator: for
// distinct_property its value is the attribute, for distinct_hosts a bool
// that turns it on, and for the others the value to compare against.
// It returns nil for distinct_hosts = false, which asks for nothing.
func decodeConstraint(d *decoder, b *hcl.Block) (*api.Constraint, hcl.Diagnostics) {
	content, diags := b.Body.Content(constraintSchema)
	if content == nil {
		return nil, diags
	}
	c := &api.Constraint{}
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
	for _, name := range constraintShorthands {
		if a, ok := content.Attributes[name]; ok {
			shorts = append(shorts, a)
		}
	}
	sort.Slice(shorts, func(i, j int) bool { return posLess(shorts[i].Range, shorts[j].Range) })
	var short *hcl.Attribute
	for _, a := range shorts {
		if short != nil {
			diags = append(diags, errorAt(a.NameRange, "Conflicting constraint arguments",
				fmt.Sprintf("%s and %s both set the operator; use one constraint block for each.", short.Name, a.Name)))
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
				return nil, diags
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
	return c, diags
}

func operatorList() string {
	ops := sortedKeys(constraintOperators)
	for i, o := range ops {
		ops[i] = fmt.Sprintf("%q", o)
	}
	return strings.Join(ops, ", ")
}
