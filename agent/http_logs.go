// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/droverhq/drover/agent/logstream"
	"github.com/droverhq/drover/structs"
)

// logs serves GET /v1/client/fs/logs/:alloc: a task's stdout or stderr,
// across its rotated files, as JSON frames (or raw with plain=true),
// optionally following new output until the allocation finishes or the
// caller goes away. An allocation of this agent's own client is read from
// disk; any other is streamed from its client over that client's
// connection to the servers.
func (h *HTTPServer) logs(w http.ResponseWriter, r *http.Request) {
	h.setClusterHeaders(w)
	if err := h.streamLogs(w, r); err != nil {
		code := http.StatusInternalServerError
		if he, ok := err.(*httpError); ok {
			code = he.code
		}
		http.Error(w, err.Error(), code)
	}
}

func logRequest(r *http.Request) (*logstream.Request, error) {
	q := r.URL.Query()
	req := &logstream.Request{
		AllocID: r.PathValue("alloc"),
		Task:    q.Get("task"),
		Type:    q.Get("type"),
		Origin:  q.Get("origin"),
	}
	if req.Origin == "" {
		req.Origin = "start"
	}
	var err error
	if v := q.Get("follow"); v != "" {
		if req.Follow, err = strconv.ParseBool(v); err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid follow %q", v)
		}
	}
	if v := q.Get("plain"); v != "" {
		if req.Plain, err = strconv.ParseBool(v); err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid plain %q", v)
		}
	}
	if v := q.Get("offset"); v != "" {
		if req.Offset, err = strconv.ParseInt(v, 10, 64); err != nil || req.Offset < 0 {
			return nil, errorf(http.StatusBadRequest, "invalid offset %q", v)
		}
	}
	if err := req.Validate(); err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	return req, nil
}

func (h *HTTPServer) streamLogs(w http.ResponseWriter, r *http.Request) error {
	req, err := logRequest(r)
	if err != nil {
		return err
	}
	var nodeID string
	if h.srv != nil {
		alloc, err := h.srv.State().Snapshot().AllocByID(req.AllocID)
		if err != nil {
			return err
		}
		if alloc == nil {
			return notFound("alloc")
		}
		if alloc.Job != nil {
			if tg := alloc.Job.LookupTaskGroup(alloc.TaskGroup); tg != nil && tg.LookupTask(req.Task) == nil {
				return errorf(http.StatusBadRequest, "unknown task name %q", req.Task)
			}
		}
		nodeID = alloc.NodeID
	}
	if h.allocs != nil {
		if dir, ok := h.allocs.AllocDir(req.AllocID); ok {
			return h.streamLocalLogs(w, r, req, dir)
		}
	}
	if h.srv == nil || nodeID == "" {
		return errorf(http.StatusNotFound, "unknown allocation %q on this node", req.AllocID)
	}
	return h.streamRemoteLogs(w, r, req, nodeID)
}

func writeLogHeaders(w http.ResponseWriter, plain bool) func() {
	if plain {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	return func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
}

func (h *HTTPServer) streamLocalLogs(w http.ResponseWriter, r *http.Request, req *logstream.Request, dir string) error {
	flush := writeLogHeaders(w, req.Plain)
	done := func() bool { return h.allocFinished(req.AllocID) }
	// Errors past this point can only be logged: the status is sent.
	if err := logstream.Stream(r.Context(), dir, req, w, flush, done); err != nil {
		h.logger.Debug("log stream ended", "alloc_id", req.AllocID, "task", req.Task, "error", err)
	}
	return nil
}

// streamRemoteLogs asks the allocation's client, through the servers, for
// the stream and copies it to the caller.
func (h *HTTPServer) streamRemoteLogs(w http.ResponseWriter, r *http.Request, req *logstream.Request, nodeID string) error {
	conn, hdr, err := h.srv.ClientStream(r.Context(), nodeID, &structs.ClientStreamRequest{
		Method: structs.ClientStreamLogs, AllocID: req.AllocID, Task: req.Task, LogType: req.Type,
		Origin: req.Origin, Offset: req.Offset, Follow: req.Follow, Plain: req.Plain,
	})
	if err != nil {
		return errorf(http.StatusBadGateway, "stream logs from node %s: %v", nodeID, err)
	}
	defer conn.Close()
	if hdr.Error != "" {
		code := hdr.Code
		if code == 0 {
			code = http.StatusInternalServerError
		}
		return errorf(code, "%s", hdr.Error)
	}
	flush := writeLogHeaders(w, req.Plain)
	go func() {
		<-r.Context().Done()
		conn.Close() // the caller left: stop the client's stream
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil
			}
			flush()
		}
		if err != nil {
			if err != io.EOF {
				h.logger.Debug("remote log stream ended", "alloc_id", req.AllocID, "error", err)
			}
			return nil
		}
	}
}

// allocFinished reports whether the allocation will write no more logs.
func (h *HTTPServer) allocFinished(allocID string) bool {
	if h.srv != nil {
		a, err := h.srv.State().Snapshot().AllocByID(allocID)
		if err != nil || a == nil {
			return true
		}
		return a.ClientTerminalStatus()
	}
	if h.agent != nil && h.agent.client != nil {
		if a, ok := h.agent.client.Alloc(allocID); ok {
			return a.ClientTerminalStatus()
		}
		return true
	}
	return false
}

// serveClientStream answers a stream a server opened to this agent's
// client: today, the logs of one of its allocations.
func (a *Agent) serveClientStream(req *structs.ClientStreamRequest, conn io.ReadWriteCloser) {
	enc := codec.NewEncoder(conn, structs.MsgpackHandle)
	fail := func(code int, msg string) {
		_ = enc.Encode(&structs.ClientStreamHeader{Error: msg, Code: code})
	}
	if isClientOp(req.Method) {
		a.serveClientOp(req, conn)
		return
	}
	if isExecFSMethod(req.Method) {
		a.serveExecFS(req, conn)
		return
	}
	if req.Method != structs.ClientStreamLogs {
		fail(http.StatusNotImplemented, "unknown stream method "+strconv.Quote(req.Method))
		return
	}
	lr := &logstream.Request{AllocID: req.AllocID, Task: req.Task, Type: req.LogType, Origin: req.Origin,
		Offset: req.Offset, Follow: req.Follow, Plain: req.Plain}
	if err := lr.Validate(); err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	dir, ok := a.client.AllocDir(req.AllocID)
	if !ok {
		fail(http.StatusNotFound, "unknown allocation "+strconv.Quote(req.AllocID)+" on node "+a.client.NodeID())
		return
	}
	if err := enc.Encode(&structs.ClientStreamHeader{}); err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// The server closes the stream when its caller leaves; a read
		// then fails and ends the stream here too.
		_, _ = io.Copy(io.Discard, conn)
		cancel()
	}()
	done := func() bool {
		al, ok := a.client.Alloc(req.AllocID)
		return !ok || al.ClientTerminalStatus()
	}
	if err := logstream.Stream(ctx, dir, lr, conn, func() {}, done); err != nil {
		a.logger.Debug("log stream to server ended", "alloc_id", req.AllocID, "error", err)
	}
}
