// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

// Nomad's node write endpoints: POST /v1/node/:id/drain and
// POST /v1/node/:id/eligibility, with the request and response shapes of
// the official client's Nodes().UpdateDrain(Opts) and ToggleEligibility.

import (
	"errors"
	"net/http"
	"strings"

	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/server"
	"github.com/droverhq/drover/structs"
)

// maxNodeWriteBody bounds a drain or eligibility request body.
const maxNodeWriteBody = 1 << 20

// nodeDrainRoutes registers the node write endpoints.
func (h *HTTPServer) nodeDrainRoutes() {
	for _, m := range []string{"PUT", "POST"} {
		h.handle(m+" /v1/node/{id}/drain", h.nodeDrain)
		h.handle(m+" /v1/node/{id}/eligibility", h.nodeEligibility)
	}
}

func (h *HTTPServer) nodeDrain(w http.ResponseWriter, r *http.Request) (any, error) {
	if h.srv == nil {
		return nil, errorf(http.StatusNotImplemented, "this agent runs no server; send node drains to a server agent")
	}
	var req api.NodeUpdateDrainRequest
	if err := decodeBody(r, maxNodeWriteBody, &req); err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	if req.NodeID != "" && req.NodeID != id {
		return nil, errorf(http.StatusBadRequest, "node ID in the body (%q) does not match the URL (%q)", req.NodeID, id)
	}
	args := &server.NodeDrainArgs{NodeID: id, MarkEligible: req.MarkEligible, Meta: req.Meta}
	if req.DrainSpec != nil {
		args.DrainSpec = &structs.DrainSpec{Deadline: req.DrainSpec.Deadline, IgnoreSystemJobs: req.DrainSpec.IgnoreSystemJobs}
	}
	reply, err := h.srv.UpdateNodeDrain(args)
	if err != nil {
		return nil, nodeWriteError(err)
	}
	setIndex(w, reply.Index)
	resp := &api.NodeDrainUpdateResponse{NodeModifyIndex: reply.NodeModifyIndex, EvalIDs: reply.EvalIDs, EvalCreateIndex: reply.EvalCreateIndex}
	resp.LastIndex = reply.Index
	return resp, nil
}

func (h *HTTPServer) nodeEligibility(w http.ResponseWriter, r *http.Request) (any, error) {
	if h.srv == nil {
		return nil, errorf(http.StatusNotImplemented, "this agent runs no server; send eligibility changes to a server agent")
	}
	var req api.NodeUpdateEligibilityRequest
	if err := decodeBody(r, maxNodeWriteBody, &req); err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	if req.NodeID != "" && req.NodeID != id {
		return nil, errorf(http.StatusBadRequest, "node ID in the body (%q) does not match the URL (%q)", req.NodeID, id)
	}
	switch req.Eligibility {
	case structs.NodeSchedulingEligible, structs.NodeSchedulingIneligible:
	default:
		return nil, errorf(http.StatusBadRequest, "invalid scheduling eligibility %q: want %q or %q",
			req.Eligibility, structs.NodeSchedulingEligible, structs.NodeSchedulingIneligible)
	}
	reply, err := h.srv.UpdateNodeEligibility(&server.NodeEligibilityArgs{NodeID: id, Eligibility: req.Eligibility})
	if err != nil {
		return nil, nodeWriteError(err)
	}
	setIndex(w, reply.Index)
	resp := &api.NodeEligibilityUpdateResponse{NodeModifyIndex: reply.NodeModifyIndex, EvalIDs: reply.EvalIDs, EvalCreateIndex: reply.EvalCreateIndex}
	resp.LastIndex = reply.Index
	return resp, nil
}

// nodeWriteError maps a node write's failure to its HTTP status: an
// unknown node is 404, a refused change (draining node made eligible) 400.
// Errors forwarded from the leader arrive as text, hence the matching.
func nodeWriteError(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, server.ErrUnknownNode) || strings.Contains(msg, server.ErrUnknownNodeText):
		return errorf(http.StatusNotFound, "node not found")
	case strings.Contains(msg, "while it is draining"), strings.Contains(msg, "invalid scheduling eligibility"):
		return errorf(http.StatusBadRequest, "%s", msg)
	}
	return err
}
