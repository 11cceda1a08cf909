// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// This file holds fileset and templatefile: the functions that walk
// files or render templates, beyond go-cty's library.

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
			limitForExprs(expr, &forBudget{})
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
