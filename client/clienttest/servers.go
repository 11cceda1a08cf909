// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package clienttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/droverhq/drover/structs"
)

// ErrNodeNotFound is the fake's answer for an unregistered node. Only its
// text matters to the client, as over RPC.
var ErrNodeNotFound = errors.New("node not found")

// Servers is an in-memory control plane implementing client.Servers
// (with the pull protocol of allocations): it stores nodes and
// allocations, answers blocking queries, and records what clients sent.
type Servers struct {
	// TTL is the heartbeat TTL granted.
	TTL time.Duration

	mu            sync.Mutex
	index         uint64
	changed       chan struct{} // closed and replaced on every alloc change
	nodes         map[string]*structs.Node
	allocs        map[string]*structs.Allocation
	registrations int
	heartbeats    []time.Time
	updates       map[string]*structs.Allocation // latest client update per alloc
	failUpdates   int
	failRegisters int
	pulled        []string // allocation IDs asked of GetAllocs, in order
}

// NewServers returns an empty fake control plane granting ttl.
func NewServers(ttl time.Duration) *Servers {
	return &Servers{
		TTL:     ttl,
		index:   1,
		changed: make(chan struct{}),
		nodes:   map[string]*structs.Node{},
		allocs:  map[string]*structs.Allocation{},
		updates: map[string]*structs.Allocation{},
	}
}

func (s *Servers) bumpLocked() uint64 {
	s.index++
	close(s.changed)
	s.changed = make(chan struct{})
	return s.index
}

// Register implements client.Servers.
func (s *Servers) Register(_ context.Context, req *structs.NodeRegisterRequest) (*structs.NodeUpdateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failRegisters > 0 {
		s.failRegisters--
		return nil, errors.New("no cluster leader")
	}
	if req.Node == nil || req.Node.ID == "" {
		return nil, errors.New("missing node")
	}
	s.nodes[req.Node.ID] = req.Node.Copy()
	s.registrations++
	return &structs.NodeUpdateResponse{HeartbeatTTL: s.TTL, Index: s.index}, nil
}

// UpdateStatus implements client.Servers.
func (s *Servers) UpdateStatus(_ context.Context, req *structs.NodeUpdateStatusRequest) (*structs.NodeUpdateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nodes[req.NodeID]
	if !ok {
		return nil, fmt.Errorf("heartbeat %s: %w", req.NodeID, ErrNodeNotFound)
	}
	if n.SecretID != req.SecretID {
		return nil, errors.New("permission denied")
	}
	n.Status = req.Status
	s.heartbeats = append(s.heartbeats, time.Now())
	return &structs.NodeUpdateResponse{HeartbeatTTL: s.TTL, Index: s.index}, nil
}

// GetClientAllocIndexes implements client.AllocPuller with a real
// blocking query: the IDs and AllocModifyIndex of the node's allocations
// once the fake's index passes req.MinIndex, or the same index after
// req.MaxWait.
func (s *Servers) GetClientAllocIndexes(ctx context.Context, req *structs.NodeAllocsRequest) (*structs.NodeClientAllocsResponse, error) {
	timer := time.NewTimer(req.MaxWait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if _, ok := s.nodes[req.NodeID]; !ok {
			s.mu.Unlock()
			return nil, fmt.Errorf("allocs of %s: %w", req.NodeID, ErrNodeNotFound)
		}
		if s.index > req.MinIndex {
			resp := &structs.NodeClientAllocsResponse{Index: s.index, Allocs: map[string]uint64{}}
			for _, a := range s.allocs {
				if a.NodeID == req.NodeID {
					resp.Allocs[a.ID] = a.AllocModifyIndex
				}
			}
			s.mu.Unlock()
			return resp, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return &structs.NodeClientAllocsResponse{Index: req.MinIndex, Allocs: s.allocIndexes(req.NodeID)}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// allocIndexes is the node's allocation IDs with their AllocModifyIndex.
func (s *Servers) allocIndexes(nodeID string) map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]uint64{}
	for _, a := range s.allocs {
		if a.NodeID == nodeID {
			out[a.ID] = a.AllocModifyIndex
		}
	}
	return out
}

// GetAllocs implements client.AllocPuller: copies of the node's
// allocations among req.AllocIDs (others, and unknown IDs, are left out,
// as the servers do). It records the IDs asked for (Pulled).
func (s *Servers) GetAllocs(_ context.Context, req *structs.AllocsGetRequest) (*structs.AllocsGetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.nodes[req.NodeID]; !ok {
		return nil, fmt.Errorf("allocs of %s: %w", req.NodeID, ErrNodeNotFound)
	}
	s.pulled = append(s.pulled, slices.Clone(req.AllocIDs)...)
	resp := &structs.AllocsGetResponse{Index: s.index}
	for _, id := range req.AllocIDs {
		if a, ok := s.allocs[id]; ok && a.NodeID == req.NodeID {
			resp.Allocs = append(resp.Allocs, a.Copy())
		}
	}
	return resp, nil
}

// UpdateAllocs implements client.Servers.
func (s *Servers) UpdateAllocs(_ context.Context, req *structs.AllocUpdateRequest) (*structs.GenericResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failUpdates > 0 {
		s.failUpdates--
		return nil, errors.New("rpc error: leader lost")
	}
	for _, u := range req.Allocs {
		s.updates[u.ID] = u.Copy()
		if a, ok := s.allocs[u.ID]; ok {
			a.ClientStatus, a.ClientDescription, a.TaskStates = u.ClientStatus, u.ClientDescription, u.TaskStates
		}
	}
	// Client updates do not move AllocModifyIndex, as in Nomad.
	return &structs.GenericResponse{Index: s.index}, nil
}

// AddAlloc places an allocation (on the node it names).
func (s *Servers) AddAlloc(a *structs.Allocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a = a.Copy()
	idx := s.bumpLocked()
	a.CreateIndex, a.ModifyIndex, a.AllocModifyIndex = idx, idx, idx
	s.allocs[a.ID] = a
}

// StopAlloc sets an allocation's desired status to stop.
func (s *Servers) StopAlloc(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.allocs[id]
	idx := s.bumpLocked()
	a.DesiredStatus, a.DesiredDescription = structs.AllocDesiredStatusStop, "alloc is being stopped"
	a.ModifyIndex, a.AllocModifyIndex = idx, idx
}

// GCAlloc forgets an allocation, as garbage collection does.
func (s *Servers) GCAlloc(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.allocs, id)
	s.bumpLocked()
}

// ForgetNode drops a node, as servers that lost their state would.
func (s *Servers) ForgetNode(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.nodes, id)
}

// FailUpdates makes the next n UpdateAllocs calls fail.
func (s *Servers) FailUpdates(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failUpdates = n
}

// FailRegisters makes the next n Register calls fail.
func (s *Servers) FailRegisters(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRegisters = n
}

// Node returns the registered node, or nil.
func (s *Servers) Node(id string) *structs.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[id].Copy()
}

// Registrations counts successful Register calls.
func (s *Servers) Registrations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registrations
}

// Heartbeats returns when each heartbeat arrived.
func (s *Servers) Heartbeats() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.heartbeats...)
}

// ClientUpdate returns the latest status a client reported for an
// allocation, or nil.
func (s *Servers) ClientUpdate(id string) *structs.Allocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates[id].Copy()
}

// Pulled returns the IDs of the allocations clients fetched with
// GetAllocs, in order, one entry per allocation fetched.
func (s *Servers) Pulled() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pulled)
}
