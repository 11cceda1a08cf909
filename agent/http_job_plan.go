// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

// PUT /v1/job/:id/plan: a dry run of registering a job (Nomad's job plan
// API). The servers diff the job against the stored one and run the real
// scheduler on a snapshot; nothing is written.

import (
	"net/http"
	"time"

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
	var req jobPlanRequest
	if err := readJobRequest(r, "job plan request", &req); err != nil {
		return nil, err
	}
	// The same checks as a registration: a plan of a job that would be
	// refused is an error, not a plan.
	job, err := runnableJob(r, req.Job, "job plan request")
	if err != nil {
		return nil, err
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
