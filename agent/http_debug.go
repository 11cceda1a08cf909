// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"net/http/pprof"
)

// debugRoutes serves Go's runtime profiles under /debug/pprof/ when the
// agent runs with enable_debug (as Nomad does): `go tool pprof
// http://127.0.0.1:4646/debug/pprof/profile` then profiles a live agent,
// which is how the scheduler's throughput figures were investigated.
// They stay off by default: a profile exposes the process's internals.
func (h *HTTPServer) debugRoutes() {
	if h.agent == nil || h.agent.cfg == nil || !h.agent.cfg.EnableDebug {
		return
	}
	h.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	h.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	h.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	h.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	h.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
