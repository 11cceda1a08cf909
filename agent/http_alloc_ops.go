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
// signal`, `alloc restart`, `alloc status -stats`) and on a client's host
// (`node status -stats`, in http_stats.go): on this agent's client when it
// runs the allocation (is the node), else relayed by the servers to the
// client that does. The relay is a client stream: the server sends a
// ClientStreamRequest naming the operation, the client answers a header
// (an error if it does not run the allocation), the server sends the
// ClientOpRequest and the client answers a second header with the
// operation's outcome, followed, for an operation that returns data
// (structs.ClientOpHasBody), by that data.

// maxAllocOpBody bounds an operation's request body.
const maxAllocOpBody = 64 << 10

// clientOpTimeout bounds an operation on the client; the relaying server
// waits a little longer for the answer.
const clientOpTimeout = 30 * time.Second

// AllocOperator performs operations on the allocations this agent's
// client runs, and measures its host (client.Client implements it).
type AllocOperator interface {
	SignalAlloc(ctx context.Context, allocID, task, sig string) error
	RestartAlloc(ctx context.Context, allocID, task string, allTasks bool) error
	AllocStats(ctx context.Context, allocID string) (*client.AllocResourceUsage, error)
	HostStats(ctx context.Context) (*client.HostStats, error)
}

// allocOpRoutes registers the allocation operation routes.
func (h *HTTPServer) allocOpRoutes() {
	h.handle("PUT /v1/client/allocation/{id}/signal", h.allocSignal)
	h.handle("POST /v1/client/allocation/{id}/signal", h.allocSignal)
	h.handle("PUT /v1/client/allocation/{id}/restart", h.allocRestart)
	h.handle("POST /v1/client/allocation/{id}/restart", h.allocRestart)
	h.handle("GET /v1/client/allocation/{id}/stats", h.allocStats)
	h.handle("GET /v1/client/stats", h.hostStats)
	h.handle("PUT /v1/allocation/{id}/stop", h.allocStop)
	h.handle("POST /v1/allocation/{id}/stop", h.allocStop)
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
	if _, err := h.runAllocOp(r.Context(), structs.ClientOpAllocSignal, allocID, &req); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// allocRestart serves PUT/POST /v1/client/allocation/:id/restart with
// body {"TaskName": "", "AllTasks": false}: an empty task restarts every
// running task. Naming a task and AllTasks together is refused, as Nomad
// does; AllTasks of an allocation with a completed task is refused by the
// client (client.ErrRestartCompletedTask, a 400). It answers an empty
// object.
func (h *HTTPServer) allocRestart(_ http.ResponseWriter, r *http.Request) (any, error) {
	var body struct {
		TaskName string
		AllTasks bool
	}
	if err := decodeBody(r, maxAllocOpBody, &body); err != nil {
		return nil, err
	}
	if body.TaskName != "" && body.AllTasks {
		return nil, errorf(http.StatusBadRequest, "task name cannot be set when restarting all tasks")
	}
	req := &structs.ClientOpRequest{Task: body.TaskName, AllTasks: body.AllTasks}
	if _, err := h.runAllocOp(r.Context(), structs.ClientOpAllocRestart, r.PathValue("id"), req); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// allocStats serves GET /v1/client/allocation/:id/stats: the resource
// usage of the allocation's running tasks (Nomad's AllocResourceUsage).
func (h *HTTPServer) allocStats(_ http.ResponseWriter, r *http.Request) (any, error) {
	return h.runAllocOp(r.Context(), structs.ClientOpAllocStats, r.PathValue("id"), &structs.ClientOpRequest{})
}

// runAllocOp performs op on this agent's client when it runs the
// allocation, else relays it to the allocation's node. It returns the
// operation's result, for those that have one.
func (h *HTTPServer) runAllocOp(ctx context.Context, op, allocID string, req *structs.ClientOpRequest) (any, error) {
	if ops, ok := h.allocs.(AllocOperator); ok {
		if _, local := h.allocs.AllocDir(allocID); local {
			out, err := doAllocOp(ctx, ops, op, allocID, req)
			return out, allocOpError(err)
		}
	}
	if h.srv == nil {
		return nil, errorf(http.StatusNotFound, "unknown allocation %q on this node", allocID)
	}
	alloc, err := h.srv.State().Snapshot().AllocByID(allocID)
	if err != nil {
		return nil, err
	}
	if alloc == nil {
		return nil, notFound("alloc")
	}
	if alloc.ClientTerminalStatus() {
		return nil, errorf(http.StatusBadRequest, "allocation %q is not running", allocID)
	}
	return h.remoteAllocOp(ctx, op, alloc.NodeID, allocID, req)
}

// remoteAllocOp relays op through the servers to the node's client, and
// reads its result when the operation has one.
func (h *HTTPServer) remoteAllocOp(ctx context.Context, op, nodeID, allocID string, req *structs.ClientOpRequest) (any, error) {
	conn, hdr, err := h.srv.ClientStream(ctx, nodeID, &structs.ClientStreamRequest{Method: op, AllocID: allocID, Task: req.Task})
	if err != nil {
		return nil, errorf(http.StatusBadGateway, "%s on node %s: %v", op, nodeID, err)
	}
	defer conn.Close()
	if err := headerError(hdr); err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(clientOpTimeout + 5*time.Second))
	if err := codec.NewEncoder(conn, structs.MsgpackHandle).Encode(req); err != nil {
		return nil, errorf(http.StatusBadGateway, "%s on node %s: send request: %v", op, nodeID, err)
	}
	dec := codec.NewDecoder(conn, structs.MsgpackHandle)
	var res structs.ClientStreamHeader
	if err := dec.Decode(&res); err != nil {
		return nil, errorf(http.StatusBadGateway, "%s on node %s: read answer: %v", op, nodeID, err)
	}
	if err := headerError(&res); err != nil || !structs.ClientOpHasBody(op) {
		return nil, err
	}
	out := newOpResult(op)
	if err := dec.Decode(out); err != nil {
		return nil, errorf(http.StatusBadGateway, "%s on node %s: read result: %v", op, nodeID, err)
	}
	return out, nil
}

// newOpResult allocates the result of an operation that has one.
func newOpResult(op string) any {
	switch op {
	case structs.ClientOpAllocStats:
		return &client.AllocResourceUsage{}
	case structs.ClientOpHostStats:
		return &client.HostStats{}
	default:
		return &struct{}{}
	}
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

// doAllocOp performs op on the local client; the result is nil for an
// operation without one.
func doAllocOp(ctx context.Context, ops AllocOperator, op, allocID string, req *structs.ClientOpRequest) (any, error) {
	switch op {
	case structs.ClientOpAllocSignal:
		return nil, ops.SignalAlloc(ctx, allocID, req.Task, req.Signal)
	case structs.ClientOpAllocRestart:
		return nil, ops.RestartAlloc(ctx, allocID, req.Task, req.AllTasks)
	case structs.ClientOpAllocStats:
		return ops.AllocStats(ctx, allocID)
	case structs.ClientOpHostStats:
		return ops.HostStats(ctx)
	default:
		return nil, errorf(http.StatusNotImplemented, "unknown allocation operation %q", op)
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
		errors.Is(err, client.ErrRestartCompletedTask),
		errors.Is(err, taskrunner.ErrSignalsUnsupported), errors.Is(err, taskrunner.ErrStatsUnsupported):
		return errorf(http.StatusBadRequest, "%v", err)
	default:
		return errorf(http.StatusInternalServerError, "%v", err)
	}
}

// isClientOp reports whether a client stream method is an allocation (or
// host) operation, served by serveClientOp.
func isClientOp(method string) bool {
	switch method {
	case structs.ClientOpAllocSignal, structs.ClientOpAllocRestart, structs.ClientOpAllocStats, structs.ClientOpHostStats:
		return true
	}
	return false
}

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
	if _, ok := a.client.AllocDir(req.AllocID); !ok && !structs.ClientOpOnNode(req.Method) {
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
	out, err := doAllocOp(ctx, a.client, req.Method, req.AllocID, &op)
	answer(err)
	if err == nil && structs.ClientOpHasBody(req.Method) {
		if err := enc.Encode(out); err != nil {
			a.logger.Debug("send client operation result", "method", req.Method, "alloc_id", req.AllocID, "error", err)
		}
	}
}
