// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"errors"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	cases := []struct {
		name, src, want, err string
	}{
		{
			name: "aligns and indents",
			src:  "job \"x\" {\ndatacenters=[\"dc1\"]\n  type = \"batch\"\n    group \"g\" {\n  count=2\n  }\n}\n",
			want: "job \"x\" {\n  datacenters = [\"dc1\"]\n  type        = \"batch\"\n  group \"g\" {\n    count = 2\n  }\n}\n",
		},
		{
			name: "dynamic blocks and templates keep their text",
			src:  "job \"x\" {\n  dynamic \"group\" {\n  for_each = [\"a\"]\n  labels=[group.value]\n  content {\n  meta = { a = \"${attr.x}\" }\n  }\n  }\n}\n",
			want: "job \"x\" {\n  dynamic \"group\" {\n    for_each = [\"a\"]\n    labels   = [group.value]\n    content {\n      meta = { a = \"${attr.x}\" }\n    }\n  }\n}\n",
		},
		{name: "syntax error", src: "job \"x\" {\n  a = \n}\n", err: "f.hcl:2:7: Invalid expression"},
		{name: "JSON", src: "  {\"Job\": {}}", err: "f.hcl:1:1: Not an HCL job file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FormatFile("f.hcl", []byte(tc.src))
			if tc.err != "" {
				var perr *Error
				if !errors.As(err, &perr) || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("err = %v, want prefix %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tc.want)
			}
			again, err := Format(got)
			if err != nil || string(again) != string(got) {
				t.Fatalf("formatting is not idempotent: %v\n%s", err, again)
			}
		})
	}
}
