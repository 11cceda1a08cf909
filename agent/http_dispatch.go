// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"encoding/json"
	"io"
	"net/http"

	// Drover's api package does not alias the dispatch wire types yet.

	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/server"
	"github.com/droverhq/drover/structs"
)

// This file serves the writes that launch children of template jobs:
// PUT /v1/job/:id/dispatch (parameterized jobs) and
// PUT /v1/job/:id/periodic/force (periodic jobs).

// maxDispatchBody bounds a dispatch request: a base64 payload at the size
// limit plus generous room for metadata.
const maxDispatchBody = 4*server.DispatchPayloadSizeLimit + 1<<20

// periodicForceResponse is Nomad's answer to a periodic force.
type periodicForceResponse struct {
	EvalID          string
	EvalCreateIndex uint64
	Index           uint64
}

func (h *HTTPServer) dispatchRoutes() {
	h.handle("PUT /v1/job/{id}/dispatch", h.jobDispatch)
	h.handle("POST /v1/job/{id}/dispatch", h.jobDispatch)
	h.handle("PUT /v1/job/{id}/periodic/force", h.jobPeriodicForce)
	h.handle("POST /v1/job/{id}/periodic/force", h.jobPeriodicForce)
}

// templateJob returns the job named in the URL, answering 404 when there
// is none.
func (h *HTTPServer) templateJob(r *http.Request, q *queryOptions) (*structs.Job, error) {
	job, err := h.srv.State().Snapshot().JobByID(q.namespace, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if job == nil {
		return nil, notFound("job")
	}
	return job, nil
}

func (h *HTTPServer) jobDispatch(w http.ResponseWriter, r *http.Request) (any, error) {
	if h.srv == nil {
		return nil, errorf(http.StatusNotImplemented, "this agent runs no server; dispatch jobs with a server agent")
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxDispatchBody+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "read request body: %v", err)
	}
	if len(body) > maxDispatchBody {
		return nil, errorf(http.StatusRequestEntityTooLarge, "dispatch request is larger than %d bytes", maxDispatchBody)
	}
	var req api.JobDispatchRequest
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, errorf(http.StatusBadRequest, "decode dispatch request: %v", err)
		}
	}
	id := r.PathValue("id")
	if req.JobID != "" && req.JobID != id {
		return nil, errorf(http.StatusBadRequest, "job ID does not match the URL (%q)", id)
	}
	parent, err := h.templateJob(r, q)
	if err != nil {
		return nil, err
	}
	args := &server.JobDispatchArgs{
		Namespace:        q.namespace,
		JobID:            id,
		Payload:          req.Payload,
		Meta:             req.Meta,
		IDPrefixTemplate: req.IdPrefixTemplate,
		Priority:         req.Priority,
		IdempotencyToken: r.URL.Query().Get("idempotency_token"),
	}
	if req.Priority != 0 && (req.Priority < structs.MinPriority || req.Priority > structs.MaxPriority) {
		return nil, errorf(http.StatusBadRequest, "priority %d is outside [%d, %d]", req.Priority, structs.MinPriority, structs.MaxPriority)
	}
	// Checked here too so a refused request answers 400; the leader
	// checks again against its own state.
	if err := server.ValidateDispatch(parent, args); err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	reply, err := h.srv.DispatchJob(args)
	if err != nil {
		return nil, err
	}
	setIndex(w, reply.Index)
	return &api.JobDispatchResponse{
		DispatchedJobID: reply.DispatchedJobID,
		EvalID:          reply.EvalID,
		EvalCreateIndex: reply.EvalCreateIndex,
		JobCreateIndex:  reply.JobCreateIndex,
		WriteMeta:       api.WriteMeta{LastIndex: reply.Index},
	}, nil
}

func (h *HTTPServer) jobPeriodicForce(w http.ResponseWriter, r *http.Request) (any, error) {
	if h.srv == nil {
		return nil, errorf(http.StatusNotImplemented, "this agent runs no server; force periodic jobs with a server agent")
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	job, err := h.templateJob(r, q)
	if err != nil {
		return nil, err
	}
	if !job.IsPeriodic() {
		return nil, errorf(http.StatusBadRequest, "job %q is not periodic", job.ID)
	}
	if job.Stop {
		return nil, errorf(http.StatusBadRequest, "job %q is stopped", job.ID)
	}
	evalID, index, err := h.srv.PeriodicForce(q.namespace, job.ID)
	if err != nil {
		return nil, err
	}
	setIndex(w, index)
	return &periodicForceResponse{EvalID: evalID, EvalCreateIndex: index, Index: index}, nil
}
