// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"fmt"
	"time"

	"github.com/droverhq/drover/structs"
)

// maxClientAllocsWait caps how long GetClientAllocIndexes blocks.
const maxClientAllocsWait = 5 * time.Minute

// getAllocsMaxLag is how long GetAllocs waits for this server to catch up
// with the index the client saw.
const getAllocsMaxLag = 5 * time.Second

// NodeEndpoint is the RPC surface clients call: registration, heartbeats,
// their allocations, and their allocations' status. Its methods are served
// over net/rpc and called directly by an in-process client.
type NodeEndpoint struct {
	srv *Server
}

// Node returns the endpoint for in-process callers.
func (s *Server) Node() *NodeEndpoint { return &NodeEndpoint{srv: s} }

// Register registers or re-registers a node and arms its heartbeat timer.
// Register, UpdateStatus and UpdateAlloc are writes: a follower forwards
// them to the leader, which owns the heartbeat timers.
func (n *NodeEndpoint) Register(req *structs.NodeRegisterRequest, reply *structs.NodeUpdateResponse) error {
	if done, err := n.srv.forward("Node.Register", req, reply); done {
		return err
	}
	node := req.Node
	if node == nil || node.ID == "" {
		return fmt.Errorf("node register: missing node ID")
	}
	if node.SecretID == "" {
		return fmt.Errorf("node register %s: missing node secret ID", node.ID)
	}
	if node.NodePool == structs.NodePoolAll {
		return fmt.Errorf("node register %s: node pool %q is reserved: it holds every node and only jobs may name it, nodes may not join it", node.ID, node.NodePool)
	}
	existing, err := n.srv.state.Snapshot().NodeByID(node.ID)
	if err != nil {
		return err
	}
	if existing != nil && existing.SecretID != node.SecretID {
		return fmt.Errorf("node register %s: node secret ID does not match", node.ID)
	}
	node = node.Copy()
	if node.Status == "" || node.Status == structs.NodeStatusInit || node.Status == structs.NodeStatusDown {
		node.Status = structs.NodeStatusReady
	}
	node.StatusUpdatedAt = time.Now().Unix()
	if node.NodePool == "" {
		node.NodePool = structs.DefaultNodePool
	}
	index, err := n.srv.raftApply(structs.NodeRegisterRequestType, &structs.NodeRegisterRequest{Node: node})
	if err != nil {
		return fmt.Errorf("node register %s: %w", node.ID, err)
	}
	if node.Status == structs.NodeStatusReady {
		if existing == nil || existing.Status != structs.NodeStatusReady {
			n.srv.nodeAvailable(node.ID)
		} else {
			// A re-registration may bring new capacity.
			n.srv.blocked.Unblock()
		}
	}
	n.heartbeatReply(node.ID, index, reply)
	return nil
}

// UpdateStatus is a client's heartbeat. A node that was marked down and
// heartbeats again comes back as ready.
func (n *NodeEndpoint) UpdateStatus(req *structs.NodeUpdateStatusRequest, reply *structs.NodeUpdateResponse) error {
	if done, err := n.srv.forward("Node.UpdateStatus", req, reply); done {
		return err
	}
	node, err := n.authNode(req.NodeID, req.SecretID)
	if err != nil {
		return err
	}
	status := req.Status
	if status == "" {
		status = structs.NodeStatusReady
	}
	index := node.ModifyIndex
	if node.Status != status {
		index, err = n.srv.raftApply(structs.NodeUpdateStatusRequestType, &structs.NodeStatusUpdate{
			NodeID:    node.ID,
			Status:    status,
			UpdatedAt: time.Now().Unix(),
		})
		if err != nil {
			return fmt.Errorf("node %s status: %w", node.ID, err)
		}
		if status == structs.NodeStatusReady {
			n.srv.nodeAvailable(node.ID)
		}
	}
	n.heartbeatReply(node.ID, index, reply)
	return nil
}

// GetClientAllocIndexes returns the IDs of the node's allocations with
// their AllocModifyIndex, blocking until one changes past MinIndex (or
// MaxWait passes); the client pulls the changed ones with GetAllocs. This
// is Nomad's shape of Node.GetClientAllocs.
func (n *NodeEndpoint) GetClientAllocIndexes(req *structs.NodeAllocsRequest, reply *structs.NodeClientAllocsResponse) error {
	index, err := n.blockOnNodeAllocs(req, func(snap *stateSnapshot) error {
		allocs, err := snap.AllocsByNode(req.NodeID)
		if err != nil {
			return err
		}
		reply.Allocs = make(map[string]uint64, len(allocs))
		for _, a := range allocs {
			reply.Allocs[a.ID] = a.AllocModifyIndex
		}
		return nil
	})
	if err != nil {
		return err
	}
	reply.Index = index
	return nil
}

// blockOnNodeAllocs authenticates the node and runs read once the node's
// allocation index passes req.MinIndex. The query watches only the node's
// summary row, whose index is the highest AllocModifyIndex of its
// allocations: it moves only when the servers change what the client
// should do, so neither the client's own status updates nor writes for
// other nodes wake it, and the node's allocations are read once per change
// instead of once per wake-up. A node without allocations reports 0 (the
// store makes it 1): its next query blocks until one is placed.
func (n *NodeEndpoint) blockOnNodeAllocs(req *structs.NodeAllocsRequest, read func(snap *stateSnapshot) error) (uint64, error) {
	if _, err := n.authNode(req.NodeID, req.SecretID); err != nil {
		return 0, err
	}
	wait := req.MaxWait
	if wait <= 0 || wait > maxClientAllocsWait {
		wait = maxClientAllocsWait
	}
	ctx, cancel := context.WithTimeout(n.srv.ctx, wait)
	defer cancel()
	var readAt *stateSnapshot
	index, err := n.srv.state.BlockingQuery(ctx, req.MinIndex, func(snap *stateSnapshot) (uint64, error) {
		readAt = snap
		return snap.NodeAllocIndex(req.NodeID)
	})
	if err == nil {
		err = read(readAt)
	}
	if err != nil {
		return 0, fmt.Errorf("allocations of node %s: %w", req.NodeID, err)
	}
	return index, nil
}

// GetAllocs returns the calling node's allocations with the given IDs, the
// pull half of GetClientAllocIndexes. IDs that no longer exist or belong
// to another node are left out. The client names allocations it saw at
// req.MinIndex, possibly on another server: this one first waits (briefly)
// until it has applied that index.
func (n *NodeEndpoint) GetAllocs(req *structs.AllocsGetRequest, reply *structs.AllocsGetResponse) error {
	if _, err := n.authNode(req.NodeID, req.SecretID); err != nil {
		return err
	}
	if req.MinIndex > 0 {
		ctx, cancel := context.WithTimeout(n.srv.ctx, getAllocsMaxLag)
		err := n.srv.state.WaitForIndex(ctx, req.MinIndex)
		cancel()
		if err != nil {
			return fmt.Errorf("allocations of node %s: %w", req.NodeID, err)
		}
	}
	snap := n.srv.state.Snapshot()
	reply.Allocs = make([]*structs.Allocation, 0, len(req.AllocIDs))
	for _, id := range req.AllocIDs {
		a, err := snap.AllocByID(id)
		if err != nil {
			return fmt.Errorf("allocation %s of node %s: %w", id, req.NodeID, err)
		}
		if a != nil && a.NodeID == req.NodeID {
			reply.Allocs = append(reply.Allocs, a)
		}
	}
	index, err := snap.NodeAllocIndex(req.NodeID)
	if err != nil {
		return fmt.Errorf("allocations of node %s: %w", req.NodeID, err)
	}
	reply.Index = max(index, 1)
	reply.ShareJobs()
	return nil
}

// UpdateAlloc records client-side status of allocations. Allocations that
// finished free capacity, so blocked evaluations are retried; ones that
// failed get an evaluation of their job so the scheduler can react. The
// leader commits the updates of all clients calling within 50 ms as one
// raft entry (alloc_update_batch.go) and answers each once it is durable.
func (n *NodeEndpoint) UpdateAlloc(req *structs.AllocUpdateRequest, reply *structs.GenericResponse) error {
	if done, err := n.srv.forward("Node.UpdateAlloc", req, reply); done {
		return err
	}
	if _, err := n.authNode(req.NodeID, req.SecretID); err != nil {
		return err
	}
	snap := n.srv.state.Snapshot()
	now := time.Now()
	update := &structs.AllocClientUpdate{}
	freed := false
	evalFor := map[structs.NamespacedID]bool{}
	for _, a := range req.Allocs {
		existing, err := snap.AllocByID(a.ID)
		if err != nil {
			return err
		}
		if existing == nil || existing.NodeID != req.NodeID {
			continue
		}
		update.Allocs = append(update.Allocs, &structs.Allocation{
			ID:                a.ID,
			ClientStatus:      a.ClientStatus,
			ClientDescription: a.ClientDescription,
			TaskStates:        a.TaskStates,
		})
		if !existing.ClientTerminalStatus() && a.ClientStatus != existing.ClientStatus {
			switch a.ClientStatus {
			case structs.AllocClientStatusComplete, structs.AllocClientStatusFailed, structs.AllocClientStatusLost:
				freed = true
			}
			if a.ClientStatus == structs.AllocClientStatusFailed && existing.DesiredStatus == structs.AllocDesiredStatusRun {
				key := structs.NamespacedID{ID: existing.JobID, Namespace: existing.Namespace}
				if !evalFor[key] && existing.Job != nil {
					evalFor[key] = true
					job, err := snap.JobByID(existing.Namespace, existing.JobID)
					if err == nil && job != nil && !job.Stop {
						update.Evals = append(update.Evals, structs.NewEval(job, structs.EvalTriggerRetryFailedAlloc, now))
					}
				}
			}
		}
	}
	if len(update.Allocs) == 0 {
		reply.Index = n.srv.state.LatestIndex()
		return nil
	}
	index, err := n.srv.allocUpdates.submit(update.Allocs, update.Evals, freed)
	if err != nil {
		return fmt.Errorf("update allocations of node %s: %w", req.NodeID, err)
	}
	reply.Index = index
	return nil
}

// heartbeatReply re-arms the node's heartbeat timer and tells the client
// its TTL and where the servers are.
func (n *NodeEndpoint) heartbeatReply(nodeID string, index uint64, reply *structs.NodeUpdateResponse) {
	reply.HeartbeatTTL = n.srv.heartbeats.reset(nodeID)
	reply.Index = index
	reply.LeaderRPCAddr = n.srv.Leader()
	reply.Servers = n.srv.aliveRPCAddrs()
}

// authNode checks that the node exists and the caller knows its secret.
func (n *NodeEndpoint) authNode(nodeID, secretID string) (*structs.Node, error) {
	node, err := n.srv.state.Snapshot().NodeByID(nodeID)
	if err != nil {
		return nil, err
	}
	if node == nil {
		return nil, fmt.Errorf("node %s: %w", nodeID, ErrUnknownNode)
	}
	if node.SecretID != secretID {
		return nil, fmt.Errorf("node %s: node secret ID does not match", nodeID)
	}
	return node, nil
}
