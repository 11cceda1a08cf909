// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package jobspec turns a Nomad job file (HCL2, or JSON in the API's form)
// into an *api.Job, ready for PUT /v1/jobs.
//
// It follows Nomad's job specification: input variables with their
// sources (-var, var files, NOMAD_VAR_*), locals, HCL functions, dynamic
// blocks (dynamic.go), and runtime interpolations such as
// ${attr.kernel.name} kept verbatim for the client. Format lays a job
// file out the canonical way, for a fmt command. It sets no defaults the file does not set, apart from the job's
// ID and name from its label: the server canonicalises.
//
// The package imports only api, hcl and go-cty so that outside tools can
// use it. Each block family has its own file and decoder (job.go,
// group.go, task.go, ...); see decode.go for how a block is added.
package jobspec

import (
	"bytes"
	"fmt"
	"os"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// ParseOptions are the inputs of a job file besides its text.
type ParseOptions struct {
	// Vars are -var name=value assignments. Naming a variable the file
	// does not declare is an error.
	Vars map[string]string
	// VarFiles are HCL (or .json) files of name = value assignments,
	// applied in order.
	VarFiles []string
	// Env is the environment, as os.Environ returns it; NOMAD_VAR_<name>
	// entries set variables.
	Env []string
	// AllowFS lets the file functions (file, fileexists) read the local
	// filesystem. The CLI sets it; a server parsing a submitted job must
	// not.
	AllowFS bool
}

// ParseFile reads and parses the job file at path.
func ParseFile(path string, opts *ParseOptions) (*api.Job, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read job file: %w", err)
	}
	return Parse(path, src, opts)
}

// Parse parses src, named filename in messages. Content that starts with
// "{" is a JSON job in the API's form; anything else is HCL. Errors are of
// type *Error and list every problem found with its file:line:col.
func Parse(filename string, src []byte, opts *ParseOptions) (*api.Job, error) {
	if opts == nil {
		opts = &ParseOptions{}
	}
	if len(src) > maxSourceBytes {
		return nil, &Error{Diags: hcl.Diagnostics{errorAt(hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
			"Job file too large", fmt.Sprintf("A job file may be at most %d bytes; this one is %d.", maxSourceBytes, len(src)))}}
	}
	if trimmed := bytes.TrimSpace(src); len(trimmed) > 0 && trimmed[0] == '{' {
		return parseJSON(filename, src)
	}
	job, diags := parseHCL(filename, src, opts)
	if err := diagsError(diags); err != nil {
		return nil, err
	}
	return job, nil
}

var topSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "job", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "variables"},
		{Type: "locals"},
	},
}

func parseHCL(filename string, src []byte, opts *ParseOptions) (*api.Job, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	if body, ok := file.Body.(*hclsyntax.Body); ok {
		limitForExprs(body, &forBudget{})
	}
	content, cdiags := file.Body.Content(topSchema)
	diags = append(diags, cdiags...)
	if content == nil {
		return nil, diags
	}

	// Defaults, var files and validation conditions may call functions but
	// not refer to other variables.
	fns := functions(opts.AllowFS)
	fnCtx := &hcl.EvalContext{Functions: fns}

	vars := map[string]*variable{}
	var jobs, locals []*hcl.Block
	for _, b := range content.Blocks {
		switch b.Type {
		case "job":
			jobs = append(jobs, b)
		case "variable":
			diags = append(diags, declareVariable(vars, b, fnCtx)...)
		case "variables":
			diags = append(diags, declareVariables(vars, b, fnCtx)...)
		case "locals":
			locals = append(locals, b)
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	switch {
	case len(jobs) == 0:
		return nil, append(diags, errorAt(file.Body.MissingItemRange(), "Missing job block",
			"A job file must contain one job block, such as job \"example\" { ... }."))
	case len(jobs) > 1:
		return nil, append(diags, errorAt(jobs[1].DefRange, "Duplicate job block",
			fmt.Sprintf("A job file must contain only one job block; the first was defined at line %d.", jobs[0].DefRange.Start.Line)))
	}

	diags = append(diags, assignVariables(vars, opts, fnCtx)...)
	if diags.HasErrors() {
		return nil, diags
	}
	ctx := &hcl.EvalContext{
		Functions: fns,
		Variables: map[string]cty.Value{"var": varsObject(vars), "local": cty.EmptyObjectVal},
	}
	diags = append(diags, checkValidations(vars, ctx)...)
	diags = append(diags, evalLocals(locals, ctx)...)
	if diags.HasErrors() {
		return nil, diags
	}

	job, jdiags := decodeJob(&decoder{ctx: ctx, budget: &budget{}}, jobs[0])
	return job, append(diags, jdiags...)
}
