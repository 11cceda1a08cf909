// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/server"
)

// This file serves the cluster-operation endpoints, with Nomad's paths and
// JSON shapes: the server member list, the raft peer set, peer removal and
// snapshots. Reads without ?stale are made consistent first (see
// server.ConsistentRead).

// consistentReadWait bounds how long a non-stale read waits for this
// server to catch up with the leader.
const consistentReadWait = 10 * time.Second

// operatorRoutes adds the endpoints to the mux; Start calls it before the
// server starts serving.
func (h *HTTPServer) operatorRoutes() {
	h.handle("GET /v1/agent/members", h.agentMembers)
	h.handle("GET /v1/operator/raft/configuration", h.raftConfiguration)
	h.handle("DELETE /v1/operator/raft/peer", h.raftRemovePeer)
	h.mux.HandleFunc("GET /v1/operator/snapshot", h.snapshotSave)
	h.handle("PUT /v1/operator/snapshot", h.snapshotRestore)
	h.handle("POST /v1/operator/snapshot", h.snapshotRestore)
}

func (h *HTTPServer) needServer() error {
	if h.srv == nil {
		return errorf(http.StatusNotImplemented, "this agent runs no server; send operator requests to a server agent")
	}
	return nil
}

// consistent makes a read see every acknowledged write, unless ?stale.
func (h *HTTPServer) consistent(r *http.Request) error {
	if _, stale := r.URL.Query()["stale"]; stale {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), consistentReadWait)
	defer cancel()
	if err := h.srv.ConsistentRead(ctx); err != nil {
		return errorf(http.StatusInternalServerError, "%v", err)
	}
	return nil
}

// agentMembers answers GET /v1/agent/members: the servers this agent's
// server knows, as serf members with Nomad's tags.
func (h *HTTPServer) agentMembers(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := h.needServer(); err != nil {
		return nil, err
	}
	out := &api.ServerMembers{
		ServerName:   h.srv.NodeName(),
		ServerRegion: h.srv.Region(),
		ServerDC:     h.srv.Datacenter(),
	}
	for _, m := range h.srv.Members() {
		out.Members = append(out.Members, memberJSON(m))
	}
	return out, nil
}

func memberJSON(m server.Member) *api.AgentMember {
	serfHost, serfPort, _ := net.SplitHostPort(m.SerfAddr)
	_, rpcPort, _ := net.SplitHostPort(m.RPCAddr)
	port, _ := strconv.ParseUint(serfPort, 10, 16)
	if serfHost == "" {
		serfHost, _, _ = net.SplitHostPort(m.RPCAddr)
	}
	return &api.AgentMember{
		Name:   m.Name + "." + m.Region,
		Addr:   serfHost,
		Port:   uint16(port),
		Status: m.Status,
		Tags: map[string]string{
			"role":     "nomad",
			"region":   m.Region,
			"dc":       m.Datacenter,
			"build":    m.Build,
			"id":       m.ID,
			"port":     rpcPort,
			"rpc_addr": m.RPCAddr,
			"expect":   strconv.Itoa(m.BootstrapExpect),
			"raft_vsn": "3",
		},
		ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2,
		DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
	}
}

// raftConfiguration answers GET /v1/operator/raft/configuration.
func (h *HTTPServer) raftConfiguration(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := h.needServer(); err != nil {
		return nil, err
	}
	if err := h.consistent(r); err != nil {
		return nil, err
	}
	cfg, err := h.srv.RaftConfiguration()
	if err != nil {
		return nil, err
	}
	out := &api.RaftConfiguration{Index: cfg.Index, Servers: []*api.RaftServer{}}
	for _, s := range cfg.Servers {
		out.Servers = append(out.Servers, &api.RaftServer{
			ID: s.ID, Node: s.Node, Address: s.Address, Leader: s.Leader, Voter: s.Voter, RaftProtocol: s.RaftProtocol,
		})
	}
	setIndex(w, cfg.Index)
	return out, nil
}

// raftRemovePeer answers DELETE /v1/operator/raft/peer?id=|?address=.
func (h *HTTPServer) raftRemovePeer(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := h.needServer(); err != nil {
		return nil, err
	}
	q := r.URL.Query()
	id, addr := q.Get("id"), q.Get("address")
	if (id == "") == (addr == "") {
		return nil, errorf(http.StatusBadRequest, "must specify either ?id with the server's ID or ?address with IP:port of peer to remove")
	}
	if err := h.srv.RemoveRaftPeer(id, addr); err != nil {
		if errors.Is(err, server.ErrPeerNotFound) || isRemoteNotFound(err) {
			return nil, errorf(http.StatusBadRequest, "%v", err)
		}
		return nil, err
	}
	return nil, nil
}

// isRemoteNotFound recognises ErrPeerNotFound after it crossed RPC (from
// the leader) as text.
func isRemoteNotFound(err error) bool {
	return strings.Contains(err.Error(), server.ErrPeerNotFound.Error())
}

// snapshotSave answers GET /v1/operator/snapshot with an archive and its
// Digest header (sha-256, base64), which Nomad's Go client verifies.
func (h *HTTPServer) snapshotSave(w http.ResponseWriter, r *http.Request) {
	h.setClusterHeaders(w)
	if err := h.needServer(); err != nil {
		http.Error(w, err.Error(), http.StatusNotImplemented)
		return
	}
	if err := h.consistent(r); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	info, err := h.srv.SaveSnapshot(&buf)
	if err != nil {
		h.logger.Error("snapshot save failed", "error", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(buf.Bytes())
	w.Header().Set("Digest", "sha-256="+base64.StdEncoding.EncodeToString(sum[:]))
	w.Header().Set("Content-Type", "application/octet-stream")
	setIndex(w, info.Index)
	if _, err := io.Copy(w, &buf); err != nil {
		h.logger.Debug("write snapshot", "error", err)
	}
}

// snapshotRestore answers PUT /v1/operator/snapshot.
func (h *HTTPServer) snapshotRestore(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := h.needServer(); err != nil {
		return nil, err
	}
	if err := h.srv.RestoreSnapshot(r.Body); err != nil {
		return nil, err
	}
	return nil, nil
}

// SnapshotInfo describes a snapshot archive (ID, size, index, term,
// version), for `operator snapshot inspect`.
type SnapshotInfo = server.SnapshotInfo

// InspectSnapshot reads and verifies a snapshot archive.
func InspectSnapshot(r io.Reader) (*SnapshotInfo, error) { return server.InspectSnapshot(r) }
