// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// This file turns argument expressions into the Go types of the api
// structs. Each helper returns an attrFn for a spec, given an accessor for
// the field it fills; a null value leaves the field untouched, so that the
// server, not the parser, applies defaults.

// valueOf evaluates a's expression and converts it to ty. ok is false when
// the value is null or an error was reported.
func (d *decoder) valueOf(a *hcl.Attribute, ty cty.Type) (cty.Value, bool, hcl.Diagnostics) {
	v, diags := d.evalKnown(a.Expr)
	if diags.HasErrors() {
		return cty.NilVal, false, diags
	}
	if v.IsNull() {
		return v, false, diags
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NilVal, false, append(diags, errorAt(a.Expr.Range(),
			fmt.Sprintf("Invalid value for %q", a.Name), err.Error()+"."))
	}
	return cv, true, diags
}

func (d *decoder) stringOf(a *hcl.Attribute) (string, bool, hcl.Diagnostics) {
	v, ok, diags := d.valueOf(a, cty.String)
	if !ok {
		return "", false, diags
	}
	return v.AsString(), true, diags
}

func (d *decoder) intOf(a *hcl.Attribute) (int, bool, hcl.Diagnostics) {
	v, ok, diags := d.valueOf(a, cty.Number)
	if !ok {
		return 0, false, diags
	}
	var n int
	if err := gocty.FromCtyValue(v, &n); err != nil {
		return 0, false, append(diags, errorAt(a.Expr.Range(),
			fmt.Sprintf("Invalid value for %q", a.Name), "a whole number is required (and it must fit in an int)."))
	}
	return n, true, diags
}

func (d *decoder) boolOf(a *hcl.Attribute) (bool, bool, hcl.Diagnostics) {
	v, ok, diags := d.valueOf(a, cty.Bool)
	if !ok {
		return false, false, diags
	}
	return v.True(), true, diags
}

// durationOf reads a duration written as a Go duration string ("5s",
// "1m30s"), the form Nomad's job files use.
func (d *decoder) durationOf(a *hcl.Attribute) (time.Duration, bool, hcl.Diagnostics) {
	s, ok, diags := d.stringOf(a)
	if !ok {
		return 0, false, diags
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		return 0, false, append(diags, errorAt(a.Expr.Range(),
			fmt.Sprintf("Invalid duration for %q", a.Name),
			fmt.Sprintf("%q is not a duration; use a number with a unit, such as \"30s\" or \"5m\".", s)))
	}
	return dur, true, diags
}

func (d *decoder) stringListOf(a *hcl.Attribute) ([]string, bool, hcl.Diagnostics) {
	v, ok, diags := d.valueOf(a, cty.List(cty.String))
	if !ok {
		return nil, false, diags
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsNull() {
			return nil, false, append(diags, errorAt(a.Expr.Range(),
				fmt.Sprintf("Invalid value for %q", a.Name), "list elements must not be null."))
		}
		out = append(out, ev.AsString())
	}
	return out, true, diags
}

func (d *decoder) stringMapOf(a *hcl.Attribute) (map[string]string, bool, hcl.Diagnostics) {
	v, ok, diags := d.valueOf(a, cty.Map(cty.String))
	if !ok {
		return nil, false, diags
	}
	out := make(map[string]string, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		if ev.IsNull() {
			continue
		}
		out[k.AsString()] = ev.AsString()
	}
	return out, true, diags
}

// field is an accessor from a struct to one of its fields.
type field[T, F any] func(*T) *F

func strAttr[T any](f field[T, string]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		s, ok, diags := d.stringOf(a)
		if ok {
			*f(out) = s
		}
		return diags
	}
}

func strPtrAttr[T any](f field[T, *string]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		s, ok, diags := d.stringOf(a)
		if ok {
			*f(out) = &s
		}
		return diags
	}
}

func intPtrAttr[T any](f field[T, *int]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		n, ok, diags := d.intOf(a)
		if ok {
			*f(out) = &n
		}
		return diags
	}
}

func boolAttr[T any](f field[T, bool]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		b, ok, diags := d.boolOf(a)
		if ok {
			*f(out) = b
		}
		return diags
	}
}

func boolPtrAttr[T any](f field[T, *bool]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		b, ok, diags := d.boolOf(a)
		if ok {
			*f(out) = &b
		}
		return diags
	}
}

func durationPtrAttr[T any](f field[T, *time.Duration]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		dur, ok, diags := d.durationOf(a)
		if ok {
			*f(out) = &dur
		}
		return diags
	}
}

func stringListAttr[T any](f field[T, []string]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		l, ok, diags := d.stringListOf(a)
		if ok {
			*f(out) = l
		}
		return diags
	}
}

// integer is the integer types of the api structs' fields.
type integer interface {
	~int | ~int8 | ~uint8 | ~uint16 | ~uint32 | ~int64 | ~uint64
}

// integerOf reads a whole number that must fit in N, such as an
// affinity's int8 weight or a spread target's uint8 percent.
func integerOf[N integer](d *decoder, a *hcl.Attribute) (N, bool, hcl.Diagnostics) {
	v, ok, diags := d.valueOf(a, cty.Number)
	if !ok {
		return 0, false, diags
	}
	lo, hi := integerRange[N]()
	bf := v.AsBigFloat()
	if !bf.IsInt() || bf.Cmp(new(big.Float).SetInt64(lo)) < 0 || bf.Cmp(new(big.Float).SetUint64(hi)) > 0 {
		return 0, false, append(diags, errorAt(a.Expr.Range(),
			fmt.Sprintf("Invalid value for %q", a.Name), fmt.Sprintf("a whole number from %d to %d is required.", lo, hi)))
	}
	if lo == 0 {
		u, _ := bf.Uint64()
		return N(u), true, diags
	}
	i, _ := bf.Int64()
	return N(i), true, diags
}

// integerRange returns the smallest and largest values of N.
func integerRange[N integer]() (int64, uint64) {
	ty := reflect.TypeFor[N]()
	bits := ty.Bits()
	switch ty.Kind() {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return 0, math.MaxUint64 >> (64 - bits)
	}
	return -1 << (bits - 1), math.MaxInt64 >> (64 - bits)
}

func numAttr[T any, N integer](f field[T, N]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		n, ok, diags := integerOf[N](d, a)
		if ok {
			*f(out) = n
		}
		return diags
	}
}

func numPtrAttr[T any, N integer](f field[T, *N]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		n, ok, diags := integerOf[N](d, a)
		if ok {
			*f(out) = &n
		}
		return diags
	}
}

// numListAttr reads a list of whole numbers, such as a transparent
// proxy's exclude_outbound_ports.
func numListAttr[T any, N integer](f field[T, []N]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		v, ok, diags := d.valueOf(a, cty.List(cty.Number))
		if !ok {
			return diags
		}
		lo, hi := integerRange[N]()
		list := make([]N, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			bf := ev.AsBigFloat()
			if ev.IsNull() || !bf.IsInt() || bf.Cmp(new(big.Float).SetInt64(lo)) < 0 || bf.Cmp(new(big.Float).SetUint64(hi)) > 0 {
				return append(diags, errorAt(a.Expr.Range(), fmt.Sprintf("Invalid value for %q", a.Name),
					fmt.Sprintf("every element must be a whole number from %d to %d.", lo, hi)))
			}
			i, _ := bf.Int64()
			list = append(list, N(i))
		}
		*f(out) = list
		return diags
	}
}

func durationAttr[T any](f field[T, time.Duration]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		dur, ok, diags := d.durationOf(a)
		if ok {
			*f(out) = dur
		}
		return diags
	}
}

// stringListMapBlock decodes blocks of name = [values] arguments, such as
// a check's header { Authorization = ["Basic ..."] }.
func stringListMapBlock[T any](f field[T, map[string][]string]) blockRule[T] {
	return blockRule[T]{single: true, decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		attrs, diags := b.Body.JustAttributes()
		m := make(map[string][]string, len(attrs))
		for _, a := range sortedAttrs(attrs) {
			l, ok, adiags := d.stringListOf(a)
			diags = append(diags, adiags...)
			if ok {
				m[a.Name] = l
			}
		}
		*f(out) = m
		return diags
	}}
}

// ctyToGo converts a known value to the plain Go values encoding/json
// produces: string, bool, int64 or float64, []interface{},
// map[string]interface{} and nil.
func ctyToGo(v cty.Value) interface{} {
	if v.IsNull() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString()
	case ty == cty.Bool:
		return v.True()
	case ty == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			if i, acc := bf.Int64(); acc == big.Exact {
				return i
			}
		}
		f, _ := bf.Float64()
		return f
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		out := make([]interface{}, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			out = append(out, ctyToGo(ev))
		}
		return out
	case ty.IsMapType() || ty.IsObjectType():
		out := make(map[string]interface{}, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			out[k.AsString()] = ctyToGo(ev)
		}
		return out
	}
	return nil
}
