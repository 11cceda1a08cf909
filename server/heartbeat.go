// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/droverhq/drover/structs"
)

// heartbeats keeps, on the leader, one timer per live node. A node whose
// timer fires is marked down and every job with allocations on it is
// evaluated. Heartbeats that reach a follower are forwarded to the leader
// (NodeEndpoint.UpdateStatus), so only the leader's timers count.
type heartbeats struct {
	srv *Server

	mu     sync.Mutex
	timers map[string]*time.Timer
}

func newHeartbeats(s *Server) *heartbeats {
	return &heartbeats{srv: s, timers: map[string]*time.Timer{}}
}

// ttl is the heartbeat interval handed to clients: it grows with the number
// of nodes so the cluster stays under MaxHeartbeatsPerSecond, and is
// jittered so clients spread out.
func (h *heartbeats) ttl(nodes int) time.Duration {
	cfg := h.srv.cfg
	ttl := time.Duration(float64(nodes) / cfg.MaxHeartbeatsPerSecond * float64(time.Second))
	if ttl < cfg.MinHeartbeatTTL {
		ttl = cfg.MinHeartbeatTTL
	}
	return ttl + time.Duration(rand.Int64N(int64(ttl)/2+1))
}

// initialize arms timers for every live node after a leader election, with
// a fresh window (a full TTL for the whole cluster plus the grace period)
// so no node is declared down for the election's gap.
func (h *heartbeats) initialize(nodes []*structs.Node) {
	live := 0
	for _, n := range nodes {
		if n.Status != structs.NodeStatusDown {
			live++
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	window := h.ttl(live) + h.srv.cfg.HeartbeatGrace
	for _, n := range nodes {
		if n.Status == structs.NodeStatusDown {
			continue
		}
		id := n.ID
		if t, ok := h.timers[id]; ok {
			t.Reset(window)
		} else {
			h.timers[id] = time.AfterFunc(window, func() { h.expired(id) })
		}
	}
}

// reset re-arms the node's timer and returns the TTL to give the client.
func (h *heartbeats) reset(nodeID string) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	// The timers are exactly the live nodes (initialize arms one for every
	// node not down), so their number, counting this node once, is the
	// node count the rate target divides.
	nodes := len(h.timers)
	if _, ok := h.timers[nodeID]; !ok {
		nodes++
	}
	ttl := h.ttl(nodes)
	deadline := ttl + h.srv.cfg.HeartbeatGrace
	if t, ok := h.timers[nodeID]; ok {
		t.Reset(deadline)
	} else {
		h.timers[nodeID] = time.AfterFunc(deadline, func() { h.expired(nodeID) })
	}
	return ttl
}

func (h *heartbeats) clear() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, t := range h.timers {
		t.Stop()
		delete(h.timers, id)
	}
}

// expired marks the node down and evaluates the jobs it ran.
func (h *heartbeats) expired(nodeID string) {
	h.mu.Lock()
	delete(h.timers, nodeID)
	h.mu.Unlock()
	s := h.srv
	if !s.IsLeader() {
		return
	}
	snap := s.state.Snapshot()
	allocs, err := snap.AllocsByNode(nodeID)
	if err != nil {
		s.logger.Error("heartbeat expiry: read allocations", "node_id", nodeID, "error", err)
		return
	}
	now := time.Now()
	update := &structs.NodeStatusUpdate{NodeID: nodeID, Status: structs.NodeStatusDown, UpdatedAt: now.Unix()}
	seen := map[structs.NamespacedID]bool{}
	for _, a := range allocs {
		key := structs.NamespacedID{ID: a.JobID, Namespace: a.Namespace}
		if a.TerminalStatus() || seen[key] {
			continue
		}
		seen[key] = true
		job, err := snap.JobByID(a.Namespace, a.JobID)
		if err != nil || job == nil {
			continue
		}
		e := structs.NewEval(job, structs.EvalTriggerNodeUpdate, now)
		e.NodeID = nodeID
		update.Evals = append(update.Evals, e)
	}
	if _, err := s.raftApply(structs.NodeUpdateStatusRequestType, update); err != nil {
		s.logger.Error("heartbeat expiry: mark node down", "node_id", nodeID, "error", err)
		return
	}
	s.logger.Warn("node missed its heartbeat and is down", "node_id", nodeID)
}
