// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package simnode

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/droverhq/drover/structs"
)

// retryWait paces a simulated node after a failed call.
const retryWait = time.Second

// minQueryInterval keeps a node from spinning when a server answers a
// blocking query at once without progress (as the real client does).
const minQueryInterval = 100 * time.Millisecond

// simNode is one simulated client: the real client's heartbeat, alloc
// watcher and alloc syncer loops with the alloc runners left out.
type simNode struct {
	cluster *Cluster
	node    *structs.Node
	rpc     *conn

	ttl time.Duration

	// known maps the allocations the servers listed to the
	// AllocModifyIndex last pulled; touched only by watchLoop.
	known map[string]uint64
	// accepted are the allocations reported running; touched only by
	// watchLoop.
	accepted map[string]bool

	mu      sync.Mutex
	pending map[string]*structs.Allocation
	kick    chan struct{}
}

func (n *simNode) register(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		var resp structs.NodeUpdateResponse
		err := n.rpc.call(ctx, "Node.Register", &structs.NodeRegisterRequest{Node: n.node}, &resp)
		if err == nil {
			n.ttl = resp.HeartbeatTTL
			return n.rpc.hello(ctx, n.node.ID, n.node.SecretID)
		}
		if attempt == 3 || ctx.Err() != nil {
			return err
		}
		time.Sleep(retryWait)
	}
}

// heartbeatInterval is the real client's: 40–60% of the TTL.
func heartbeatInterval(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	return ttl*2/5 + time.Duration(rand.Int64N(int64(ttl)/5+1))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (n *simNode) heartbeatLoop(ctx context.Context) {
	defer n.cluster.wg.Done()
	ttl := n.ttl
	for sleepCtx(ctx, heartbeatInterval(ttl)) {
		var resp structs.NodeUpdateResponse
		err := n.rpc.call(ctx, "Node.UpdateStatus", &structs.NodeUpdateStatusRequest{
			NodeID: n.node.ID, SecretID: n.node.SecretID, Status: structs.NodeStatusReady,
		}, &resp)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			n.cluster.fail("Node.UpdateStatus", err)
			ttl = 2 * retryWait // retry soon: a lost beat marks the node down
			continue
		}
		n.cluster.heartbeats.Add(1)
		if resp.HeartbeatTTL > 0 {
			ttl = resp.HeartbeatTTL
		}
	}
}

// watchLoop follows the node's allocations as the real client does: a
// blocking Node.GetClientAllocIndexes for the IDs and AllocModifyIndex of
// the node's allocations, then Node.GetAllocs for the changed ones only;
// every new allocation the servers want running is queued.
func (n *simNode) watchLoop(ctx context.Context) {
	defer n.cluster.wg.Done()
	var index uint64
	for ctx.Err() == nil {
		started := time.Now()
		var resp structs.NodeClientAllocsResponse
		err := n.rpc.call(ctx, "Node.GetClientAllocIndexes", &structs.NodeAllocsRequest{
			NodeID: n.node.ID, SecretID: n.node.SecretID, MinIndex: index, MaxWait: n.cluster.cfg.AllocsMaxWait,
		}, &resp)
		if err == nil {
			err = n.pull(ctx, resp.Allocs, resp.Index)
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			n.cluster.fail("Node.GetClientAllocIndexes", err)
			sleepCtx(ctx, retryWait)
			continue
		}
		n.cluster.queries.Add(1)
		if resp.Index <= index && time.Since(started) < minQueryInterval {
			sleepCtx(ctx, minQueryInterval)
		}
		index = resp.Index
	}
}

// pull fetches the allocations whose AllocModifyIndex changed since the
// last pull and accepts them; allocations no longer listed are forgotten.
func (n *simNode) pull(ctx context.Context, listed map[string]uint64, index uint64) error {
	var ids []string
	for id, mi := range listed {
		if known, ok := n.known[id]; !ok || mi > known {
			ids = append(ids, id)
		}
	}
	for id := range n.known {
		if _, ok := listed[id]; !ok {
			delete(n.known, id)
			delete(n.accepted, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var resp structs.AllocsGetResponse
	err := n.rpc.call(ctx, "Node.GetAllocs", &structs.AllocsGetRequest{
		NodeID: n.node.ID, SecretID: n.node.SecretID, AllocIDs: ids, MinIndex: index,
	}, &resp)
	if err == nil {
		err = resp.AttachJobs()
	}
	if err != nil {
		return err
	}
	for _, a := range resp.Allocs {
		n.known[a.ID] = a.AllocModifyIndex
	}
	n.accept(resp.Allocs)
	return nil
}

// accept queues a running report for each allocation that the servers
// want running and that was not accepted before.
func (n *simNode) accept(allocs []*structs.Allocation) {
	now := time.Now()
	var fresh []*structs.Allocation
	for _, a := range allocs {
		if n.accepted[a.ID] || a.TerminalStatus() || a.DesiredStatus != structs.AllocDesiredStatusRun {
			continue
		}
		n.accepted[a.ID] = true
		states := map[string]*structs.TaskState{}
		if a.Job != nil {
			for _, tg := range a.Job.TaskGroups {
				if tg.Name != a.TaskGroup {
					continue
				}
				for _, t := range tg.Tasks {
					states[t.Name] = &structs.TaskState{State: structs.TaskStateRunning, StartedAt: now}
				}
			}
		}
		fresh = append(fresh, &structs.Allocation{
			ID:                a.ID,
			ClientStatus:      structs.AllocClientStatusRunning,
			ClientDescription: "Tasks are running",
			TaskStates:        states,
		})
	}
	if len(fresh) == 0 {
		return
	}
	n.mu.Lock()
	for _, a := range fresh {
		n.pending[a.ID] = a
	}
	n.mu.Unlock()
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// syncLoop sends queued status updates at most once per SyncInterval,
// batching whatever arrived in between, as the real alloc syncer does; a
// failed batch is kept and merged with newer updates.
func (n *simNode) syncLoop(ctx context.Context) {
	defer n.cluster.wg.Done()
	interval := n.cluster.cfg.SyncInterval
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
		}
		if wait := interval - time.Since(last); wait > 0 && !sleepCtx(ctx, wait) {
			return
		}
		last = time.Now()
		n.mu.Lock()
		batch := make([]*structs.Allocation, 0, len(n.pending))
		for _, a := range n.pending {
			batch = append(batch, a)
		}
		n.pending = map[string]*structs.Allocation{}
		n.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		var resp structs.GenericResponse
		err := n.rpc.call(ctx, "Node.UpdateAlloc", &structs.AllocUpdateRequest{
			NodeID: n.node.ID, SecretID: n.node.SecretID, Allocs: batch,
		}, &resp)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			n.cluster.fail("Node.UpdateAlloc", err)
			n.mu.Lock()
			for _, a := range batch {
				if _, newer := n.pending[a.ID]; !newer {
					n.pending[a.ID] = a
				}
			}
			n.mu.Unlock()
			select {
			case n.kick <- struct{}{}:
			default:
			}
			continue
		}
		n.cluster.markRunning(len(batch))
	}
}
