// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"net/http"
	"runtime"
	"strconv"
	"time"
)

func (h *HTTPServer) statusLeader(w http.ResponseWriter, r *http.Request) (any, error) {
	if h.srv == nil {
		return nil, errorf(http.StatusNotImplemented, "this agent runs no server")
	}
	return h.srv.Leader(), nil
}

func (h *HTTPServer) statusPeers(w http.ResponseWriter, r *http.Request) (any, error) {
	if h.srv == nil {
		return nil, errorf(http.StatusNotImplemented, "this agent runs no server")
	}
	return h.srv.Peers()
}

func (h *HTTPServer) regions(w http.ResponseWriter, r *http.Request) (any, error) {
	return []string{h.agent.cfg.Region}, nil
}

func (h *HTTPServer) agentHealth(w http.ResponseWriter, r *http.Request) (any, error) {
	out := map[string]any{}
	if h.srv != nil {
		ok := h.srv.Leader() != ""
		msg := "ok"
		if !ok {
			msg = "no known leader"
		}
		out["server"] = map[string]any{"ok": ok, "message": msg}
		if !ok {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}
	if h.agent.client != nil {
		out["client"] = map[string]any{"ok": true, "message": "ok"}
	}
	return out, nil
}

// agentSelf answers GET /v1/agent/self in Nomad's shape: the effective
// configuration, this agent as a member, and runtime stats.
func (h *HTTPServer) agentSelf(w http.ResponseWriter, r *http.Request) (any, error) {
	cfg := h.agent.cfg
	member := map[string]any{
		"Name":   cfg.NodeName + "." + cfg.Region,
		"Addr":   h.agent.advertiseHost(),
		"Port":   cfg.SerfPort,
		"Status": "alive",
		"Tags": map[string]string{
			"region": cfg.Region,
			"dc":     cfg.Datacenter,
			"build":  Version,
			"role":   "nomad",
		},
	}
	stats := map[string]map[string]string{
		"runtime": {
			"arch":       runtime.GOARCH,
			"os":         runtime.GOOS,
			"version":    runtime.Version(),
			"goroutines": strconv.Itoa(runtime.NumGoroutine()),
			"cpu_count":  strconv.Itoa(runtime.NumCPU()),
		},
		"agent": {"uptime": time.Since(h.agent.started).Round(time.Second).String()},
	}
	if h.srv != nil {
		stats["nomad"] = map[string]string{
			"server":        "true",
			"leader":        strconv.FormatBool(h.srv.IsLeader()),
			"known_regions": "1",
		}
	}
	if c := h.agent.client; c != nil {
		stats["client"] = map[string]string{"node_id": c.NodeID()}
	}
	return map[string]any{
		"config": map[string]any{
			"Region":     cfg.Region,
			"Datacenter": cfg.Datacenter,
			"NodeName":   cfg.NodeName,
			"DataDir":    cfg.DataDir,
			"Version":    map[string]string{"Version": Version},
			"Server":     map[string]any{"Enabled": h.srv != nil},
			"Client":     map[string]any{"Enabled": h.agent.client != nil},
		},
		"member": member,
		"stats":  stats,
	}, nil
}
