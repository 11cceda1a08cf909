// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"strings"
	"testing"
)

// TestForExpressionLimits checks that nested for expressions cannot make
// the parser loop or build values without end, that the error names the
// for expression that went over (once), and that ordinary for expressions,
// over locals declared later or over -var values, still work.
func TestForExpressionLimits(t *testing.T) {
	cases := []struct {
		name   string
		before string // blocks before the job
		meta   string // the job's meta arguments
		vars   map[string]string
		err    string
		want   map[string]string
	}{
		{
			name:   "a billion iterations",
			before: `locals { x = [for i in range(1000) : [for j in range(1000) : [for k in range(1000) : k]]] }`,
			meta:   `n = length(local.x)`,
			err:    "Too many for expression iterations",
		},
		{
			name: "a template loop of a million",
			meta: `s = "%{for i in range(1000)}%{for j in range(1000)}x%{endfor}%{endfor}"`,
			err:  "fuzz.hcl:4:44: Too many for expression iterations",
		},
		{
			name: "two gigabytes of strings",
			meta: `n = length([for i in range(1000) : [for j in range(200) : format("%9999s", "")]])`,
			err:  "For expressions produce too much",
		},
		{
			name: "ten thousand iterations are fine",
			meta: `n = length(flatten([for i in range(100) : [for j in range(100) : i * j]]))`,
			want: map[string]string{"n": "10000"},
		},
		{
			name:   "a local declared after the one iterating over it",
			before: "locals { b = [for x in local.a : x * 2] }\nlocals { a = [1, 2, 3] }",
			meta:   `b = join(",", local.b)`,
			want:   map[string]string{"b": "2,4,6"},
		},
		{
			name:   "a -var value with a for expression",
			before: `variable "xs" { type = list(number) }`,
			meta:   `xs = join(",", var.xs)`,
			vars:   map[string]string{"xs": "[for i in [1, 2, 3] : i * 10]"},
			want:   map[string]string{"xs": "10,20,30"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.before + "\njob \"x\" {\n  meta {\n    " + tc.meta + "\n  }\n}\n"
			job, err := Parse("fuzz.hcl", []byte(src), &ParseOptions{Vars: tc.vars})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Count(err.Error(), tc.err) > 1 {
					t.Fatalf("err = %v, want %q once", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.want {
				if got := job.Meta[k]; got != want {
					t.Errorf("meta %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}
