// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	ctyyaml "github.com/zclconf/go-cty-yaml"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/gocty"
)

// A job file is a program: format("%99999999s", "") asks for 100 MB, and
// nested replace calls grow exponentially. The parser runs in the CLI and
// may run in servers and fuzzers, so it bounds what one job file can make
// it build:
//
//   - the job file itself is at most maxSourceBytes;
//   - no function returns a value larger than maxValueBytes (strings count
//     their bytes, collections the sum of their elements), and the
//     functions that multiply their input (format and formatlist widths,
//     indent, replace, regex_replace, join, setproduct) are checked before
//     they run, so the large value is never built (yamldecode counts
//     the nodes its document expands to, aliases included);
//   - no argument, local or variable evaluates to more than maxValueBytes;
//   - dynamic blocks generate at most maxDynamicBlocks blocks in all, so
//     nested for_each loops cannot multiply into millions of groups;
//   - the values of all the job's arguments add up to at most
//     maxEvalBytes, because a dynamic block evaluates its content once
//     per element: 10,000 blocks of 1 MB values would be 10 GB of work;
//   - for expressions iterate at most maxForIterations times and produce
//     at most maxForBytes in all, because nested ones multiply
//     (forlimits.go).
//
// Operators and templates can still join several bounded values, so an
// expression is bounded by maxValueBytes times its own length; that is
// far more than any real job and far less than a machine's memory.
const (
	maxSourceBytes = 4 << 20
	maxValueBytes  = 1 << 20
	maxListElems   = 100_000
	maxFormatWidth = 10_000

	maxDynamicBlocks = 10_000
	maxEvalBytes     = 64 << 20
)

// budget is what one job file has spent of the limits that add up over
// the whole file (maxDynamicBlocks, maxEvalBytes).
type budget struct {
	blocks int
	bytes  int
	// over is the error reported when bytes went over maxEvalBytes; later
	// evaluations return it again, and errorsOnly keeps one copy.
	over *hcl.Diagnostic
}

// spendBlocks counts n generated blocks and reports whether that is more
// than a job file may generate.
func (b *budget) spendBlocks(n int) bool {
	b.blocks += n
	return b.blocks > maxDynamicBlocks
}

// spendBytes counts n bytes of evaluated values, from the expression at
// rng.
func (b *budget) spendBytes(n int, rng hcl.Range) {
	b.bytes += n
	if b.bytes > maxEvalBytes && b.over == nil {
		b.over = errorAt(rng, "Job file too large when evaluated",
			fmt.Sprintf("The job's arguments evaluate to more than %d bytes in all (dynamic blocks repeat their content once per element); this is where the limit was reached.", maxEvalBytes))
	}
}

// overspent returns the error to report when the job file has evaluated
// too much already, or nil.
func (b *budget) overspent() *hcl.Diagnostic {
	return b.over
}

// limitFuncs wraps every function so that it checks the limits above.
func limitFuncs(fns map[string]function.Function) map[string]function.Function {
	out := make(map[string]function.Function, len(fns))
	for name, f := range fns {
		out[name] = limitFunc(name, f)
	}
	return out
}

func limitFunc(name string, f function.Function) function.Function {
	spec := &function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type: func(args []cty.Value) (cty.Type, error) {
			return f.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			if err := precheck(name, args); err != nil {
				return cty.NilVal, err
			}
			v, err := f.Call(args)
			if err != nil {
				return v, err
			}
			if n := valueSize(v); n > maxValueBytes {
				return cty.NilVal, fmt.Errorf("the result is too large (over %d bytes; the limit is %d)", maxValueBytes, maxValueBytes)
			}
			return v, nil
		},
	}
	return function.New(spec)
}

var formatWidth = regexp.MustCompile(`%[-+# 0]*(\d*)(?:\.(\d*))?`)

// precheck estimates the size of what the multiplying functions would
// build, and refuses before they build it.
func precheck(name string, args []cty.Value) error {
	for _, a := range args {
		if !a.IsWhollyKnown() || a.IsNull() {
			return nil
		}
	}
	tooBig := func(est int) error {
		if est > maxValueBytes {
			return fmt.Errorf("the result would be too large (about %d bytes; the limit is %d)", est, maxValueBytes)
		}
		return nil
	}
	str := func(i int) string {
		if i < len(args) && args[i].Type() == cty.String {
			return args[i].AsString()
		}
		return ""
	}
	switch name {
	case "format", "formatlist":
		for _, m := range formatWidth.FindAllStringSubmatch(str(0), -1) {
			for _, n := range m[1:] {
				if len(n) > 5 || (n != "" && atoi(n) > maxFormatWidth) {
					return fmt.Errorf("width or precision %s is too large (the limit is %d)", n, maxFormatWidth)
				}
			}
		}
		if name == "formatlist" {
			longest := 1
			for _, a := range args[1:] {
				if ty := a.Type(); ty.IsListType() || ty.IsTupleType() {
					longest = max(longest, a.LengthInt())
				}
			}
			return tooBig(longest * (len(str(0)) + maxFormatWidth))
		}
	case "indent":
		var spaces int
		if err := gocty.FromCtyValue(args[0], &spaces); err != nil || spaces < 0 || spaces > maxFormatWidth {
			return fmt.Errorf("spaces must be a whole number from 0 to %d", maxFormatWidth)
		}
		return tooBig(len(str(1)) + spaces*strings.Count(str(1), "\n"))
	case "replace":
		s, sub, repl := str(0), str(1), str(2)
		return tooBig(len(s) + strings.Count(s, sub)*len(repl))
	case "regex_replace":
		s, repl := str(0), str(2)
		re, err := regexp.Compile(str(1))
		if err != nil {
			return nil // the function itself reports the bad pattern
		}
		n := len(re.FindAllStringIndex(s, -1))
		return tooBig(len(s) + n*(len(repl)+strings.Count(repl, "$")*len(s)))
	case "join":
		est, n := len(str(0)), 0
		for _, l := range args[1:] {
			n += l.LengthInt()
			est += valueSize(l)
		}
		return tooBig(est + n*len(str(0)))
	case "setproduct":
		n := 1
		for _, a := range args {
			n *= max(a.LengthInt(), 1)
			if n > maxListElems {
				return fmt.Errorf("the product would have more than %d elements", maxListElems)
			}
		}
	case "yamldecode":
		// YAML aliases let a few lines stand for an exponential tree
		// ("billion laughs"), and decoding builds every node of it. The
		// implied type shares structure like the document does, so it is
		// cheap to compute, and its expanded size is the node count.
		ty, err := ctyyaml.Standard.ImpliedType([]byte(str(0)))
		if err != nil {
			return nil // the function itself reports the bad document
		}
		if n := typeNodes(ty, maxListElems); n > maxListElems {
			return fmt.Errorf("the document expands to more than %d values (through aliases, perhaps)", maxListElems)
		}
	}
	return nil
}

// typeNodes counts the nodes of a value of type ty, counting each element
// of a tuple and attribute of an object, and stops once over limit.
func typeNodes(ty cty.Type, limit int) int {
	n := 1
	switch {
	case ty.IsTupleType():
		for _, et := range ty.TupleElementTypes() {
			if n += typeNodes(et, limit); n > limit {
				return n
			}
		}
	case ty.IsObjectType():
		for _, at := range ty.AttributeTypes() {
			if n += typeNodes(at, limit); n > limit {
				return n
			}
		}
	case ty.IsCollectionType():
		n += typeNodes(ty.ElementType(), limit)
	}
	return n
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// valueSize is roughly how many bytes v holds: the bytes of its strings
// plus a little for every other value.
func valueSize(v cty.Value) int {
	if v.IsNull() || !v.IsKnown() {
		return 1
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return len(v.AsString())
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
		n := 1
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			n += valueSize(ev)
			if k.Type() == cty.String {
				n += len(k.AsString())
			}
			if n > maxValueBytes {
				return n
			}
		}
		return n
	case ty.IsCapsuleType():
		return 1
	}
	return 8
}
