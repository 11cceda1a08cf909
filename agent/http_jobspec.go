// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/droverhq/drover/agent/jobconv"
	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/jobspec"
	"github.com/droverhq/drover/structs"
)

// maxParseBody bounds a job file sent for parsing.
const maxParseBody = 4 << 20

// decodeBody reads a JSON request body of at most limit bytes into out.
func decodeBody(r *http.Request, limit int64, out any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "read request body: %v", err)
	}
	if int64(len(body)) > limit {
		return errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", limit)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return errorf(http.StatusBadRequest, "decode request body: %v", err)
	}
	return nil
}

// jobsParse serves PUT/POST /v1/jobs/parse: an HCL2 job file to its JSON
// job, optionally canonicalised. The server reads no files on the caller's
// behalf: file() and friends are refused.
func (h *HTTPServer) jobsParse(w http.ResponseWriter, r *http.Request) (any, error) {
	var req api.JobsParseRequest
	if err := decodeBody(r, maxParseBody, &req); err != nil {
		return nil, err
	}
	if req.JobHCL == "" {
		return nil, errorf(http.StatusBadRequest, "job parse request has no JobHCL")
	}
	opts := &jobspec.ParseOptions{}
	if req.Variables != "" {
		// The parser takes variable files by path: hand it the request's
		// variables as one, in a private temporary directory.
		dir, err := os.MkdirTemp("", "drover-parse-vars")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "variables.hcl")
		if err := os.WriteFile(path, []byte(req.Variables), 0o600); err != nil {
			return nil, err
		}
		opts.VarFiles = []string{path}
	}
	job, err := jobspec.Parse("input.hcl", []byte(req.JobHCL), opts)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	if req.Canonicalize {
		job.Canonicalize()
	}
	return job, nil
}

// validateJob serves PUT/POST /v1/validate/job: the checks registration
// makes, without registering. Features the runtime cannot run yet are
// reported as warnings: the job is valid, but registering it is refused.
func (h *HTTPServer) validateJob(w http.ResponseWriter, r *http.Request) (any, error) {
	var req api.JobValidateRequest
	if err := decodeBody(r, maxJobBody, &req); err != nil {
		return nil, err
	}
	if req.Job == nil {
		return nil, errorf(http.StatusBadRequest, "validate request has no Job")
	}
	resp := &api.JobValidateResponse{DriverConfigValidated: false}
	job, err := jobconv.APIJobToStructs(req.Job)
	if err == nil {
		job.Canonicalize()
		err = job.Validate()
	}
	if err != nil {
		resp.Error = err.Error()
		var verr *structs.ValidationError
		var uerr *jobconv.UnsupportedError
		switch {
		case errors.As(err, &verr):
			for _, p := range verr.Problems {
				resp.ValidationErrors = append(resp.ValidationErrors, p.Error())
			}
		case errors.As(err, &uerr):
			resp.ValidationErrors = append(resp.ValidationErrors, uerr.Paths...)
		default:
			resp.ValidationErrors = []string{err.Error()}
		}
		return resp, nil
	}
	if missing := job.UnsupportedFeatures(); len(missing) > 0 {
		resp.Warnings = "Drover cannot run these parts of the job yet, so registering it will be refused:\n* " + strings.Join(missing, "\n* ")
	}
	return resp, nil
}
