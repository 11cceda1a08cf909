// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// This file owns input variables (variable and variables blocks), where
// their values come from, and locals.
//
// A variable's value is, from weakest to strongest: its default, the
// NOMAD_VAR_<name> environment variable, the var files in order, and -var
// flags, as in Nomad.

// envVarPrefix marks environment variables that set input variables.
const envVarPrefix = "NOMAD_VAR_"

// variable is one declared input variable.
type variable struct {
	name      string
	ty        cty.Type
	def       cty.Value // cty.NilVal when there is no default
	declRange hcl.Range
	rules     []validation
	value     cty.Value
}

// validation is a variable's validation block.
type validation struct {
	condition hcl.Expression
	message   string
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}, {Name: "error_message", Required: true}},
}

// declareVariable decodes a variable "name" { ... } block.
func declareVariable(vars map[string]*variable, b *hcl.Block, fnCtx *hcl.EvalContext) hcl.Diagnostics {
	name := b.Labels[0]
	v := &variable{name: name, ty: cty.DynamicPseudoType, declRange: b.DefRange}
	diags := checkVarName(vars, name, b.LabelRanges[0])
	content, cdiags := b.Body.Content(variableSchema)
	diags = append(diags, cdiags...)
	if a, ok := content.Attributes["type"]; ok {
		ty, tdiags := typeexpr.TypeConstraint(a.Expr)
		diags = append(diags, tdiags...)
		if !tdiags.HasErrors() {
			v.ty = ty
		}
	}
	if a, ok := content.Attributes["default"]; ok {
		def, ddiags := evalLimited(a.Expr, fnCtx)
		diags = append(diags, ddiags...)
		if !ddiags.HasErrors() && !def.IsNull() {
			cv, err := convert.Convert(def, v.ty)
			if err != nil {
				diags = append(diags, errorAt(a.Expr.Range(), "Invalid default value for variable",
					fmt.Sprintf("This default value is not compatible with the variable's type: %s.", err)))
			} else {
				v.def = cv
			}
		}
	}
	for _, name := range []string{"description", "sensitive"} {
		if a, ok := content.Attributes[name]; ok {
			_, ddiags := a.Expr.Value(nil)
			diags = append(diags, ddiags...)
		}
	}
	for _, vb := range content.Blocks {
		vc, vdiags := vb.Body.Content(validationSchema)
		diags = append(diags, vdiags...)
		if vdiags.HasErrors() {
			continue
		}
		msg, mdiags := vc.Attributes["error_message"].Expr.Value(nil)
		diags = append(diags, mdiags...)
		if mdiags.HasErrors() || msg.Type() != cty.String || msg.IsNull() {
			if !mdiags.HasErrors() {
				diags = append(diags, errorAt(vc.Attributes["error_message"].Expr.Range(), "Invalid error_message", "error_message must be a string."))
			}
			continue
		}
		v.rules = append(v.rules, validation{condition: vc.Attributes["condition"].Expr, message: msg.AsString()})
	}
	if _, dup := vars[name]; !dup {
		vars[name] = v
	}
	return diags
}

// declareVariables decodes a variables { name = default ... } block: each
// argument declares an untyped variable with that default.
func declareVariables(vars map[string]*variable, b *hcl.Block, fnCtx *hcl.EvalContext) hcl.Diagnostics {
	attrs, diags := b.Body.JustAttributes()
	for _, a := range sortedAttrs(attrs) {
		if d := checkVarName(vars, a.Name, a.NameRange); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		def, ddiags := evalLimited(a.Expr, fnCtx)
		diags = append(diags, ddiags...)
		v := &variable{name: a.Name, ty: cty.DynamicPseudoType, declRange: a.Range}
		if !ddiags.HasErrors() && !def.IsNull() {
			v.def = def
		}
		vars[a.Name] = v
	}
	return diags
}

func checkVarName(vars map[string]*variable, name string, rng hcl.Range) hcl.Diagnostics {
	if prev, dup := vars[name]; dup {
		return hcl.Diagnostics{errorAt(rng, "Duplicate variable",
			fmt.Sprintf("A variable named %q was already declared at line %d.", name, prev.declRange.Start.Line))}
	}
	if !hclsyntax.ValidIdentifier(name) {
		return hcl.Diagnostics{errorAt(rng, "Invalid variable name",
			"A variable name must start with a letter or underscore and contain only letters, digits, underscores and dashes.")}
	}
	return nil
}

// assignVariables sets every variable's value from its sources, in
// increasing precedence, and checks required ones and validations.
func assignVariables(vars map[string]*variable, opts *ParseOptions, fnCtx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, v := range vars {
		v.value = v.def
	}

	for _, kv := range opts.Env {
		k, raw, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, envVarPrefix) {
			continue
		}
		v, declared := vars[strings.TrimPrefix(k, envVarPrefix)]
		if !declared {
			continue // the environment holds many things; Nomad ignores strays too
		}
		val, d := rawValue(v, raw, "environment variable "+k)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.value = val
		}
	}

	for _, path := range opts.VarFiles {
		diags = append(diags, assignVarFile(vars, path, fnCtx)...)
	}

	for _, name := range sortedKeys(opts.Vars) {
		v, declared := vars[name]
		if !declared {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undefined -var variable",
				Detail: fmt.Sprintf("A value was given for variable %q, but the job file declares no variable of that name.", name)})
			continue
		}
		val, d := rawValue(v, opts.Vars[name], "-var "+name)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.value = val
		}
	}

	for _, name := range sortedKeys(vars) {
		v := vars[name]
		if v.value == cty.NilVal {
			diags = append(diags, errorAt(v.declRange, "Required variable not set",
				fmt.Sprintf("Variable %q has no default; set it with -var %s=..., a var file, or the %s%s environment variable.", name, name, envVarPrefix, name)))
		}
	}
	return diags
}

// rawValue turns a string from the command line or the environment into a
// value of the variable's type: primitive types take the string as it is,
// others parse it as an HCL expression, as Nomad does.
func rawValue(v *variable, raw, source string) (cty.Value, hcl.Diagnostics) {
	var val cty.Value
	if v.ty.IsPrimitiveType() || v.ty == cty.DynamicPseudoType {
		val = cty.StringVal(raw)
	} else {
		expr, diags := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
		if diags.HasErrors() {
			return cty.NilVal, diags
		}
		limitForExprs(expr, &forBudget{})
		val, diags = expr.Value(nil)
		if diags.HasErrors() {
			return cty.NilVal, diags
		}
	}
	cv, err := convert.Convert(val, v.ty)
	if err != nil {
		return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("The value from %s is not valid for variable %q: %s.", source, v.name, err)}}
	}
	return cv, nil
}

// assignVarFile reads an HCL var file of name = value arguments.
func assignVarFile(vars map[string]*variable, path string, fnCtx *hcl.EvalContext) hcl.Diagnostics {
	src, err := os.ReadFile(path)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read var file", Detail: err.Error()}}
	}
	p := hclparse.NewParser()
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(path, ".json") {
		f, diags = p.ParseJSON(src, path)
	} else {
		f, diags = p.ParseHCL(src, path)
	}
	if diags.HasErrors() {
		return diags
	}
	// A JSON var file's strings are templates parsed as they are
	// evaluated, out of reach of limitForExprs; var files are the CLI
	// user's own files, never read by a server.
	if body, ok := f.Body.(*hclsyntax.Body); ok {
		limitForExprs(body, &forBudget{})
	}
	attrs, adiags := f.Body.JustAttributes()
	diags = append(diags, adiags...)
	for _, a := range sortedAttrs(attrs) {
		v, declared := vars[a.Name]
		if !declared {
			diags = append(diags, errorAt(a.NameRange, "Undefined variable",
				fmt.Sprintf("A value was given for variable %q, but the job file declares no variable of that name.", a.Name)))
			continue
		}
		val, vdiags := evalLimited(a.Expr, fnCtx)
		diags = append(diags, vdiags...)
		if vdiags.HasErrors() {
			continue
		}
		cv, err := convert.Convert(val, v.ty)
		if err != nil {
			diags = append(diags, errorAt(a.Expr.Range(), "Invalid value for variable",
				fmt.Sprintf("This value is not valid for variable %q: %s.", a.Name, err)))
			continue
		}
		v.value = cv
	}
	return diags
}

// checkValidations runs the validation blocks once all values are known.
func checkValidations(vars map[string]*variable, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(vars) {
		for _, rule := range vars[name].rules {
			ok, d := rule.condition.Value(ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			if ok.Type() != cty.Bool || ok.IsNull() || !ok.IsKnown() {
				diags = append(diags, errorAt(rule.condition.Range(), "Invalid validation condition", "The condition must be true or false."))
				continue
			}
			if ok.False() {
				diags = append(diags, errorAt(rule.condition.Range(), "Invalid value for variable", rule.message))
			}
		}
	}
	return diags
}

// varsObject is the value of the var root.
func varsObject(vars map[string]*variable) cty.Value {
	attrs := make(map[string]cty.Value, len(vars))
	for name, v := range vars {
		if v.value != cty.NilVal {
			attrs[name] = v.value
		}
	}
	return cty.ObjectVal(attrs)
}

// evalLocals evaluates all locals blocks in dependency order and stores the
// result as ctx's local root. Locals may refer to variables, other locals,
// functions and runtime references.
func evalLocals(blocks []*hcl.Block, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	pending := map[string]*hcl.Attribute{}
	for _, b := range blocks {
		attrs, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for _, a := range sortedAttrs(attrs) {
			if prev, dup := pending[a.Name]; dup {
				diags = append(diags, errorAt(a.NameRange, "Duplicate local value",
					fmt.Sprintf("A local value named %q was already defined at line %d.", a.Name, prev.Range.Start.Line)))
				continue
			}
			pending[a.Name] = a
		}
	}
	done := map[string]cty.Value{}
	ctx.Variables["local"] = cty.EmptyObjectVal
	for len(pending) > 0 {
		progress := false
		for _, name := range sortedKeys(pending) {
			a := pending[name]
			if waitsOn(a.Expr, pending) {
				continue
			}
			v, d := evalLimited(a.Expr, withRuntimeRefs(ctx, a.Expr.Variables()))
			diags = append(diags, d...)
			if !d.HasErrors() {
				done[name] = v
				ctx.Variables["local"] = cty.ObjectVal(done)
			}
			delete(pending, name)
			progress = true
		}
		if !progress {
			for _, name := range sortedKeys(pending) {
				diags = append(diags, errorAt(pending[name].NameRange, "Cycle in local values",
					fmt.Sprintf("Local value %q depends, directly or not, on itself.", name)))
			}
			break
		}
	}
	return diags
}

// waitsOn reports whether expr refers to a local that is still pending
// and so must be evaluated later.
func waitsOn(expr hcl.Expression, pending map[string]*hcl.Attribute) bool {
	for _, t := range expr.Variables() {
		if t.RootName() != "local" || len(t) < 2 {
			continue
		}
		if step, ok := t[1].(hcl.TraverseAttr); ok {
			if _, waiting := pending[step.Name]; waiting {
				return true
			}
		}
	}
	return false
}

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return posLess(out[i].Range, out[j].Range) })
	return out
}
