// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/droverhq/drover/client"
	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/structs"
)

// This file serves operations on a running allocation's tasks (`alloc
// signal`): on this agent's client when it runs the allocation, else
// relayed by the servers to the client that does. The relay is a client
// stream: the server sends a ClientStreamRequest naming the operation,
// the client answers a header (an error if it does not run the
// allocation), the server sends the ClientOpRequest and the client
// answers a second header with the operation's outcome.

// maxAllocOpBody bounds a signal request body.
const maxAllocOpBody = 64 << 10

// clientOpTimeout bounds an operation on the client; the relaying server
// waits a little longer for the answer.
const clientOpTimeout = 30 * time.Second

// AllocSignaler sends signals to the tasks of allocations this agent's
// client runs (client.Client implements it).
type AllocSignaler interface {
	SignalAlloc(ctx context.Context, allocID, task, sig string) error
}

// allocOpRoutes registers the allocation operation routes.
func (h *HTTPServer) allocOpRoutes() {
	h.handle("PUT /v1/client/allocation/{id}/signal", h.allocSignal)
	h.handle("POST /v1/client/allocation/{id}/signal", h.allocSignal)
}

// allocSignal serves PUT/POST /v1/client/allocation/:id/signal with body
// {"Task": "", "Signal": "SIGHUP"}; an empty task signals every running
// task. It answers an empty object, as Nomad does.
func (h *HTTPServer) allocSignal(_ http.ResponseWriter, r *http.Request) (any, error) {
	var req structs.ClientOpRequest
	if err := decodeBody(r, maxAllocOpBody, &req); err != nil {
		return nil, err
	}
	if req.Signal == "" {
		return nil, errorf(http.StatusBadRequest, "missing Signal")
	}
	allocID := r.PathValue("id")
	if err := h.runAllocOp(r.Context(), structs.ClientOpAllocSignal, allocID, &req); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// runAllocOp performs op on this agent's client when it runs the
// allocation, else relays it to the allocation's node.
func (h *HTTPServer) runAllocOp(ctx context.Context, op, allocID string, req *structs.ClientOpRequest) error {
	if sig, ok := h.allocs.(AllocSignaler); ok {
		if _, local := h.allocs.AllocDir(allocID); local {
			return allocOpError(doAllocOp(ctx, sig, op, allocID, req))
		}
	}
	if h.srv == nil {
		return errorf(http.StatusNotFound, "unknown allocation %q on this node", allocID)
	}
	alloc, err := h.srv.State().Snapshot().AllocByID(allocID)
	if err != nil {
		return err
	}
	if alloc == nil {
		return notFound("alloc")
	}
	if alloc.ClientTerminalStatus() {
		return errorf(http.StatusBadRequest, "allocation %q is not running", allocID)
	}
	return h.remoteAllocOp(ctx, op, alloc.NodeID, allocID, req)
}

// remoteAllocOp relays op through the servers to the node's client.
func (h *HTTPServer) remoteAllocOp(ctx context.Context, op, nodeID, allocID string, req *structs.ClientOpRequest) error {
	conn, hdr, err := h.srv.ClientStream(ctx, nodeID, &structs.ClientStreamRequest{Method: op, AllocID: allocID, Task: req.Task})
	if err != nil {
		return errorf(http.StatusBadGateway, "%s on node %s: %v", op, nodeID, err)
	}
	defer conn.Close()
	if err := headerError(hdr); err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(clientOpTimeout + 5*time.Second))
	if err := codec.NewEncoder(conn, structs.MsgpackHandle).Encode(req); err != nil {
		return errorf(http.StatusBadGateway, "%s on node %s: send request: %v", op, nodeID, err)
	}
	var res structs.ClientStreamHeader
	if err := codec.NewDecoder(conn, structs.MsgpackHandle).Decode(&res); err != nil {
		return errorf(http.StatusBadGateway, "%s on node %s: read answer: %v", op, nodeID, err)
	}
	return headerError(&res)
}

func headerError(hdr *structs.ClientStreamHeader) error {
	if hdr.Error == "" {
		return nil
	}
	code := hdr.Code
	if code == 0 {
		code = http.StatusInternalServerError
	}
	return errorf(code, "%s", hdr.Error)
}

// doAllocOp performs op on the local client.
func doAllocOp(ctx context.Context, sig AllocSignaler, op, allocID string, req *structs.ClientOpRequest) error {
	switch op {
	case structs.ClientOpAllocSignal:
		return sig.SignalAlloc(ctx, allocID, req.Task, req.Signal)
	default:
		return errorf(http.StatusNotImplemented, "unknown allocation operation %q", op)
	}
}

// allocOpError maps the client's errors to HTTP statuses.
func allocOpError(err error) error {
	var he *httpError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he):
		return err
	case errors.Is(err, client.ErrUnknownAlloc):
		return errorf(http.StatusNotFound, "%v", err)
	case errors.Is(err, client.ErrUnknownTask), errors.Is(err, taskrunner.ErrTaskNotRunning),
		errors.Is(err, taskrunner.ErrSignalsUnsupported):
		return errorf(http.StatusBadRequest, "%v", err)
	default:
		return errorf(http.StatusInternalServerError, "%v", err)
	}
}

// isClientOp reports whether a client stream method is an allocation
// operation, served by serveClientOp.
func isClientOp(method string) bool { return method == structs.ClientOpAllocSignal }

// serveClientOp answers an allocation operation a server relays to this
// agent's client (see the file comment for the exchange).
func (a *Agent) serveClientOp(req *structs.ClientStreamRequest, conn io.ReadWriteCloser) {
	enc := codec.NewEncoder(conn, structs.MsgpackHandle)
	answer := func(err error) {
		var hdr structs.ClientStreamHeader
		if err = allocOpError(err); err != nil {
			hdr.Error, hdr.Code = err.Error(), http.StatusInternalServerError
			var he *httpError
			if errors.As(err, &he) {
				hdr.Code = he.code
			}
		}
		_ = enc.Encode(&hdr)
	}
	if _, ok := a.client.AllocDir(req.AllocID); !ok {
		answer(errorf(http.StatusNotFound, "unknown allocation %s on node %s", strconv.Quote(req.AllocID), a.client.NodeID()))
		return
	}
	answer(nil)
	var op structs.ClientOpRequest
	if err := codec.NewDecoder(conn, structs.MsgpackHandle).Decode(&op); err != nil {
		a.logger.Debug("read client operation", "method", req.Method, "alloc_id", req.AllocID, "error", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientOpTimeout)
	defer cancel()
	answer(doAllocOp(ctx, a.client, req.Method, req.AllocID, &op))
}
