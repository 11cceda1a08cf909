// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/droverhq/drover/server"
)

// allocStop serves PUT/POST /v1/allocation/:id/stop[?no_shutdown_delay=]:
// the servers mark the allocation for migration and evaluate its job, so
// the scheduler stops it and places a replacement. It answers Nomad's
// AllocStopResponse ({"EvalID", "Index"}) with the index in X-Nomad-Index.
func (h *HTTPServer) allocStop(w http.ResponseWriter, r *http.Request) (any, error) {
	if h.srv == nil {
		return nil, errorf(http.StatusNotImplemented, "this agent runs no server; send cluster writes to a server agent")
	}
	args := &server.AllocStopArgs{AllocID: r.PathValue("id")}
	if v := r.URL.Query().Get("no_shutdown_delay"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid no_shutdown_delay %q", v)
		}
		args.NoShutdownDelay = b
	}
	reply, err := h.srv.StopAlloc(args)
	if err != nil {
		// Forwarded errors arrive as text.
		if errors.Is(err, server.ErrUnknownAlloc) || strings.Contains(err.Error(), server.ErrUnknownAllocText) {
			return nil, notFound("alloc")
		}
		return nil, errorf(http.StatusInternalServerError, "%v", err)
	}
	setIndex(w, reply.Index)
	return struct {
		EvalID string
		Index  uint64
	}{reply.EvalID, reply.Index}, nil
}
