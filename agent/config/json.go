// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/token"
)

// Nomad reads JSON agent files with HCL1's JSON parser, but that parser
// (v1.0.0) drops every position when it builds the syntax tree, so an
// unknown key could not be reported at its line. This file builds the
// same tree HCL1 builds from JSON, with positions, from encoding/json's
// token stream: objects become ObjectTypes, arrays ListTypes, strings and
// null STRING literals, numbers NUMBER or FLOAT literals, and a member
// whose value is a non-empty array of objects becomes one item per object,
// as HCL1's JSON flattening does. (HCL1 also folds objects holding only
// objects into multi-key items; the decoder treats `a b {}` and
// `a { b {} }` alike, so that step is not needed.)

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const maxJSONDepth = 512

// isJSON reports whether HCL1 would read src as JSON: its first
// non-space character is "{".
func isJSON(src []byte) bool {
	t := bytes.TrimLeftFunc(src, unicode.IsSpace)
	return len(t) > 0 && t[0] == '{'
}

// jsonReader turns JSON into an HCL1 syntax tree with positions.
type jsonReader struct {
	src   []byte
	dec   *json.Decoder
	lines []int // byte offset of each line's start
}

// posError is a JSON syntax error at a place, shaped like HCL1's.
type posError struct {
	pos token.Pos
	msg string
}

func (e *posError) Error() string { return fmt.Sprintf("%d:%d: %s", e.pos.Line, e.pos.Column, e.msg) }

func parseJSON(src []byte) (*ast.File, error) {
	r := &jsonReader{src: src, dec: json.NewDecoder(bytes.NewReader(src)), lines: []int{0}}
	r.dec.UseNumber()
	for i, b := range src {
		if b == '\n' {
			r.lines = append(r.lines, i+1)
		}
	}
	root, err := r.value(0)
	if err != nil {
		return nil, err
	}
	obj, ok := root.(*ast.ObjectType)
	if !ok {
		return nil, &posError{pos: root.Pos(), msg: "the configuration must be a JSON object"}
	}
	if tok, err := r.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, r.wrap(err)
		}
		return nil, &posError{pos: r.pos(r.dec.InputOffset() - 1), msg: fmt.Sprintf("unexpected %v after the configuration object", tok)}
	}
	return &ast.File{Node: obj.List}, nil
}

// next returns the next token and the position where it starts.
func (r *jsonReader) next() (json.Token, token.Pos, error) {
	off := int(r.dec.InputOffset())
	for off < len(r.src) && (r.src[off] == ',' || r.src[off] == ':' || unicode.IsSpace(rune(r.src[off]))) {
		off++
	}
	tok, err := r.dec.Token()
	if err != nil {
		return nil, token.Pos{}, r.wrap(err)
	}
	return tok, r.pos(int64(off)), nil
}

func (r *jsonReader) value(depth int) (ast.Node, error) {
	tok, pos, err := r.next()
	if err != nil {
		return nil, err
	}
	return r.valueFrom(tok, pos, depth)
}

func (r *jsonReader) valueFrom(tok json.Token, pos token.Pos, depth int) (ast.Node, error) {
	if depth > maxJSONDepth {
		return nil, &posError{pos: pos, msg: "nested too deeply"}
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return r.object(pos, depth)
		}
		if t == '[' {
			return r.array(pos, depth)
		}
		return nil, &posError{pos: pos, msg: fmt.Sprintf("unexpected %q", rune(t))}
	case string:
		return &ast.LiteralType{Token: token.Token{Type: token.STRING, Pos: pos, Text: strconv.Quote(t), JSON: true}}, nil
	case nil:
		return &ast.LiteralType{Token: token.Token{Type: token.STRING, Pos: pos, JSON: true}}, nil
	case bool:
		return &ast.LiteralType{Token: token.Token{Type: token.BOOL, Pos: pos, Text: strconv.FormatBool(t), JSON: true}}, nil
	case json.Number:
		typ := token.NUMBER
		if strings.ContainsAny(string(t), ".eE") {
			typ = token.FLOAT
		}
		return &ast.LiteralType{Token: token.Token{Type: typ, Pos: pos, Text: string(t), JSON: true}}, nil
	}
	return nil, &posError{pos: pos, msg: fmt.Sprintf("unexpected %v", tok)}
}

func (r *jsonReader) object(lbrace token.Pos, depth int) (*ast.ObjectType, error) {
	obj := &ast.ObjectType{Lbrace: lbrace, List: &ast.ObjectList{}}
	for {
		tok, pos, err := r.next()
		if err != nil {
			return nil, err
		}
		if tok == json.Delim('}') {
			obj.Rbrace = pos
			return obj, nil
		}
		name, ok := tok.(string)
		if !ok {
			return nil, &posError{pos: pos, msg: "an object key must be a string"}
		}
		key := &ast.ObjectKey{Token: token.Token{Type: token.STRING, Pos: pos, Text: strconv.Quote(name), JSON: true}}
		val, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if list, ok := val.(*ast.ListType); ok && allObjects(list) {
			for _, e := range list.List {
				obj.List.Add(&ast.ObjectItem{Keys: []*ast.ObjectKey{key}, Assign: pos, Val: e})
			}
			continue
		}
		obj.List.Add(&ast.ObjectItem{Keys: []*ast.ObjectKey{key}, Assign: pos, Val: val})
	}
}

func (r *jsonReader) array(lbrack token.Pos, depth int) (*ast.ListType, error) {
	list := &ast.ListType{Lbrack: lbrack}
	for {
		tok, pos, err := r.next()
		if err != nil {
			return nil, err
		}
		if tok == json.Delim(']') {
			list.Rbrack = pos
			return list, nil
		}
		val, err := r.valueFrom(tok, pos, depth+1)
		if err != nil {
			return nil, err
		}
		list.Add(val)
	}
}

// allObjects reports whether l is non-empty and holds only objects.
func allObjects(l *ast.ListType) bool {
	for _, e := range l.List {
		if _, ok := e.(*ast.ObjectType); !ok {
			return false
		}
	}
	return len(l.List) > 0
}

// pos converts a byte offset to a line and a column counted in
// characters, as HCL1 counts them.
func (r *jsonReader) pos(off int64) token.Pos {
	o := int(min(max(off, 0), int64(len(r.src))))
	line := 0
	for line+1 < len(r.lines) && r.lines[line+1] <= o {
		line++
	}
	return token.Pos{Offset: o, Line: line + 1, Column: utf8.RuneCount(r.src[r.lines[line]:o]) + 1}
}

// wrap gives a decoder error its position.
func (r *jsonReader) wrap(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// The offending character is the first one at or after the last
		// byte read that is not white space.
		off := max(se.Offset-1, 0)
		for off < int64(len(r.src)) && unicode.IsSpace(rune(r.src[off])) {
			off++
		}
		return &posError{pos: r.pos(off), msg: se.Error()}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &posError{pos: r.pos(int64(len(r.src))), msg: "unexpected end of JSON input"}
	}
	return &posError{pos: r.pos(r.dec.InputOffset()), msg: err.Error()}
}
