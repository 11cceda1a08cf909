// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src, an HCL job file, in HCL's canonical layout (the
// one `nomad fmt` writes: aligned equals signs, two-space indents), for a
// `drover fmt` command. Errors name the file "<input>"; see FormatFile.
func Format(src []byte) ([]byte, error) {
	return FormatFile("<input>", src)
}

// FormatFile is Format with the name errors give the file. It checks the
// syntax first, because hclwrite formats token by token and would
// rearrange a broken file rather than report it. Only the syntax is
// checked: a file that formats may still fail to parse as a job.
func FormatFile(filename string, src []byte) ([]byte, error) {
	if len(src) > maxSourceBytes {
		return nil, &Error{Diags: hcl.Diagnostics{errorAt(hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
			"Job file too large", fmt.Sprintf("A job file may be at most %d bytes; this one is %d.", maxSourceBytes, len(src)))}}
	}
	if trimmed := bytes.TrimSpace(src); len(trimmed) > 0 && trimmed[0] == '{' {
		return nil, &Error{Diags: hcl.Diagnostics{errorAt(hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
			"Not an HCL job file", "This looks like a JSON job; only HCL job files are formatted.")}}
	}
	if _, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, &Error{Diags: diags}
	}
	return hclwrite.Format(src), nil
}
