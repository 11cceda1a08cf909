// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/server"
	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// maxBlockingWait caps ?wait= as Nomad does.
const (
	defaultBlockingWait = 5 * time.Minute
	maxBlockingWait     = 10 * time.Minute
)

// AllocDirs finds an allocation's directory on this agent's client.
type AllocDirs interface {
	AllocDir(allocID string) (string, bool)
}

// HTTPServer serves Nomad's /v1 HTTP API from this agent.
type HTTPServer struct {
	srv    *server.Server // nil on a client-only agent
	allocs AllocDirs      // nil on a server-only agent
	agent  *Agent
	logger hclog.Logger
	mux    *http.ServeMux
	http   *http.Server
	ln     net.Listener
}

// httpError is an error with the HTTP status to answer it with.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// handlerFunc answers with a value to encode as JSON, or an error.
type handlerFunc func(w http.ResponseWriter, r *http.Request) (any, error)

func newHTTPServer(a *Agent, ln net.Listener) *HTTPServer {
	h := &HTTPServer{srv: a.server, agent: a, logger: a.logger.Named("http"), mux: http.NewServeMux(), ln: ln}
	if a.client != nil {
		h.allocs = a.client
	}
	h.routes()
	h.debugRoutes()
	h.http = &http.Server{Handler: h.mux, ReadHeaderTimeout: 10 * time.Second}
	return h
}

func (h *HTTPServer) serve() {
	if err := h.http.Serve(h.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		h.logger.Error("HTTP server stopped", "error", err)
	}
}

func (h *HTTPServer) shutdown(ctx context.Context) error { return h.http.Shutdown(ctx) }

func (h *HTTPServer) routes() {
	h.handle("GET /v1/jobs", h.jobsList)
	h.handle("PUT /v1/jobs", h.jobsRegister)
	h.handle("POST /v1/jobs", h.jobsRegister)
	h.handle("PUT /v1/jobs/parse", h.jobsParse)
	h.handle("POST /v1/jobs/parse", h.jobsParse)
	h.handle("PUT /v1/validate/job", h.validateJob)
	h.handle("POST /v1/validate/job", h.validateJob)
	h.handle("GET /v1/job/{id}", h.jobGet)
	h.handle("PUT /v1/job/{id}", h.jobsRegister)
	h.handle("POST /v1/job/{id}", h.jobsRegister)
	h.handle("DELETE /v1/job/{id}", h.jobDeregister)
	h.handle("GET /v1/job/{id}/allocations", h.jobAllocations)
	h.handle("GET /v1/job/{id}/evaluations", h.jobEvaluations)
	h.handle("GET /v1/job/{id}/summary", h.jobSummary)
	h.dispatchRoutes()
	h.jobPlanRoutes()
	h.handle("GET /v1/allocations", h.allocsList)
	h.handle("GET /v1/allocation/{id}", h.allocGet)
	h.handle("GET /v1/evaluations", h.evalsList)
	h.handle("GET /v1/evaluation/{id}", h.evalGet)
	h.handle("GET /v1/evaluation/{id}/allocations", h.evalAllocations)
	h.handle("GET /v1/nodes", h.nodesList)
	h.handle("GET /v1/node/{id}", h.nodeGet)
	h.handle("GET /v1/node/{id}/allocations", h.nodeAllocations)
	h.nodeDrainRoutes()
	h.handle("GET /v1/status/leader", h.statusLeader)
	h.handle("GET /v1/status/peers", h.statusPeers)
	h.handle("GET /v1/regions", h.regions)
	h.handle("GET /v1/agent/self", h.agentSelf)
	h.handle("GET /v1/agent/health", h.agentHealth)
	h.mux.HandleFunc("GET /v1/client/fs/logs/{alloc}", h.logs)
	h.allocOpRoutes()
	h.allocExecFSRoutes()
	h.nodePoolRoutes()
	h.schedulerConfigRoutes()
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, fmt.Sprintf("no handler for %s %s", r.Method, r.URL.Path), http.StatusNotFound)
	})
}

// handle wraps fn: it sets Nomad's cluster headers, encodes the result and
// turns errors into status codes with a plain-text body, as Nomad does.
func (h *HTTPServer) handle(pattern string, fn handlerFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		h.setClusterHeaders(w)
		out, err := fn(w, r)
		if err != nil {
			code := http.StatusInternalServerError
			var he *httpError
			if errors.As(err, &he) {
				code = he.code
			}
			if code >= 500 {
				h.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
			}
			http.Error(w, err.Error(), code)
			return
		}
		if w.Header().Get("X-Nomad-Index") == "" && h.srv != nil {
			setIndex(w, h.srv.State().LatestIndex())
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		if _, ok := r.URL.Query()["pretty"]; ok {
			enc.SetIndent("", "    ")
		}
		if err := enc.Encode(out); err != nil {
			h.logger.Debug("write response", "path", r.URL.Path, "error", err)
		}
	})
}

func (h *HTTPServer) setClusterHeaders(w http.ResponseWriter) {
	if h.srv == nil {
		return
	}
	w.Header().Set("X-Nomad-KnownLeader", strconv.FormatBool(h.srv.Leader() != ""))
	w.Header().Set("X-Nomad-LastContact", strconv.FormatInt(h.srv.LastContact().Milliseconds(), 10))
}

func setIndex(w http.ResponseWriter, index uint64) {
	if index == 0 {
		index = 1 // Nomad never reports 0: clients treat it as "no index"
	}
	w.Header().Set("X-Nomad-Index", strconv.FormatUint(index, 10))
}

// queryOptions are the common read parameters.
type queryOptions struct {
	minIndex  uint64
	wait      time.Duration
	prefix    string
	namespace string
	stale     bool
}

func parseQuery(r *http.Request) (*queryOptions, error) {
	q := r.URL.Query()
	_, stale := q["stale"]
	opts := &queryOptions{prefix: q.Get("prefix"), namespace: q.Get("namespace"), stale: stale}
	if opts.namespace == "" {
		opts.namespace = structs.DefaultNamespace
	}
	if v := q.Get("index"); v != "" {
		idx, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid index %q: %v", v, err)
		}
		opts.minIndex = idx
	}
	opts.wait = defaultBlockingWait
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			// Nomad accepts bare numbers as milliseconds.
			ms, nerr := strconv.ParseInt(v, 10, 64)
			if nerr != nil {
				return nil, errorf(http.StatusBadRequest, "invalid wait %q: %v", v, err)
			}
			d = time.Duration(ms) * time.Millisecond
		}
		opts.wait = d
	}
	if opts.wait > maxBlockingWait {
		opts.wait = maxBlockingWait
	}
	return opts, nil
}

// blockingRead runs query as a blocking query for the request and sets the
// index header.
func (h *HTTPServer) blockingRead(w http.ResponseWriter, r *http.Request, query func(q *queryOptions, snap *state.Snapshot) (uint64, error)) error {
	if h.srv == nil {
		return errorf(http.StatusNotImplemented, "this agent runs no server; send cluster queries to a server agent")
	}
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	// A little jitter, as Nomad adds, spreads out clients that all woke
	// together.
	wait := q.wait + q.wait/16
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	if !q.stale {
		// Without ?stale a follower first catches up with the leader's
		// commit index, so it never answers with older data than the
		// leader would.
		if err := h.srv.ConsistentRead(ctx); err != nil {
			return errorf(http.StatusInternalServerError, "%v", err)
		}
	}
	index, err := h.srv.State().BlockingQuery(ctx, q.minIndex, func(snap *state.Snapshot) (uint64, error) {
		return query(q, snap)
	})
	if err != nil {
		return err
	}
	setIndex(w, index)
	return nil
}

// notFound answers 404 with Nomad's wording ("job not found").
func notFound(what string) error {
	return errorf(http.StatusNotFound, "%s not found", what)
}
