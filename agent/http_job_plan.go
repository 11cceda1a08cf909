// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

// PUT /v1/job/:id/plan: a dry run of registering a job (Nomad's job plan
// API). The servers diff the job against the stored one and run the real
// scheduler on a snapshot; nothing is written.

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/droverhq/drover/agent/jobconv"
	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/server"
	"github.com/droverhq/drover/server/jobdiff"
	"github.com/droverhq/drover/structs"
)

func (h *HTTPServer) jobPlanRoutes() {
	h.handle("PUT /v1/job/{id}/plan", h.jobPlan)
	h.handle("POST /v1/job/{id}/plan", h.jobPlan)
}

// jobPlanRequest is Nomad's api.JobPlanRequest body.
type jobPlanRequest struct {
	Job            *api.Job
	Diff           bool
	PolicyOverride bool
}

// jobPlanResponse is Nomad's api.JobPlanResponse. CreatedEvals stays empty:
// a dry run creates no evaluation.
type jobPlanResponse struct {
	JobModifyIndex     uint64
	CreatedEvals       []*structs.Evaluation
	Diff               *jobdiff.JobDiff
	Annotations        *server.PlanAnnotations
	FailedTGAllocs     map[string]*structs.AllocMetric
	NextPeriodicLaunch time.Time
	Warnings           string
}

func (h *HTTPServer) jobPlan(w http.ResponseWriter, r *http.Request) (any, error) {
	if h.srv == nil {
		return nil, errorf(http.StatusNotImplemented, "this agent runs no server; plan jobs with a server agent")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJobBody+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "read request body: %v", err)
	}
	if len(body) > maxJobBody {
		return nil, errorf(http.StatusRequestEntityTooLarge, "job plan request is larger than %d bytes", maxJobBody)
	}
	var req jobPlanRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, errorf(http.StatusBadRequest, "decode job plan request: %v", err)
	}
	if req.Job == nil {
		return nil, errorf(http.StatusBadRequest, "job plan request has no Job")
	}
	if id := r.PathValue("id"); req.Job.ID == nil || *req.Job.ID != id {
		return nil, errorf(http.StatusBadRequest, "job ID does not match the URL (%q)", id)
	}
	if ns := r.URL.Query().Get("namespace"); ns != "" && req.Job.Namespace == nil {
		req.Job.Namespace = &ns
	}
	job, err := jobconv.APIJobToStructs(req.Job)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	// The same checks as a registration: a plan of a job that would be
	// refused is an error, not a plan.
	job.Canonicalize()
	if err := job.Validate(); err != nil {
		return nil, errorf(http.StatusBadRequest, "job validation failed:\n%v", err)
	}
	if missing := job.UnsupportedFeatures(); len(missing) > 0 {
		return nil, errorf(http.StatusBadRequest, "Drover cannot run these parts of the job yet:\n* %s", strings.Join(missing, "\n* "))
	}
	reply, err := h.srv.PlanJob(job, req.Diff)
	if server.IsJobRefusedError(err) {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	if err != nil {
		return nil, err
	}
	setIndex(w, reply.Index)
	return &jobPlanResponse{
		JobModifyIndex:     reply.JobModifyIndex,
		CreatedEvals:       []*structs.Evaluation{},
		Diff:               reply.Diff,
		Annotations:        reply.Annotations,
		FailedTGAllocs:     reply.FailedTGAllocs,
		NextPeriodicLaunch: reply.NextPeriodicLaunch,
		Warnings:           reply.Warnings,
	}, nil
}
