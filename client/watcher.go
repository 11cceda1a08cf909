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

// watchAllocs follows the node's allocations with blocking queries and
// reconciles the alloc runners with them.
func (c *Client) watchAllocs(ctx context.Context) {
	select {
	case <-c.registered:
	case <-ctx.Done():
		return
	}
	var index uint64
	failures := 0
	for {
		node := c.Node()
		started := time.Now()
		resp, err := c.servers.GetClientAllocs(ctx, &structs.NodeAllocsRequest{
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
