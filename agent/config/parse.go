// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"bytes"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// pendingBlocks are agent configuration blocks Nomad has that Drover does
// not read yet; they fail with a message that says so rather than as
// unknown.
var pendingBlocks = map[string]bool{
	"acl": true, "audit": true, "autopilot": true, "consul": true, "vault": true,
	"telemetry": true, "tls": true, "ui": true, "sentinel": true, "limits": true,
	"reporting": true, "keyring": true,
}

// ParseFile reads and parses the configuration file at path.
func ParseFile(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read agent config: %w", err)
	}
	return Parse(path, src)
}

// Parse parses an agent configuration, named name in messages. Content
// that starts with "{" is JSON, anything else HCL. The result holds only
// what the file sets; merge it over Default() or DevConfig(). Unknown keys
// are errors, reported with file:line:col, all of them at once.
func Parse(name string, src []byte) (*Config, error) {
	var file *hcl.File
	var diags hcl.Diagnostics
	if t := bytes.TrimSpace(src); len(t) > 0 && t[0] == '{' {
		file, diags = hcljson.Parse(src, name)
	} else {
		file, diags = hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	}
	if diags.HasErrors() {
		return nil, &Error{Diags: diags}
	}
	body, pdiags := dropPending(file.Body)
	diags = append(diags, pdiags...)
	cfg := &Config{}
	diags = append(diags, topSection(cfg).decode(body)...)
	if diags.HasErrors() {
		return nil, &Error{Diags: diags}
	}
	cfg.LogLevel = strings.ToUpper(cfg.LogLevel)
	return cfg, nil
}

// dropPending reports not-yet-supported top-level blocks of a native HCL
// body and removes them, so they are not reported again as unknown.
func dropPending(body hcl.Body) (hcl.Body, hcl.Diagnostics) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return body, nil
	}
	var diags hcl.Diagnostics
	out := &hclsyntax.Body{Attributes: sb.Attributes, SrcRange: sb.SrcRange, EndRange: sb.EndRange}
	for _, b := range sb.Blocks {
		if pendingBlocks[b.Type] {
			r := b.TypeRange
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported block type",
				Detail: fmt.Sprintf("block %q is not supported by Drover yet", b.Type), Subject: &r})
			continue
		}
		out.Blocks = append(out.Blocks, b)
	}
	return out, diags
}

// freeForm turns a plugin's config body into plain Go values: arguments
// become their values and, in HCL, nested blocks become lists of maps
// under their type name (in JSON they are objects, and stay maps).
func freeForm(body hcl.Body) (map[string]interface{}, hcl.Diagnostics) {
	out := map[string]interface{}{}
	sb, native := body.(*hclsyntax.Body)
	if !native {
		attrs, diags := body.JustAttributes()
		for _, a := range sortedAttrs(attrs) {
			v, vdiags := a.Expr.Value(nil)
			diags = append(diags, vdiags...)
			if !vdiags.HasErrors() {
				out[a.Name] = ctyToGo(v)
			}
		}
		return out, diags
	}
	var diags hcl.Diagnostics
	for name, a := range sb.Attributes {
		v, vdiags := a.Expr.Value(nil)
		diags = append(diags, vdiags...)
		if !vdiags.HasErrors() {
			out[name] = ctyToGo(v)
		}
	}
	for _, b := range sb.Blocks {
		if len(b.Labels) > 0 {
			r := b.LabelRanges[0]
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unexpected block label",
				Detail: fmt.Sprintf("Blocks inside a plugin config take no labels; write %s { ... }.", b.Type), Subject: &r})
			continue
		}
		inner, idiags := freeForm(b.Body)
		diags = append(diags, idiags...)
		list, _ := out[b.Type].([]map[string]interface{})
		out[b.Type] = append(list, inner)
	}
	return out, diags
}

// ctyToGo converts a value to what encoding/json would decode: string,
// bool, int64 or float64, []interface{}, map[string]interface{} or nil.
func ctyToGo(v cty.Value) interface{} {
	if v.IsNull() || !v.IsKnown() {
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
		if i, acc := bf.Int64(); bf.IsInt() && acc == big.Exact {
			return i
		}
		f, _ := bf.Float64()
		return f
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		out := make([]interface{}, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, ctyToGo(e))
		}
		return out
	case ty.IsMapType() || ty.IsObjectType():
		out := map[string]interface{}{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			out[k.AsString()] = ctyToGo(e)
		}
		return out
	}
	if s, err := convert.Convert(v, cty.String); err == nil {
		return s.AsString()
	}
	return nil
}

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Range.Start.Line != out[j].Range.Start.Line {
			return out[i].Range.Start.Line < out[j].Range.Start.Line
		}
		return out[i].Range.Start.Column < out[j].Range.Start.Column
	})
	return out
}

// Error lists the problems of a configuration file, one per line, as
// "file:line:col: summary; detail".
type Error struct {
	Diags hcl.Diagnostics
}

// Error implements error.
func (e *Error) Error() string {
	var errs hcl.Diagnostics
	for _, d := range e.Diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		}
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].Subject, errs[j].Subject
		if a == nil || b == nil {
			return a == nil && b != nil
		}
		if a.Start.Line != b.Start.Line {
			return a.Start.Line < b.Start.Line
		}
		return a.Start.Column < b.Start.Column
	})
	var lines []string
	for _, d := range errs {
		msg := d.Summary
		if d.Detail != "" {
			msg += "; " + d.Detail
		}
		if d.Subject != nil {
			msg = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, msg)
		}
		lines = append(lines, msg)
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives errors.As access to the hcl.Diagnostics.
func (e *Error) Unwrap() error { return e.Diags }
