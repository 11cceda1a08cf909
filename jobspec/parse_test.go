// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	nomadapi "github.com/hashicorp/nomad/api"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestParseGolden parses each job file in testdata and compares the job,
// as JSON, with its golden file. Run with -update to rewrite the goldens
// after reviewing the change.
func TestParseGolden(t *testing.T) {
	cases := []struct {
		file string
		opts *ParseOptions
	}{
		{file: "hello.nomad.hcl"},
		{file: "batch.nomad.hcl"},
		{file: "full.nomad.hcl"},
		{file: "constraints.nomad.hcl"},
		{file: "runtime.nomad.hcl"},
		{file: "hello.json"},
		{file: "web.nomad.hcl"},
		{file: "periodic.nomad.hcl"},
		{file: "dispatch.nomad.hcl"},
		{file: "system.nomad.hcl"},
		{file: "storage.nomad.hcl"},
		{file: "secure.nomad.hcl"},
		{file: "dynamic.nomad.hcl"},
		{file: "variables.nomad.hcl", opts: &ParseOptions{
			Vars:     map[string]string{"image_tag": "v1.2.3", "labels": `{ team = "api", tier = "1" }`},
			VarFiles: []string{"testdata/vars.hcl"},
			Env:      []string{"NOMAD_VAR_replicas=9", "NOMAD_VAR_region=eu", "NOMAD_VAR_unrelated=x", "PATH=/bin"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			job, err := ParseFile(filepath.Join("testdata", tc.file), tc.opts)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got, err := json.MarshalIndent(map[string]any{"Job": job}, "", "    ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", tc.file+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("job differs from %s:\n%s", golden, got)
			}
		})
	}
}

// TestGoldenRoundTrip checks that every golden file is exactly what
// Nomad's own api.Job type reads and writes back: no field of the parser's
// output is lost or renamed on the way to a Nomad tool.
func TestGoldenRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/*.golden.json")
	if err != nil || len(files) < 10 {
		t.Fatalf("golden files: %v %v", files, err)
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			want, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var wrapper struct{ Job *nomadapi.Job }
			dec := json.NewDecoder(bytes.NewReader(want))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&wrapper); err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(map[string]any{"Job": wrapper.Job}, "", "    ")
			if err != nil {
				t.Fatal(err)
			}
			if got = append(got, '\n'); !bytes.Equal(got, want) {
				t.Errorf("round trip through nomad/api.Job changed %s:\n%s", name, got)
			}
		})
	}
}

// TestExamples checks that the example job files shipped at the repository
// root parse, and are what their comments promise.
func TestExamples(t *testing.T) {
	hello, err := ParseFile("../examples/hello.nomad.hcl", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *hello.ID != "hello" || *hello.Type != "service" || len(hello.TaskGroups) != 1 ||
		*hello.TaskGroups[0].Name != "web" || *hello.TaskGroups[0].Count != 3 {
		t.Fatalf("hello: unexpected job %+v", hello)
	}
	task := hello.TaskGroups[0].Tasks[0]
	args := task.Config["args"].([]interface{})
	if task.Driver != "raw_exec" || !strings.Contains(args[1].(string), `"hello from $NOMAD_ALLOC_ID"`) ||
		*task.Resources.CPU != 50 || *task.Resources.MemoryMB != 32 {
		t.Fatalf("hello task: %+v %v", task, args)
	}

	batch, err := ParseFile("../examples/batch.nomad.hcl", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *batch.Type != "batch" {
		t.Fatalf("batch type = %q", *batch.Type)
	}
}

// TestRuntimeReferences checks that client-side interpolations survive
// parsing verbatim while HCL references are resolved.
func TestRuntimeReferences(t *testing.T) {
	job, err := ParseFile("testdata/runtime.nomad.hcl", nil)
	if err != nil {
		t.Fatal(err)
	}
	task := job.TaskGroups[0].Tasks[0]
	args := task.Config["args"].([]interface{})
	want := []string{
		"-alloc=${NOMAD_ALLOC_ID}",
		"-kernel=${attr.kernel.name}",
		"-rack=${meta.rack}",
		"-dc=${node.datacenter}",
		`-home=${env["HOME"]}`,
		"-port=8080",
		"-config=${NOMAD_TASK_DIR}/conf",
		"-mixed=${node.unique.name}:${NOMAD_PORT_http}:X",
	}
	for i, w := range want {
		if args[i] != w {
			t.Errorf("args[%d] = %q, want %q", i, args[i], w)
		}
	}
	checks := map[string]string{
		"command": task.Config["command"].(string),
		"bare":    task.Config["bare"].(string),
		"escape":  task.Config["escape"].(string),
		"env":     task.Env["HOST_KERNEL"],
		"rack":    task.Env["RACK"],
		"meta":    job.Meta["kernel"],
	}
	wantChecks := map[string]string{
		"command": "${NOMAD_TASK_DIR}/bin/server",
		"bare":    "${attr.unique.hostname}",
		"escape":  "${not_interpolated}",
		"env":     "${attr.kernel.name}-${attr.kernel.version}",
		"rack":    "${meta.rack}",
		"meta":    "${attr.kernel.name}",
	}
	for k, w := range wantChecks {
		if checks[k] != w {
			t.Errorf("%s = %q, want %q", k, checks[k], w)
		}
	}
}

// TestNoDefaults checks that the parser leaves unset fields nil for the
// server to canonicalise, apart from the ID and name from the label.
func TestNoDefaults(t *testing.T) {
	src := `job "bare" {
  group "g" {
    task "t" {
      driver = "raw_exec"
    }
  }
}`
	job, err := Parse("bare.nomad.hcl", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if *job.ID != "bare" || *job.Name != "bare" {
		t.Fatalf("ID/Name = %q/%q", *job.ID, *job.Name)
	}
	g := job.TaskGroups[0]
	if job.Type != nil || job.Priority != nil || job.Region != nil || job.Datacenters != nil ||
		g.Count != nil || g.RestartPolicy != nil || g.EphemeralDisk != nil ||
		g.Tasks[0].Resources != nil || g.Tasks[0].KillTimeout != nil || g.Tasks[0].LogConfig != nil {
		t.Fatalf("parser set defaults: job %+v group %+v task %+v", job, g, g.Tasks[0])
	}
}

func TestVariablePrecedence(t *testing.T) {
	src := `variable "x" {
  default = "default"
}
job "j" {
  meta { x = var.x }
}`
	dir := t.TempDir()
	varFile := filepath.Join(dir, "v.hcl")
	if err := os.WriteFile(varFile, []byte(`x = "file"`), 0o644); err != nil {
		t.Fatal(err)
	}
	jsonVarFile := filepath.Join(dir, "v.json")
	if err := os.WriteFile(jsonVarFile, []byte(`{"x": "json file"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts *ParseOptions
		want string
	}{
		{"default", nil, "default"},
		{"env", &ParseOptions{Env: []string{"NOMAD_VAR_x=env"}}, "env"},
		{"file beats env", &ParseOptions{Env: []string{"NOMAD_VAR_x=env"}, VarFiles: []string{varFile}}, "file"},
		{"json var file", &ParseOptions{VarFiles: []string{jsonVarFile}}, "json file"},
		{"later file wins", &ParseOptions{VarFiles: []string{jsonVarFile, varFile}}, "file"},
		{"flag beats all", &ParseOptions{Env: []string{"NOMAD_VAR_x=env"}, VarFiles: []string{varFile}, Vars: map[string]string{"x": "flag"}}, "flag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			job, err := Parse("j.nomad.hcl", []byte(src), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := job.Meta["x"]; got != tc.want {
				t.Fatalf("x = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFileFunction(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(path, []byte("echo hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `job "j" {
  meta {
    script = file("` + path + `")
  }
}`
	job, err := Parse("j.nomad.hcl", []byte(src), &ParseOptions{AllowFS: true})
	if err != nil {
		t.Fatal(err)
	}
	if job.Meta["script"] != "echo hi\n" {
		t.Fatalf("script = %q", job.Meta["script"])
	}
	_, err = Parse("j.nomad.hcl", []byte(src), &ParseOptions{AllowFS: false})
	if err == nil || !strings.Contains(err.Error(), "reading files is not allowed") {
		t.Fatalf("without AllowFS: err = %v", err)
	}
}

func TestErrorType(t *testing.T) {
	_, err := Parse("bad.nomad.hcl", []byte("job \"x\" {\n  bogus = 1\n  other = 2\n}\n"), nil)
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %T is not *Error", err)
	}
	if len(perr.Diags) != 2 {
		t.Fatalf("want 2 diagnostics reported together, got %d: %v", len(perr.Diags), err)
	}
	var diags hcl.Diagnostics
	if !errors.As(err, &diags) {
		t.Fatal("*Error does not unwrap to hcl.Diagnostics")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "bad.nomad.hcl:2:3: ") || !strings.HasPrefix(lines[1], "bad.nomad.hcl:3:3: ") {
		t.Fatalf("want one diagnostic per line in order, got:\n%s", err)
	}
}

// TestForExpressions checks that iteration names of for expressions are
// HCL's, not runtime references, while runtime ones inside still survive.
func TestForExpressions(t *testing.T) {
	src := `variable "dcs" {
  default = ["a", "b"]
}
job "x" {
  datacenters = [for s in var.dcs : upper(s)]
  meta = {
    m = join(",", [for k, v in { a = 1 } : "${k}=${v}-${attr.x}"])
    c = length(var.dcs) > 1 ? "many" : "one"
  }
}`
	job, err := Parse("for.nomad.hcl", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(job.Datacenters, ",") != "A,B" || job.Meta["m"] != "a=1-${attr.x}" || job.Meta["c"] != "many" {
		t.Fatalf("datacenters %v meta %v", job.Datacenters, job.Meta)
	}
}
