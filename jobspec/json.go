// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

// parseJSON reads a job in the API's JSON form, either wrapped as
// {"Job": {...}} (what nomad job run -output and GET /v1/job/:id/submission
// give) or bare. Unknown fields are errors, so that a typo is not silently
// dropped.
func parseJSON(filename string, src []byte) (*api.Job, error) {
	body := src
	var wrapper map[string]json.RawMessage
	if err := json.Unmarshal(src, &wrapper); err != nil {
		return nil, jsonError(filename, src, err)
	}
	if raw, ok := wrapper["Job"]; ok && len(wrapper) == 1 {
		body = raw
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	job := &api.Job{}
	if err := dec.Decode(job); err != nil {
		// Offsets in errors are relative to body; find body in src to
		// report positions in the file.
		base := int64(bytes.Index(src, body))
		return nil, jsonErrorAt(filename, src, base, dec.InputOffset(), err)
	}
	if dec.More() {
		return nil, jsonErrorAt(filename, src, 0, dec.InputOffset(), errors.New("unexpected content after the job object"))
	}
	if job.ID == nil && job.Name != nil {
		job.ID = job.Name
	}
	return job, nil
}

func jsonError(filename string, src []byte, err error) error {
	return jsonErrorAt(filename, src, 0, 0, err)
}

// jsonErrorAt reports err at its byte offset (syntax and type errors carry
// one; others use fallback), as an *Error like HCL problems.
func jsonErrorAt(filename string, src []byte, base, fallback int64, err error) error {
	off := fallback
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset - 1 // Offset counts the offending byte
	case errors.As(err, &typ):
		off = typ.Offset
	}
	off += base
	if off < 0 {
		off = 0
	}
	if off > int64(len(src)) {
		off = int64(len(src))
	}
	pos := hcl.Pos{Line: 1, Column: 1, Byte: int(off)}
	for _, c := range src[:off] {
		if c == '\n' {
			pos.Line++
			pos.Column = 1
		} else {
			pos.Column++
		}
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	return &Error{Diags: hcl.Diagnostics{errorAt(hcl.Range{Filename: filename, Start: pos, End: pos},
		"Invalid JSON job", fmt.Sprintf("%s.", msg))}}
}
