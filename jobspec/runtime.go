// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Job files mix two kinds of references in "${...}": HCL ones (var.x,
// local.y) that the parser resolves, and runtime ones (${NOMAD_ALLOC_ID},
// ${attr.kernel.name}, ${meta.rack}, ${node.datacenter}, ${env["HOME"]})
// that the client interpolates when it places the task. Like Nomad, any
// reference whose root the file does not define is a runtime one and must
// come out of evaluation as its own text, verbatim.
//
// Rather than rewriting expressions, withRuntimeRefs gives each runtime
// root a value built from the traversals that use it: attr.kernel.name
// evaluates to the string "${attr.kernel.name}". This works the same in
// templates, bare expressions and function arguments.

// withRuntimeRefs returns ctx, or a child of it that defines the runtime
// roots among refs.
func withRuntimeRefs(ctx *hcl.EvalContext, refs []hcl.Traversal) *hcl.EvalContext {
	roots := map[string]*refNode{}
	for _, t := range refs {
		root := t.RootName()
		if root == "" || defined(ctx, root) {
			continue
		}
		n := roots[root]
		if n == nil {
			n = &refNode{}
			roots[root] = n
		}
		text := root
		for _, step := range t[1:] {
			key, rendered, ok := stepKey(step)
			if !ok {
				break
			}
			text += rendered
			if n.children == nil {
				n.children = map[string]*refNode{}
			}
			child := n.children[key]
			if child == nil {
				child = &refNode{}
				n.children[key] = child
			}
			n = child
		}
		if n.text == "" {
			n.text = "${" + text + "}"
		}
	}
	if len(roots) == 0 {
		return ctx
	}
	child := ctx.NewChild()
	child.Variables = make(map[string]cty.Value, len(roots))
	for name, n := range roots {
		child.Variables[name] = n.value()
	}
	return child
}

// refNode is one step of the runtime references under a root: a leaf
// renders as its "${...}" text, an inner node as an object.
type refNode struct {
	text     string
	children map[string]*refNode
}

func (n *refNode) value() cty.Value {
	if len(n.children) == 0 {
		return cty.StringVal(n.text)
	}
	attrs := make(map[string]cty.Value, len(n.children))
	for k, c := range n.children {
		attrs[k] = c.value()
	}
	return cty.ObjectVal(attrs)
}

// stepKey returns the object key a traversal step reads and how the step
// is written; only attribute and string-index steps map to object keys.
func stepKey(step hcl.Traverser) (key, rendered string, ok bool) {
	switch s := step.(type) {
	case hcl.TraverseAttr:
		return s.Name, "." + s.Name, true
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
			k := s.Key.AsString()
			return k, "[" + strconv.Quote(k) + "]", true
		}
	}
	return "", "", false
}

func defined(ctx *hcl.EvalContext, name string) bool {
	for c := ctx; c != nil; c = c.Parent() {
		if _, ok := c.Variables[name]; ok {
			return true
		}
	}
	return false
}
