// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strconv"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/droverhq/drover/client"
	"github.com/droverhq/drover/structs"
)

// This file serves `alloc fs`: GET /v1/client/fs/{ls,stat,cat,readat,
// stream}/:alloc?path=. An allocation of this agent's client is read from
// its directory (client.AllocFS does every path check); any other is
// relayed by the servers to the client that runs it, which answers with
// the very body this agent would have written (see
// structs/clientops_stream.go for the exchange).

// fsRoutes maps each route's verb to its client stream method.
var fsRoutes = map[string]string{
	"ls":     structs.ClientStreamFSList,
	"stat":   structs.ClientStreamFSStat,
	"cat":    structs.ClientStreamFSCat,
	"readat": structs.ClientStreamFSReadAt,
	"stream": structs.ClientStreamFSStream,
}

// allocExecFSRoutes registers the exec and file system routes.
func (h *HTTPServer) allocExecFSRoutes() {
	h.mux.HandleFunc("GET /v1/client/allocation/{id}/exec", h.allocExec)
	for verb, method := range fsRoutes {
		h.mux.HandleFunc("GET /v1/client/fs/"+verb+"/{alloc}", func(w http.ResponseWriter, r *http.Request) {
			h.allocFS(w, r, method)
		})
	}
}

// allocFS serves one file system request; errors before the body are
// answered with their status and a plain-text message, as Nomad does.
func (h *HTTPServer) allocFS(w http.ResponseWriter, r *http.Request, method string) {
	h.setClusterHeaders(w)
	if err := h.serveAllocFS(w, r, method); err != nil {
		code := http.StatusInternalServerError
		var he *httpError
		if errors.As(err, &he) {
			code = he.code
		}
		if code >= 500 {
			h.logger.Error("file system request failed", "path", r.URL.Path, "error", err)
		}
		http.Error(w, err.Error(), code)
	}
}

// fsRequest reads the query of a file system request.
func fsRequest(r *http.Request, method string) (*structs.ClientFSRequest, error) {
	q := r.URL.Query()
	req := &structs.ClientFSRequest{Path: q.Get("path"), Origin: q.Get("origin"), Follow: true}
	if req.Path == "" {
		req.Path = "/"
	}
	if req.Origin == "" {
		req.Origin = "start"
	}
	if req.Origin != "start" && req.Origin != "end" {
		return nil, errorf(http.StatusBadRequest, `origin must be "start" or "end", not %q`, req.Origin)
	}
	for name, dst := range map[string]*int64{"offset": &req.Offset, "limit": &req.Limit} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || (name == "offset" && n < 0) {
			return nil, errorf(http.StatusBadRequest, "invalid %s %q", name, v)
		}
		*dst = n
	}
	if v := q.Get("follow"); v != "" {
		f, err := strconv.ParseBool(v)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid follow %q", v)
		}
		req.Follow = f
	}
	if method == structs.ClientStreamFSReadAt && (q.Get("offset") == "" || q.Get("limit") == "") {
		return nil, errorf(http.StatusBadRequest, "readat needs offset and limit")
	}
	return req, nil
}

func (h *HTTPServer) serveAllocFS(w http.ResponseWriter, r *http.Request, method string) error {
	req, err := fsRequest(r, method)
	if err != nil {
		return err
	}
	allocID := r.PathValue("alloc")
	if h.allocs != nil {
		if dir, ok := h.allocs.AllocDir(allocID); ok {
			ans, err := client.NewAllocFS(dir).Prepare(method, req)
			if err != nil {
				return fsError(err)
			}
			defer ans.Close()
			flush := h.startFSBody(w, ans.ContentType)
			if err := ans.Write(r.Context(), w, flush); err != nil {
				h.logger.Debug("file system answer ended", "alloc_id", allocID, "error", err)
			}
			return nil
		}
	}
	nodeID, err := h.allocNode(allocID)
	if err != nil {
		return err
	}
	return h.remoteAllocFS(w, r, method, nodeID, allocID, req)
}

// allocNode finds the node of an allocation that is not this agent's,
// through the servers' state.
func (h *HTTPServer) allocNode(allocID string) (string, error) {
	if h.srv == nil {
		return "", errorf(http.StatusNotFound, "unknown allocation %q on this node", allocID)
	}
	alloc, err := h.srv.State().Snapshot().AllocByID(allocID)
	if err != nil {
		return "", err
	}
	if alloc == nil {
		return "", notFound("alloc")
	}
	return alloc.NodeID, nil
}

// startFSBody sends the status and headers of a successful answer and
// returns the function that flushes the body so far. Nomad's client
// parses the cluster headers of the JSON answers, so a client-only
// agent sends neutral ones.
func (h *HTTPServer) startFSBody(w http.ResponseWriter, contentType string) func() {
	if h.srv != nil {
		setIndex(w, h.srv.State().LatestIndex())
	} else {
		setIndex(w, 0)
		w.Header().Set("X-Nomad-LastContact", "0")
		w.Header().Set("X-Nomad-KnownLeader", "false")
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	return func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// remoteAllocFS relays the request to the allocation's client and copies
// its answer to the caller.
func (h *HTTPServer) remoteAllocFS(w http.ResponseWriter, r *http.Request, method, nodeID, allocID string, req *structs.ClientFSRequest) error {
	conn, hdr, err := h.srv.ClientStream(r.Context(), nodeID, &structs.ClientStreamRequest{Method: method, AllocID: allocID})
	if err != nil {
		return errorf(http.StatusBadGateway, "%s on node %s: %v", method, nodeID, err)
	}
	defer conn.Close()
	if err := headerError(hdr); err != nil {
		return err
	}
	if err := codec.NewEncoder(conn, structs.MsgpackHandle).Encode(req); err != nil {
		return errorf(http.StatusBadGateway, "%s on node %s: send request: %v", method, nodeID, err)
	}
	var res structs.ClientStreamHeader
	if err := codec.NewDecoder(&oneByteReader{r: conn}, structs.MsgpackHandle).Decode(&res); err != nil {
		return errorf(http.StatusBadGateway, "%s on node %s: read answer: %v", method, nodeID, err)
	}
	if err := headerError(&res); err != nil {
		return err
	}
	contentType := "application/json"
	if method == structs.ClientStreamFSCat || method == structs.ClientStreamFSReadAt {
		contentType = "text/plain; charset=utf-8"
	}
	flush := h.startFSBody(w, contentType)
	stop := context.AfterFunc(r.Context(), func() { conn.Close() }) // the caller left
	defer stop()
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
			if err != io.EOF && r.Context().Err() == nil {
				h.logger.Debug("relayed file system answer ended", "alloc_id", allocID, "error", err)
			}
			return nil
		}
	}
}

// oneByteReader reads one byte at a time, so a msgpack decoder never
// takes bytes of the body that follows the value it decodes.
type oneByteReader struct{ r io.Reader }

func (b *oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return b.r.Read(p[:1])
}

// fsError maps the client's file system errors to HTTP statuses.
func fsError(err error) error {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return err
	case errors.Is(err, client.ErrPathEscapes), errors.Is(err, client.ErrBadFSRequest),
		errors.Is(err, client.ErrIsDirectory):
		return errorf(http.StatusBadRequest, "%v", err)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, client.ErrUnknownAlloc):
		return errorf(http.StatusNotFound, "%v", err)
	case errors.Is(err, fs.ErrPermission):
		return errorf(http.StatusForbidden, "%v", err)
	default:
		return errorf(http.StatusInternalServerError, "%v", err)
	}
}

// serveClientFS answers a file system request a server relays to this
// agent's client.
func (a *Agent) serveClientFS(req *structs.ClientStreamRequest, conn io.ReadWriteCloser) {
	enc := codec.NewEncoder(conn, structs.MsgpackHandle)
	answer := func(err error) error {
		var hdr structs.ClientStreamHeader
		if err != nil {
			hdr.Error, hdr.Code = err.Error(), http.StatusInternalServerError
			var he *httpError
			if errors.As(fsError(err), &he) {
				hdr.Code = he.code
			}
		}
		return enc.Encode(&hdr)
	}
	dir, ok := a.client.AllocDir(req.AllocID)
	if !ok {
		_ = answer(errorf(http.StatusNotFound, "unknown allocation %s on node %s", strconv.Quote(req.AllocID), a.client.NodeID()))
		return
	}
	if answer(nil) != nil {
		return
	}
	var fr structs.ClientFSRequest
	if err := codec.NewDecoder(&oneByteReader{r: conn}, structs.MsgpackHandle).Decode(&fr); err != nil {
		a.logger.Debug("read file system request", "method", req.Method, "alloc_id", req.AllocID, "error", err)
		return
	}
	ans, err := client.NewAllocFS(dir).Prepare(req.Method, &fr)
	if err != nil {
		_ = answer(err)
		return
	}
	defer ans.Close()
	if answer(nil) != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// The server closes the stream when its caller leaves; the read
		// then fails and ends a followed stream here too.
		_, _ = io.Copy(io.Discard, conn)
		cancel()
	}()
	if err := ans.Write(ctx, conn, func() {}); err != nil {
		a.logger.Debug("file system answer to server ended", "alloc_id", req.AllocID, "error", err)
	}
}
