// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"time"

	"github.com/droverhq/drover/client/allocrunner"
	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/structs"
)

// minQueryInterval paces the alloc watcher when a server answers a blocking
// query at once without progress, so a misbehaving server cannot make the
// client spin.
const minQueryInterval = 100 * time.Millisecond

// watchAllocs follows the node's allocations with blocking queries of the
// pull protocol and reconciles the alloc runners with them.
func (c *Client) watchAllocs(ctx context.Context) {
	select {
	case <-c.registered:
	case <-ctx.Done():
		return
	}
	var index uint64
	failures := 0
	pull := &allocPull{puller: c.servers, have: map[string]*structs.Allocation{}}
	for {
		node := c.Node()
		started := time.Now()
		resp, err := pull.fetch(ctx, &structs.NodeAllocsRequest{
			NodeID: node.ID, SecretID: node.SecretID, MinIndex: index, MaxWait: c.cfg.AllocsMaxWait,
		})
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			if isUnknownNode(err) {
				c.requestRegister()
			}
			wait := backoff(failures)
			c.logger.Error("failed to fetch allocations", "error", err, "retry_in", wait)
			if !sleepCtx(ctx, wait) {
				return
			}
			continue
		}
		failures = 0
		c.runAllocs(resp.Allocs)
		if resp.Index <= index && time.Since(started) < minQueryInterval {
			if !sleepCtx(ctx, minQueryInterval) {
				return
			}
		}
		index = resp.Index
	}
}

// allocPull follows the node's allocations with the pull protocol
// (AllocPuller) and keeps the latest copy of each, so that fetch answers
// with the node's whole list, having transferred only what changed. It is
// used by watchAllocs alone.
type allocPull struct {
	puller AllocPuller
	have   map[string]*structs.Allocation
}

func (p *allocPull) fetch(ctx context.Context, req *structs.NodeAllocsRequest) (*structs.NodeAllocsResponse, error) {
	idx, err := p.puller.GetClientAllocIndexes(ctx, req)
	if err != nil {
		return nil, err
	}
	var pull []string
	for id, modify := range idx.Allocs {
		if a, ok := p.have[id]; !ok || modify > a.AllocModifyIndex {
			pull = append(pull, id)
		}
	}
	for id := range p.have {
		if _, ok := idx.Allocs[id]; !ok {
			delete(p.have, id) // garbage collected
		}
	}
	if len(pull) > 0 {
		got, err := p.puller.GetAllocs(ctx, &structs.AllocsGetRequest{
			NodeID: req.NodeID, SecretID: req.SecretID, AllocIDs: pull, MinIndex: idx.Index,
		})
		if err != nil {
			return nil, err
		}
		for _, a := range got.Allocs {
			p.have[a.ID] = a
		}
		for _, id := range pull {
			if _, ok := p.have[id]; !ok {
				// Listed but gone by the time it was pulled: the next
				// query no longer lists it either.
				delete(idx.Allocs, id)
			}
		}
	}
	resp := &structs.NodeAllocsResponse{Index: idx.Index, Allocs: make([]*structs.Allocation, 0, len(idx.Allocs))}
	for id := range idx.Allocs {
		if a, ok := p.have[id]; ok {
			resp.Allocs = append(resp.Allocs, a)
		}
	}
	return resp, nil
}

// runAllocs diffs the servers' view against the running alloc runners: new
// allocations start, changed ones (by AllocModifyIndex or desired status)
// are handed over, and ones the servers no longer list (garbage collected)
// are stopped and destroyed.
func (c *Client) runAllocs(allocs []*structs.Allocation) {
	seen := make(map[string]bool, len(allocs))
	var start []*allocrunner.AllocRunner
	var update []func()
	var destroy []*allocrunner.AllocRunner

	c.mu.Lock()
	for _, a := range allocs {
		seen[a.ID] = true
		ar, ok := c.allocs[a.ID]
		if !ok {
			if c.invalid[a.ID] || a.TerminalStatus() {
				// Finished before we saw it (or before an agent
				// restart): there is nothing to run.
				continue
			}
			if lostLocally(a) {
				c.logger.Error("allocation already ran on this node but is missing from the local state: reporting it failed",
					"alloc_id", a.ID, "client_status", a.ClientStatus)
				c.invalid[a.ID] = true
				c.syncer.Report(lostUpdate(a))
				continue
			}
			ar, err := c.allocRunner(a, nil)
			if err != nil {
				c.logger.Error("cannot run allocation", "alloc_id", a.ID, "error", err)
				c.invalid[a.ID] = true
				c.syncer.Report(&structs.Allocation{
					ID: a.ID, ClientStatus: structs.AllocClientStatusFailed, ClientDescription: err.Error(),
				})
				continue
			}
			c.allocs[a.ID] = ar
			c.modIndex[a.ID] = a.AllocModifyIndex
			start = append(start, ar)
			continue
		}
		if a.AllocModifyIndex > c.modIndex[a.ID] || a.DesiredStatus != ar.Alloc().DesiredStatus {
			c.modIndex[a.ID] = a.AllocModifyIndex
			update = append(update, func() { ar.Update(a) })
		}
	}
	for id, ar := range c.allocs {
		if !seen[id] {
			delete(c.allocs, id)
			delete(c.modIndex, id)
			destroy = append(destroy, ar)
		}
	}
	for id := range c.invalid {
		if !seen[id] {
			delete(c.invalid, id)
		}
	}
	c.mu.Unlock()

	for _, ar := range start {
		c.logger.Info("starting allocation", "alloc_id", ar.ID())
		go ar.Run()
	}
	for _, u := range update {
		u()
	}
	for _, ar := range destroy {
		c.logger.Info("allocation garbage collected, destroying", "alloc_id", ar.ID())
		ar.Destroy()
		c.destroying.Go(func() { <-ar.DestroyCh() })
	}
}

// allocRunner builds the runner of a; restore, if not nil, is what the
// local state held of its tasks. c.mu must be held.
func (c *Client) allocRunner(a *structs.Allocation, restore map[string]*taskrunner.Restore) (*allocrunner.AllocRunner, error) {
	return allocrunner.New(allocrunner.Config{
		Alloc:     a,
		AllocRoot: allocRoot(c.cfg.DataDir),
		Node:      c.node.Copy(),
		Drivers:   c.cfg.Drivers,
		HostEnv:   c.hostEnv,
		OnUpdate:  c.syncer.Report,
		Store:     c.state,
		Restore:   restore,
		Logger:    c.logger,
	})
}
