// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/token"
	"github.com/hashicorp/hcl/v2"
)

// This file walks the HCL1 syntax tree. The rules follow what HCL1's own
// decoder does with Nomad's agent config, so a file means the same thing
// to Drover as to Nomad:
//
//   - Keys match case-insensitively, quoted or not ("ports", "Ports").
//   - `a b { ... }` is `a { b { ... } }`: HCL1 writes labelled blocks
//     (plugin "docker" { ... }) and flattened JSON objects this way.
//     All such items of one body that start with the same key form one
//     occurrence of that key, as HCL1 groups them.
//   - A block may be written `x { ... }`, `x = { ... }`, or as a list of
//     objects `x = [{ ... }, { ... }]` (each element one occurrence; this
//     is also how HCL1 presents JSON arrays of objects).
//   - Strings accept bare numbers (`datacenter = 1` is "1"), integers
//     accept numeric strings (`http = "4646"`), both as HCL1 converts them;
//     durations are strings Go's time.ParseDuration reads, so a bare number
//     is only accepted when it is 0, as in Nomad.
//   - An argument given twice keeps the last value; a list argument given
//     twice gets both lists, in order (HCL1 appends).
//
// Drover is stricter than Nomad in two ways: unknown keys are errors, and
// a block given twice in one file (two server blocks) is an error, where
// HCL1 would keep the last one whole and drop the first without a word.

// decoder collects the problems found while walking one file.
type decoder struct {
	file  string
	diags hcl.Diagnostics
}

// occurrence is one appearance of a key in a body.
type occurrence struct {
	key string    // as written, unquoted
	pos token.Pos // of the key
	// val is *ast.LiteralType, *ast.ListType, *ast.ObjectType, or
	// *ast.ObjectList (the rest of `key a b { }` items).
	val ast.Node
}

// group is every occurrence of one key in a body, in file order.
type group struct {
	key  string
	occs []occurrence
}

// field is one key of a section and the code that stores it.
type field struct {
	once   bool // a block allowed once per body
	decode func(d *decoder, o occurrence)
}

// section is the schema of one block body.
type section struct {
	what   string // for messages: "the server block"
	fields map[string]field
	// pending are Nomad's keys Drover does not read yet, each "block" or
	// "argument"; they get a message saying so instead of "unknown".
	pending map[string]string
}

// safely runs f, turning a panic of the HCL1 library (token values it
// cannot convert) into a diagnostic, so bad input never crashes the agent.
func (d *decoder) safely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid configuration",
				Detail: fmt.Sprintf("the configuration could not be read: %v", r), Subject: rangeAt(d.file, token.Pos{Line: 1, Column: 1})})
		}
	}()
	f()
}

func (d *decoder) errorf(p token.Pos, summary, format string, args ...interface{}) {
	if !p.IsValid() {
		p = token.Pos{Line: 1, Column: 1}
	}
	d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: rangeAt(d.file, p)})
}

// section decodes body by s, reporting unknown and duplicate keys.
func (d *decoder) section(s section, body ast.Node) {
	list, ok := body.(*ast.ObjectList)
	if !ok {
		d.errorf(posOf(body), "Invalid configuration", "%s must be an object", s.what)
		return
	}
	for _, g := range d.groups(list, true) {
		name := strings.ToLower(g.key)
		f, known := s.fields[name]
		if !known {
			for _, o := range g.occs {
				d.unknown(s, name, o)
			}
			continue
		}
		occs := g.occs
		if f.once && len(occs) > 1 {
			for _, o := range occs[1:] {
				d.errorf(o.pos, fmt.Sprintf("Duplicate %s block", name),
					"Only one %s block is allowed in %s; another was defined at line %d.", name, s.what, occs[0].pos.Line)
			}
			occs = occs[:1]
		}
		for _, o := range occs {
			f.decode(d, o)
		}
	}
}

func (d *decoder) unknown(s section, name string, o occurrence) {
	if kind, ok := s.pending[name]; ok {
		summary := "Unsupported argument"
		if kind == "block" {
			summary = "Unsupported block type"
		}
		d.errorf(o.pos, summary, "%s %q is not supported by Drover yet", kind, o.key)
		return
	}
	switch o.val.(type) {
	case *ast.ObjectType, *ast.ObjectList:
		d.errorf(o.pos, "Unsupported block type", "Blocks of type %q are not expected in %s.", o.key, s.what)
	default:
		d.errorf(o.pos, "Unsupported argument", "An argument named %q is not expected in %s.", o.key, s.what)
	}
}

// groups gathers list's items by their first key (case-folded when fold),
// in order of first appearance. Items with more keys than one are
// stripped of the first and gathered into one *ast.ObjectList
// occurrence per key, as HCL1's decoder does.
func (d *decoder) groups(list *ast.ObjectList, fold bool) []*group {
	var out []*group
	index := map[string]*group{}
	prefix := map[string]*ast.ObjectList{}
	for _, item := range list.Items {
		if item == nil || len(item.Keys) == 0 || item.Val == nil {
			continue
		}
		key, err := tokenString(item.Keys[0].Token)
		if err != nil {
			d.errorf(item.Keys[0].Pos(), "Invalid key", "%v", err)
			continue
		}
		id := key
		if fold {
			id = strings.ToLower(key)
		}
		g := index[id]
		if g == nil {
			g = &group{key: key}
			index[id] = g
			out = append(out, g)
		}
		if len(item.Keys) == 1 {
			g.occs = append(g.occs, occurrence{key: key, pos: item.Keys[0].Pos(), val: item.Val})
			continue
		}
		rest := *item
		rest.Keys = item.Keys[1:]
		if pl := prefix[id]; pl != nil {
			pl.Add(&rest)
			continue
		}
		pl := &ast.ObjectList{Items: []*ast.ObjectItem{&rest}}
		prefix[id] = pl
		g.occs = append(g.occs, occurrence{key: key, pos: item.Keys[0].Pos(), val: pl})
	}
	return out
}

// bodies returns the block bodies of o: one for `x { }` and `x = { }`,
// one per element for `x = [{ }, { }]`.
func (d *decoder) bodies(o occurrence) []*ast.ObjectList {
	switch v := o.val.(type) {
	case *ast.ObjectType:
		if v.List == nil {
			return []*ast.ObjectList{{}}
		}
		return []*ast.ObjectList{v.List}
	case *ast.ObjectList:
		return []*ast.ObjectList{v}
	case *ast.ListType:
		var out []*ast.ObjectList
		for _, e := range v.List {
			ot, ok := e.(*ast.ObjectType)
			if !ok {
				d.errorf(posOf(e), fmt.Sprintf("Invalid value for %q", o.key), "a block ({ ... }) or a list of blocks is required.")
				return nil
			}
			if ot.List == nil {
				out = append(out, &ast.ObjectList{})
				continue
			}
			out = append(out, ot.List)
		}
		return out
	}
	d.errorf(posOf(o.val), fmt.Sprintf("Invalid value for %q", o.key), "a block ({ ... }) is required.")
	return nil
}

// block is a field holding a block decoded by the section s returns;
// the function is called per occurrence.
func block(s func() section) field {
	return field{once: true, decode: func(d *decoder, o occurrence) {
		for _, b := range d.bodies(o) {
			d.section(s(), b)
		}
	}}
}

// literal returns o's value as a literal, or reports that want is needed.
func (d *decoder) literal(o occurrence, want string) (*ast.LiteralType, bool) {
	lit, ok := o.val.(*ast.LiteralType)
	if !ok {
		d.errorf(posOf(o.val), fmt.Sprintf("Invalid value for %q", o.key), "%s is required.", want)
	}
	return lit, ok
}

// stringOf converts a literal as HCL1 does for a string field.
func (d *decoder) stringOf(key string, lit *ast.LiteralType) (string, bool) {
	switch lit.Token.Type {
	case token.NUMBER:
		return lit.Token.Text, true
	case token.STRING, token.HEREDOC:
		s, err := tokenString(lit.Token)
		if err != nil {
			d.errorf(lit.Pos(), fmt.Sprintf("Invalid value for %q", key), "%v.", err)
			return "", false
		}
		return s, true
	}
	d.errorf(lit.Pos(), fmt.Sprintf("Invalid value for %q", key), "a string is required.")
	return "", false
}

func setString(dst *string) field {
	return field{decode: func(d *decoder, o occurrence) {
		if lit, ok := d.literal(o, "a string"); ok {
			if s, ok := d.stringOf(o.key, lit); ok {
				*dst = s
			}
		}
	}}
}

// setInt reads a whole number, or a string holding one, as HCL1 does
// (base prefixes such as 0x included).
func setInt(dst *int) field {
	return field{decode: func(d *decoder, o occurrence) {
		lit, ok := d.literal(o, "a number")
		if !ok {
			return
		}
		text := lit.Token.Text
		switch lit.Token.Type {
		case token.NUMBER:
		case token.STRING:
			s, err := tokenString(lit.Token)
			if err != nil {
				d.errorf(lit.Pos(), fmt.Sprintf("Invalid value for %q", o.key), "%v.", err)
				return
			}
			text = s
		default:
			d.errorf(lit.Pos(), fmt.Sprintf("Invalid value for %q", o.key), "a number is required.")
			return
		}
		n, err := strconv.ParseInt(strings.TrimSpace(text), 0, 0)
		if errors.Is(err, strconv.ErrRange) {
			d.errorf(lit.Pos(), fmt.Sprintf("Invalid value for %q", o.key), "%s is out of range.", text)
			return
		}
		if err != nil {
			d.errorf(lit.Pos(), fmt.Sprintf("Invalid value for %q", o.key), "a number is required.")
			return
		}
		*dst = int(n)
	}}
}

func setBool(dst *bool) field {
	return field{decode: func(d *decoder, o occurrence) {
		lit, ok := d.literal(o, "true or false")
		if !ok {
			return
		}
		if lit.Token.Type != token.BOOL {
			d.errorf(lit.Pos(), fmt.Sprintf("Invalid value for %q", o.key), "true or false is required.")
			return
		}
		*dst = lit.Token.Text == "true"
	}}
}

// setOptBool reads a boolean whose absence matters (its default is not
// false).
func setOptBool(dst **bool) field {
	return field{decode: func(d *decoder, o occurrence) {
		var v bool
		before := len(d.diags)
		setBool(&v).decode(d, o)
		if len(d.diags) == before {
			*dst = &v
		}
	}}
}

// setStrings reads a list of strings; a second occurrence appends.
func setStrings(dst *[]string) field {
	return field{decode: func(d *decoder, o occurrence) {
		list, ok := o.val.(*ast.ListType)
		if !ok {
			d.errorf(posOf(o.val), fmt.Sprintf("Invalid value for %q", o.key), "a list of strings is required.")
			return
		}
		for _, e := range list.List {
			lit, ok := e.(*ast.LiteralType)
			if !ok {
				d.errorf(posOf(e), fmt.Sprintf("Invalid value for %q", o.key), "a list of strings is required.")
				continue
			}
			if s, ok := d.stringOf(o.key, lit); ok {
				*dst = append(*dst, s)
			}
		}
	}}
}

// setDuration reads a Go duration string such as "30s".
func setDuration(dst *time.Duration) field {
	return field{decode: func(d *decoder, o occurrence) {
		var s string
		setString(&s).decode(d, o)
		lit, ok := o.val.(*ast.LiteralType)
		if !ok || (lit.Token.Type != token.STRING && lit.Token.Type != token.NUMBER && lit.Token.Type != token.HEREDOC) {
			return // setString reported it
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			d.errorf(lit.Pos(), fmt.Sprintf("Invalid duration for %q", o.key),
				"%q is not a duration; use a number with a unit, such as \"30s\".", s)
			return
		}
		*dst = v
	}}
}

// setStringMap reads a map of strings written as a block (`meta { }`) or
// an object (`meta = { }`), keys quoted or not; occurrences merge by key.
func setStringMap(dst *map[string]string) field {
	return field{decode: func(d *decoder, o occurrence) {
		for _, body := range d.bodies(o) {
			for _, item := range body.Items {
				if item == nil || len(item.Keys) == 0 || item.Val == nil {
					continue
				}
				key, err := tokenString(item.Keys[0].Token)
				if err != nil {
					d.errorf(item.Keys[0].Pos(), "Invalid key", "%v", err)
					continue
				}
				lit, ok := item.Val.(*ast.LiteralType)
				if !ok || len(item.Keys) > 1 {
					d.errorf(item.Keys[0].Pos(), fmt.Sprintf("Invalid value for %q", key), "%s values must be strings.", o.key)
					continue
				}
				if s, ok := d.stringOf(key, lit); ok {
					if *dst == nil {
						*dst = map[string]string{}
					}
					(*dst)[key] = s
				}
			}
		}
	}}
}

// tokenString is the text of a key or string token, unquoted. HCL1's
// Token.Value panics on malformed tokens; that becomes an error here.
func tokenString(t token.Token) (s string, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = "", fmt.Errorf("malformed %s %s", strings.ToLower(t.Type.String()), t.Text)
		}
	}()
	switch t.Type {
	case token.IDENT:
		return t.Text, nil
	case token.STRING, token.HEREDOC:
		v, _ := t.Value().(string)
		return v, nil
	}
	return "", fmt.Errorf("a name or a string is required, not %s", t.Text)
}

// posOf is n's position; HCL1's ObjectList.Pos panics when it is empty.
func posOf(n ast.Node) token.Pos {
	switch v := n.(type) {
	case nil:
		return token.Pos{}
	case *ast.ObjectList:
		if len(v.Items) == 0 {
			return token.Pos{}
		}
		return posOf(v.Items[0])
	case *ast.ObjectItem:
		if len(v.Keys) == 0 {
			return posOf(v.Val)
		}
	}
	return n.Pos()
}
