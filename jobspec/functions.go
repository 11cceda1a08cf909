// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	ctyyaml "github.com/zclconf/go-cty-yaml"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions returns the HCL functions a job file may call: go-cty's
// standard library under the names Nomad documents, go-cty-yaml's YAML
// functions (the ones Nomad uses, so the output is byte for byte Nomad's),
// plus a few of Nomad's own. The filesystem functions read files only when allowFS is set: the
// CLI allows them, an HTTP endpoint that parses a submitted job must not.
func functions(allowFS bool) map[string]function.Function {
	fns := map[string]function.Function{
		"abs":             stdlib.AbsoluteFunc,
		"base64decode":    base64DecodeFunc,
		"base64encode":    base64EncodeFunc,
		"can":             tryfunc.CanFunc,
		"ceil":            stdlib.CeilFunc,
		"chomp":           stdlib.ChompFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        coalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"csvdecode":       stdlib.CSVDecodeFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"floor":           stdlib.FloorFunc,
		"format":          stdlib.FormatFunc,
		"formatdate":      stdlib.FormatDateFunc,
		"formatlist":      stdlib.FormatListFunc,
		"indent":          stdlib.IndentFunc,
		"index":           indexFunc,
		"join":            stdlib.JoinFunc,
		"jsondecode":      stdlib.JSONDecodeFunc,
		"jsonencode":      stdlib.JSONEncodeFunc,
		"keys":            stdlib.KeysFunc,
		"length":          lengthFunc,
		"log":             stdlib.LogFunc,
		"lookup":          stdlib.LookupFunc,
		"lower":           stdlib.LowerFunc,
		"max":             stdlib.MaxFunc,
		"merge":           stdlib.MergeFunc,
		"min":             stdlib.MinFunc,
		"parseint":        stdlib.ParseIntFunc,
		"pow":             stdlib.PowFunc,
		"range":           stdlib.RangeFunc,
		"regex":           stdlib.RegexFunc,
		"regex_replace":   stdlib.RegexReplaceFunc,
		"regexall":        stdlib.RegexAllFunc,
		"replace":         stdlib.ReplaceFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"signum":          stdlib.SignumFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"split":           stdlib.SplitFunc,
		"strlen":          stdlib.StrlenFunc,
		"strrev":          stdlib.ReverseFunc,
		"substr":          stdlib.SubstrFunc,
		"timeadd":         stdlib.TimeAddFunc,
		"title":           stdlib.TitleFunc,
		"tobool":          stdlib.MakeToFunc(cty.Bool),
		"tolist":          stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":           stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":        stdlib.MakeToFunc(cty.Number),
		"toset":           stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":        stdlib.MakeToFunc(cty.String),
		"trim":            stdlib.TrimFunc,
		"trimprefix":      stdlib.TrimPrefixFunc,
		"trimspace":       stdlib.TrimSpaceFunc,
		"trimsuffix":      stdlib.TrimSuffixFunc,
		"try":             tryfunc.TryFunc,
		"upper":           stdlib.UpperFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,
		"abspath":         pathFunc(filepath.Abs),
		"basename":        pathFunc(func(p string) (string, error) { return filepath.Base(p), nil }),
		"dirname":         pathFunc(func(p string) (string, error) { return filepath.Dir(p), nil }),
		"pathexpand":      pathFunc(expandHome),
		"convert":         typeexpr.ConvertFunc,
		"md5":             md5Func,
		"sha1":            sha1Func,
		"sha256":          sha256Func,
		"sha512":          sha512Func,
		"rsadecrypt":      rsaDecryptFunc,
		"urlencode":       urlEncodeFunc,
		"yamldecode":      ctyyaml.YAMLDecodeFunc,
		"yamlencode":      ctyyaml.YAMLEncodeFunc,
		"bcrypt":          bcryptFunc,
		"uuidv4":          uuidV4Func,
		"uuidv5":          uuidV5Func,
		"timestamp":       timestampFunc,
		"cidrhost":        cidrHostFunc,
		"cidrnetmask":     cidrNetmaskFunc,
		"cidrsubnet":      cidrSubnetFunc,
		"cidrsubnets":     cidrSubnetsFunc,
	}
	fns["file"] = fileFunc(allowFS)
	fns["fileexists"] = fileExistsFunc(allowFS)
	fns["fileset"] = fileSetFunc(allowFS)
	// templatefile renders with the functions above but not itself, so a
	// template cannot recurse.
	fns["templatefile"] = templateFileFunc(allowFS, limitFuncs(maps.Clone(fns)))
	return limitFuncs(fns)
}

// indexFunc is Nomad's index(list, value): the position of the first
// element equal to value (go-cty's IndexFunc is element access instead).
var indexFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "list", Type: cty.DynamicPseudoType},
		{Name: "value", Type: cty.DynamicPseudoType},
	},
	Type: function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		ty := args[0].Type()
		if !ty.IsListType() && !ty.IsTupleType() {
			return cty.NilVal, function.NewArgErrorf(0, "a list or tuple is required")
		}
		for it := args[0].ElementIterator(); it.Next(); {
			i, v := it.Element()
			eq := v.Equals(args[1])
			if eq.IsKnown() && eq.True() {
				return i, nil
			}
		}
		return cty.NilVal, errors.New("the value is not in the list")
	},
})

// expandHome replaces a leading ~ with the user's home directory.
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, p[1:]), nil
}

// errNoFS is what the file functions say when the caller did not allow
// reading files (ParseOptions.AllowFS).
var errNoFS = errors.New("reading files is not allowed here (the job is parsed without filesystem access)")

// lengthFunc is Nomad's length: the number of elements of a collection or
// the number of characters of a string.
var lengthFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		if args[0].Type() == cty.String {
			return stdlib.Strlen(args[0])
		}
		return stdlib.Length(args[0])
	},
})

// coalesceFunc is Nomad's coalesce: the first argument that is neither
// null nor an empty string (go-cty's skips only nulls).
var coalesceFunc = function.New(&function.Spec{
	VarParam: &function.Parameter{Name: "vals", Type: cty.DynamicPseudoType, AllowNull: true, AllowDynamicType: true},
	Type: func(args []cty.Value) (cty.Type, error) {
		return stdlib.CoalesceFunc.ReturnType(valueTypes(args))
	},
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		for _, v := range args {
			if v.IsNull() || (v.Type() == cty.String && v.AsString() == "") {
				continue
			}
			return convert.Convert(v, retType)
		}
		return cty.NilVal, errors.New("no argument is non-null and non-empty")
	},
})

func valueTypes(args []cty.Value) []cty.Type {
	tys := make([]cty.Type, len(args))
	for i, v := range args {
		tys[i] = v.Type()
	}
	return tys
}

func pathFunc(fn func(string) (string, error)) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			p, err := fn(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(p), nil
		},
	})
}

// fileFunc reads a UTF-8 file, relative to the working directory as in
// Nomad's CLI.
func fileFunc(allowFS bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			if !allowFS {
				return cty.NilVal, errNoFS
			}
			b, err := os.ReadFile(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			if !utf8.Valid(b) {
				return cty.NilVal, fmt.Errorf("%s is not valid UTF-8", args[0].AsString())
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

func fileExistsFunc(allowFS bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			if !allowFS {
				return cty.NilVal, errNoFS
			}
			fi, err := os.Stat(args[0].AsString())
			switch {
			case errors.Is(err, os.ErrNotExist):
				return cty.False, nil
			case err != nil:
				return cty.NilVal, err
			}
			return cty.BoolVal(fi.Mode().IsRegular()), nil
		},
	})
}
