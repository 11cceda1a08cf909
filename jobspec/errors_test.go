// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseErrors checks that broken job files fail with messages that
// name the place (file:line:col) and say what was expected.
func TestParseErrors(t *testing.T) {
	varFile := filepath.Join(t.TempDir(), "bad.vars.hcl")
	if err := os.WriteFile(varFile, []byte("replicas = 2\nnope = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		src  string
		opts *ParseOptions
		want []string // each must appear, in order, one per line
	}{
		{
			name: "unknown argument",
			src:  "job \"x\" {\n  foo = 1\n}\n",
			want: []string{`e.hcl:2:3: Unsupported argument; An argument named "foo" is not expected here.`},
		},
		{
			name: "unknown block",
			src:  "job \"x\" {\n  group \"g\" {\n    bogus {}\n  }\n}\n",
			want: []string{`e.hcl:3:5: Unsupported block type; Blocks of type "bogus" are not expected here.`},
		},
		{
			name: "unknown arguments in new blocks, reported together",
			src:  "job \"x\" {\n  update {\n    max_paralel = 1\n  }\n  group \"g\" {\n    network {\n      mod = \"bridge\"\n    }\n    task \"t\" {\n      template {\n        dest = \"x\"\n      }\n    }\n  }\n}\n",
			want: []string{
				`e.hcl:3:5: Unsupported argument; An argument named "max_paralel" is not expected here. Did you mean "max_parallel"?`,
				`e.hcl:7:7: Unsupported argument; An argument named "mod" is not expected here. Did you mean "mode"?`,
				`e.hcl:11:9: Unsupported argument; An argument named "dest" is not expected here.`,
			},
		},
		{
			name: "task directly in job",
			src:  "job \"x\" {\n  task \"t\" {\n    driver = \"raw_exec\"\n  }\n}\n",
			want: []string{`e.hcl:2:3: Task outside a group; A task block must be inside a group block`},
		},
		{
			name: "bad duration",
			src:  "job \"x\" {\n  group \"g\" {\n    task \"t\" {\n      kill_timeout = \"5 seconds\"\n    }\n  }\n}\n",
			want: []string{`e.hcl:4:22: Invalid duration for "kill_timeout"; "5 seconds" is not a duration`},
		},
		{
			name: "bad restart interval and mode",
			src:  "job \"x\" {\n  group \"g\" {\n    restart {\n      interval = \"often\"\n      mode = \"sometimes\"\n    }\n  }\n}\n",
			want: []string{
				`e.hcl:4:18: Invalid duration for "interval"`,
				`e.hcl:5:14: Invalid value for "mode"; "sometimes" is not one of "delay", "fail".`,
			},
		},
		{
			name: "count of wrong type",
			src:  "job \"x\" {\n  group \"g\" {\n    count = \"three\"\n  }\n}\n",
			want: []string{`e.hcl:3:13: Invalid value for "count"; a number is required.`},
		},
		{
			name: "fractional count",
			src:  "job \"x\" {\n  group \"g\" {\n    count = 1.5\n  }\n}\n",
			want: []string{`e.hcl:3:13: Invalid value for "count"; a whole number is required (and it must fit in an int).`},
		},
		{
			name: "missing required variable",
			src:  "variable \"tag\" {\n  type = string\n}\njob \"x\" {}\n",
			want: []string{`e.hcl:1:1: Required variable not set; Variable "tag" has no default; set it with -var tag=...`},
		},
		{
			name: "unknown -var",
			src:  "job \"x\" {}\n",
			opts: &ParseOptions{Vars: map[string]string{"nope": "1"}},
			want: []string{`Undefined -var variable; A value was given for variable "nope", but the job file declares no variable of that name.`},
		},
		{
			name: "unknown variable in var file",
			src:  "variable \"replicas\" {}\njob \"x\" {}\n",
			opts: &ParseOptions{VarFiles: []string{varFile}},
			want: []string{varFile + `:2:1: Undefined variable; A value was given for variable "nope"`},
		},
		{
			name: "-var of wrong type",
			src:  "variable \"n\" {\n  type = number\n}\njob \"x\" {}\n",
			opts: &ParseOptions{Vars: map[string]string{"n": "many"}},
			want: []string{`Invalid value for variable; The value from -var n is not valid for variable "n"`},
		},
		{
			name: "reference to undeclared variable",
			src:  "job \"x\" {\n  region = var.nope\n}\n",
			want: []string{`e.hcl:2:15: Unsupported attribute; This object does not have an attribute named "nope".`},
		},
		{
			name: "syntax error",
			src:  "job \"x\" {\n  region = \n}\n",
			want: []string{`e.hcl:2:12: Invalid expression`},
		},
		{
			name: "no job",
			src:  "variable \"x\" {\n  default = 1\n}\n",
			want: []string{`Missing job block; A job file must contain one job block`},
		},
		{
			name: "two jobs",
			src:  "job \"a\" {}\njob \"b\" {}\n",
			want: []string{`e.hcl:2:1: Duplicate job block; A job file must contain only one job block; the first was defined at line 1.`},
		},
		{
			name: "duplicate group",
			src:  "job \"a\" {\n  group \"g\" {}\n  group \"g\" {}\n}\n",
			want: []string{`e.hcl:3:9: Duplicate group; This job already has a group named "g"`},
		},
		{
			name: "duplicate task",
			src:  "job \"a\" {\n  group \"g\" {\n    task \"t\" {}\n    task \"t\" {}\n  }\n}\n",
			want: []string{`e.hcl:4:10: Duplicate task; This group already has a task named "t"`},
		},
		{
			name: "duplicate restart",
			src:  "job \"a\" {\n  group \"g\" {\n    restart {}\n    restart {}\n  }\n}\n",
			want: []string{`e.hcl:4:5: Duplicate restart block; Only one restart block is allowed in a group; another was defined at line 3.`},
		},
		{
			name: "bad constraint operator",
			src:  "job \"a\" {\n  constraint {\n    attribute = \"${attr.kernel.name}\"\n    operator = \"~\"\n    value = \"linux\"\n  }\n}\n",
			want: []string{`e.hcl:4:16: Invalid constraint operator; "~" is not an operator`},
		},
		{
			name: "conflicting constraint shorthands",
			src:  "job \"a\" {\n  constraint {\n    attribute = \"${attr.x}\"\n    version = \"1\"\n    regexp = \"a\"\n  }\n}\n",
			want: []string{`e.hcl:5:5: Conflicting constraint arguments; version and regexp both set the operator`},
		},
		{
			name: "cycle in locals",
			src:  "locals {\n  a = local.b\n  b = local.a\n}\njob \"x\" {}\n",
			want: []string{
				`e.hcl:2:3: Cycle in local values; Local value "a" depends, directly or not, on itself.`,
				`e.hcl:3:3: Cycle in local values; Local value "b"`,
			},
		},
		{
			name: "failed validation",
			src:  "variable \"n\" {\n  default = 20\n  validation {\n    condition = var.n < 10\n    error_message = \"n must be small.\"\n  }\n}\njob \"x\" {}\n",
			want: []string{`e.hcl:4:17: Invalid value for variable; n must be small.`},
		},
		{
			name: "labelled block in driver config",
			src:  "job \"a\" {\n  group \"g\" {\n    task \"t\" {\n      config {\n        mount \"m\" {}\n      }\n    }\n  }\n}\n",
			want: []string{`e.hcl:5:15: Unexpected block label; Blocks inside a driver config take no labels`},
		},
		{
			name: "unknown function",
			src:  "job \"a\" {\n  region = nosuch(\"x\")\n}\n",
			want: []string{`e.hcl:2:12: Call to unknown function; There is no function named "nosuch".`},
		},
		{
			name: "meta key set twice",
			src:  "job \"a\" {\n  meta { a = \"1\" }\n  meta = { a = \"2\" }\n}\n",
			want: []string{`Duplicate meta key; Key "a" is set both in a meta block and a meta argument.`},
		},
		{
			name: "json syntax error",
			src:  "{\n  \"Job\": {\n    \"ID\": \"x\",\n  }\n}\n",
			want: []string{`e.hcl:4:3: Invalid JSON job; invalid character '}' looking for beginning of object key string.`},
		},
		{
			name: "json unknown field",
			src:  "{\"Job\": {\"ID\": \"x\", \"Bogus\": 1}}\n",
			want: []string{`e.hcl:1:`, `Invalid JSON job; unknown field "Bogus".`},
		},
		{
			name: "json wrong type",
			src:  "{\"ID\": \"x\",\n \"Priority\": \"high\"}\n",
			want: []string{`e.hcl:2:`, `Invalid JSON job; cannot unmarshal string into Go struct field Job.Priority of type int.`},
		},
	}
	cases = append(cases, blockErrorCases...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			job, err := Parse("e.hcl", []byte(tc.src), tc.opts)
			if err == nil {
				t.Fatalf("parse succeeded with %+v; want error", job)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error does not contain %q (in order):\n%s", w, msg)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// FuzzParse feeds arbitrary bytes to Parse: it may fail, never panic.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.nomad.hcl")
	broken, _ := filepath.Glob("testdata/broken/*.nomad.hcl")
	for _, name := range append(append(files, broken...), "testdata/hello.json") {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(`job "x" { group "g" { task "t" { config { a { b { c = [1, {d = 2}] } } } } } }`))
	f.Add([]byte(`locals { a = "${attr.x}" } job "x" { meta = { k = local.a, e = env["X"][0] } }`))
	f.Add([]byte(`{"Job": null}`))
	f.Add([]byte(`job "x" { meta { a = format("%99999999s", "") } }`))
	f.Add([]byte(`locals { a = replace("aaaa", "a", "aaaa") } job "x" { meta { b = local.a } }`))
	f.Add([]byte("job \"x\" {\n dynamic \"group\" {\n for_each = range(3)\n labels = [\"g${group.key}\"]\n content {\n task \"t\" {\n config {\n dynamic \"m\" {\n for_each = {a = 1}\n content { v = m.value }\n }\n }\n }\n }\n }\n}\n"))
	f.Add([]byte("job \"x\" {\n meta {\n y = jsonencode(yamldecode(\"a: &a [1]\\nb: [*a, *a]\"))\n }\n}\n"))
	f.Add([]byte("job \"x\" {\n meta {\n n = length([for i in range(9) : [for j in range(9) : \"%{for k in range(9)}${k}%{endfor}\"]])\n }\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		job, err := Parse("fuzz.hcl", src, &ParseOptions{Vars: map[string]string{}})
		if err == nil && job == nil {
			t.Fatal("nil job without error")
		}
	})
}

// FuzzJSON feeds arbitrary bytes to the JSON job path (what Parse
// takes for input starting with "{"): it may fail, never panic, and a
// job it accepts must have an ID. It is not called FuzzParseJSON so
// that -fuzz=FuzzParse, a regexp, selects exactly one target.
func FuzzJSON(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.golden.json")
	for _, name := range append(files, "testdata/hello.json") {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(`{"Job": {"ID": "x", "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t", "Config": {"a": [1, {"b": null}]}}]}]}}`))
	f.Add([]byte(`{"Name": "bare"}`))
	f.Add([]byte(`{"Job": {"Priority": 1e400}}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		job, err := parseJSON("fuzz.json", src)
		if err == nil && job == nil {
			t.Fatal("nil job without error")
		}
		var perr *Error
		if err != nil && !errors.As(err, &perr) {
			t.Fatalf("error %T is not *Error: %v", err, err)
		}
	})
}
