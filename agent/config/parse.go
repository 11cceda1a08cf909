// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/hcl/ast"
	hcl1parser "github.com/hashicorp/hcl/hcl/parser"
	"github.com/hashicorp/hcl/hcl/token"
	"github.com/hashicorp/hcl/v2"
)

// Nomad's agent configuration language is HCL version 1, not HCL2: files
// may write `ports { http = 4646 rpc = 4647 }` on one line, quote keys,
// write maps as blocks or with "=", and so on. So native files are parsed
// with the HCL1 library (github.com/hashicorp/hcl), exactly as Nomad
// parses them. A file whose first non-space character is "{" is JSON, as
// in HCL1; json.go turns it into the same HCL1 syntax tree, with the
// positions HCL1's own JSON parser drops. The tree is then walked by this
// package's own decoder (decode.go, sections.go) rather than HCL1's
// reflection decoder, because that one silently ignores unknown keys and
// reports no positions.
//
// Problems are collected as hcl/v2 diagnostics: that is the error type
// this package has always returned and the one jobspec returns, so the CLI
// prints configuration and job file errors alike. hcl/v2 is used for
// nothing else here.

// ParseFile reads and parses the configuration file at path.
func ParseFile(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read agent config: %w", err)
	}
	return Parse(path, src)
}

// Parse parses an agent configuration in Nomad's format (HCL1, or JSON
// when the content starts with "{"), named name in messages. The result
// holds only what the file sets; merge it over Default() or DevConfig().
// Unknown keys are errors, reported with file:line:col, all of them at
// once.
func Parse(name string, src []byte) (*Config, error) {
	file, err := parseHCL1(src)
	if err != nil {
		return nil, &Error{Diags: hcl.Diagnostics{syntaxDiag(name, err)}}
	}
	d := &decoder{file: name}
	cfg := &Config{}
	d.safely(func() { d.section(topSection(cfg), file.Node) })
	if d.diags.HasErrors() {
		return nil, &Error{Diags: d.diags}
	}
	cfg.LogLevel = strings.ToUpper(cfg.LogLevel)
	return cfg, nil
}

// parseHCL1 runs the HCL1 parser, turning its panics (the library is
// archived and panics on some malformed input) into errors.
func parseHCL1(src []byte) (file *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			file, err = nil, fmt.Errorf("malformed configuration: %v", r)
		}
	}()
	if isJSON(src) {
		return parseJSON(src)
	}
	return hcl1parser.Parse(src)
}

// syntaxDiag turns an HCL1 parse error into a diagnostic at its place.
func syntaxDiag(name string, err error) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid configuration syntax"}
	var je *posError
	if errors.As(err, &je) {
		d.Detail = je.msg
		d.Subject = rangeAt(name, je.pos)
		return d
	}
	var pe *hcl1parser.PosError
	if errors.As(err, &pe) {
		d.Detail = strings.TrimPrefix(pe.Err.Error(), ": ")
		if pe.Pos.IsValid() {
			d.Subject = rangeAt(name, pe.Pos)
		}
		return d
	}
	msg := err.Error()
	d.Subject = rangeAt(name, token.Pos{Line: 1, Column: 1})
	d.Detail = msg
	return d
}

// rangeAt is the one-character range at p in file name.
func rangeAt(name string, p token.Pos) *hcl.Range {
	start := hcl.Pos{Line: p.Line, Column: p.Column, Byte: p.Offset}
	end := start
	end.Column++
	end.Byte++
	return &hcl.Range{Filename: name, Start: start, End: end}
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
