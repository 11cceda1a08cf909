// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/jobspec"
)

// jobFileOptions are the job run flags that shape parsing.
type jobFileOptions struct {
	json     bool     // the file is JSON (an api.Job, bare or as {"Job": ...})
	vars     []string // -var k=v
	varFiles []string // -var-file f
}

// readJob loads the job that path describes; path "-" reads stdin.
func readJob(path string, stdin io.Reader, opts jobFileOptions) (*api.Job, error) {
	if opts.json {
		var data []byte
		var err error
		if path == "-" {
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(path)
		}
		if err != nil {
			return nil, fmt.Errorf("reading job file %q: %w", path, err)
		}
		return decodeJSONJob(path, data)
	}
	vars, err := parseVarFlags(opts.vars)
	if err != nil {
		return nil, err
	}
	popts := &jobspec.ParseOptions{
		Vars:     vars,
		VarFiles: opts.varFiles,
		Env:      os.Environ(),
		AllowFS:  true,
	}
	if path == "-" {
		src, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading job from stdin: %w", err)
		}
		return parseJobFile("<stdin>", src, popts)
	}
	return parseJobFile(path, nil, popts)
}

// parseJobFile is the one place the CLI calls the job file parser (HCL2, or
// JSON in the API's form). src nil means read the file at path.
func parseJobFile(path string, src []byte, opts *jobspec.ParseOptions) (*api.Job, error) {
	var (
		job *api.Job
		err error
	)
	if src == nil {
		job, err = jobspec.ParseFile(path, opts)
	} else {
		job, err = jobspec.Parse(path, src, opts)
	}
	if err != nil {
		// The parser's errors already name the file, line and column.
		return nil, err
	}
	return job, nil
}

// decodeJSONJob accepts the two JSON shapes Nomad tools produce: the body of
// PUT /v1/jobs ({"Job": {...}}) and a bare job object.
func decodeJSONJob(path string, data []byte) (*api.Job, error) {
	var wrapped struct{ Job *api.Job }
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&wrapped); err != nil {
		return nil, fmt.Errorf("parsing JSON job file %s: %w", path, err)
	}
	if wrapped.Job != nil {
		return wrapped.Job, nil
	}
	var job api.Job
	if err := json.Unmarshal(data, &job); err != nil {
		return nil, fmt.Errorf("parsing JSON job file %s: %w", path, err)
	}
	if job.ID == nil && job.Name == nil {
		return nil, fmt.Errorf("parsing JSON job file %s: no job ID or Name", path)
	}
	return &job, nil
}

// parseVarFlags turns -var k=v flags into a map.
func parseVarFlags(vars []string) (map[string]string, error) {
	out := make(map[string]string, len(vars))
	for _, kv := range vars {
		k, v, ok := bytes.Cut([]byte(kv), []byte("="))
		if !ok || len(k) == 0 {
			return nil, fmt.Errorf("invalid -var %q: want name=value", kv)
		}
		out[string(k)] = string(v)
	}
	return out, nil
}
