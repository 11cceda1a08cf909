// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// This file holds fileset, templatefile and yamlencode: the functions
// that walk files or render text, beyond go-cty's library.

// fileSetFunc lists the regular files under a directory that match a
// pattern, as paths relative to the directory with "/" separators,
// sorted. The pattern is path.Match syntax per path segment, where a
// "**" segment matches any number of directories.
func fileSetFunc(allowFS bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}, {Name: "pattern", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Set(cty.String)),
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			if !allowFS {
				return cty.NilVal, errNoFS
			}
			root, pattern := args[0].AsString(), args[1].AsString()
			if _, err := path.Match(strings.ReplaceAll(pattern, "**", "*"), ""); err != nil {
				return cty.NilVal, function.NewArgErrorf(1, "invalid pattern %q: %s", pattern, err)
			}
			var found []cty.Value
			err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !de.Type().IsRegular() {
					return nil
				}
				rel, err := filepath.Rel(root, p)
				if err != nil {
					return err
				}
				rel = filepath.ToSlash(rel)
				if globMatch(strings.Split(pattern, "/"), strings.Split(rel, "/")) {
					found = append(found, cty.StringVal(rel))
				}
				if len(found) > maxListElems {
					return fmt.Errorf("more than %d files match", maxListElems)
				}
				return nil
			})
			if err != nil {
				return cty.NilVal, err
			}
			if len(found) == 0 {
				return cty.SetValEmpty(cty.String), nil
			}
			return cty.SetVal(found), nil
		},
	})
}

// globMatch matches path segments against pattern segments.
func globMatch(pattern, segs []string) bool {
	if len(pattern) == 0 {
		return len(segs) == 0
	}
	if pattern[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if globMatch(pattern[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, _ := path.Match(pattern[0], segs[0])
	return ok && globMatch(pattern[1:], segs[1:])
}

// templateFileFunc renders a file as an HCL template with the given
// variables and the job file's functions (fns, without templatefile).
func templateFileFunc(allowFS bool, fns map[string]function.Function) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}, {Name: "vars", Type: cty.DynamicPseudoType}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			if !allowFS {
				return cty.NilVal, errNoFS
			}
			name := args[0].AsString()
			src, err := os.ReadFile(name)
			if err != nil {
				return cty.NilVal, err
			}
			if !utf8.Valid(src) {
				return cty.NilVal, fmt.Errorf("%s is not valid UTF-8", name)
			}
			vars := args[1]
			if !vars.Type().IsObjectType() && !vars.Type().IsMapType() {
				return cty.NilVal, function.NewArgErrorf(1, "vars must be an object or a map")
			}
			ctx := &hcl.EvalContext{Functions: fns, Variables: map[string]cty.Value{}}
			for it := vars.ElementIterator(); it.Next(); {
				k, v := it.Element()
				if !hclsyntax.ValidIdentifier(k.AsString()) {
					return cty.NilVal, function.NewArgErrorf(1, "%q is not a valid variable name", k.AsString())
				}
				ctx.Variables[k.AsString()] = v
			}
			expr, diags := hclsyntax.ParseTemplate(src, name, hcl.InitialPos)
			if diags.HasErrors() {
				return cty.NilVal, diags
			}
			out, diags := expr.Value(ctx)
			if diags.HasErrors() {
				return cty.NilVal, diags
			}
			if out.IsNull() || !out.Type().Equals(cty.String) {
				return cty.NilVal, fmt.Errorf("template %s did not produce a string", name)
			}
			return out, nil
		},
	})
}

// yamlEncodeFunc encodes a value as block-style YAML with every string
// and key double-quoted, which keeps "yes", "1.0" and friends strings.
var yamlEncodeFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowNull: true}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		if !args[0].IsWhollyKnown() {
			return cty.UnknownVal(cty.String), nil
		}
		var b strings.Builder
		writeYAML(&b, args[0], 0)
		return cty.StringVal(b.String()), nil
	},
})

func writeYAML(b *strings.Builder, v cty.Value, indent int) {
	pad := strings.Repeat("  ", indent)
	ty := v.Type()
	switch {
	case v.IsNull():
		b.WriteString("null\n")
	case ty == cty.String:
		b.WriteString(yamlQuote(v.AsString()) + "\n")
	case ty == cty.Number:
		b.WriteString(v.AsBigFloat().Text('f', -1) + "\n")
	case ty == cty.Bool:
		fmt.Fprintf(b, "%t\n", v.True())
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		if v.LengthInt() == 0 {
			b.WriteString("[]\n")
			return
		}
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			b.WriteString(pad + "- ")
			writeYAMLNested(b, ev, indent+1, true)
		}
	case ty.IsMapType() || ty.IsObjectType():
		if v.LengthInt() == 0 {
			b.WriteString("{}\n")
			return
		}
		var keys []string
		vals := map[string]cty.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			keys = append(keys, k.AsString())
			vals[k.AsString()] = ev
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(pad + yamlQuote(k) + ":")
			writeYAMLNested(b, vals[k], indent+1, false)
		}
	}
}

// writeYAMLNested writes a value after "- " (inList) or "key:".
func writeYAMLNested(b *strings.Builder, v cty.Value, indent int, inList bool) {
	ty := v.Type()
	collection := !v.IsNull() && (ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType())
	switch {
	case !collection || v.LengthInt() == 0:
		if !inList {
			b.WriteString(" ")
		}
		writeYAML(b, v, 0)
	case inList:
		// The first line of a nested block shares the "- " line.
		var nb strings.Builder
		writeYAML(&nb, v, indent)
		b.WriteString(strings.TrimPrefix(nb.String(), strings.Repeat("  ", indent)))
	default:
		b.WriteString("\n")
		writeYAML(b, v, indent)
	}
}

// yamlQuote double-quotes s; JSON's escapes are valid in YAML's
// double-quoted style.
func yamlQuote(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}
