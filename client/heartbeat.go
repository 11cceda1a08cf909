// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/droverhq/drover/structs"
)

// Retry pacing for calls to the servers.
const (
	retryBase = time.Second
	retryMax  = 30 * time.Second
)

// backoff returns the wait before retry number attempt (1-based):
// exponential from retryBase, capped at retryMax, with up to 25% jitter so
// a fleet of clients does not retry in step after a server outage.
func backoff(attempt int) time.Duration {
	d := retryBase
	for i := 1; i < attempt && d < retryMax; i++ {
		d *= 2
	}
	d = min(d, retryMax)
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}

// heartbeatInterval is when to send the next heartbeat for a TTL: about
// half of it (40–60%), so one lost heartbeat does not mark the node down,
// jittered so clients spread out.
func heartbeatInterval(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		ttl = DefaultHeartbeatTTL
	}
	base := ttl * 2 / 5
	return base + time.Duration(rand.Int64N(int64(ttl)/5+1))
}

// sleepCtx waits d or until ctx ends; it reports whether the full wait
// happened.
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

// requestRegister asks the heartbeat loop to register the node again, e.g.
// after its fingerprint changed or a server forgot it.
func (c *Client) requestRegister() {
	select {
	case c.registerCh <- struct{}{}:
	default:
	}
}

// registerLoop registers the node, then heartbeats until ctx ends,
// registering again whenever asked to or told the node is unknown.
func (c *Client) registerLoop(ctx context.Context) {
	for {
		ttl, ok := c.register(ctx)
		if !ok {
			return
		}
		c.registeredOnce.Do(func() { close(c.registered) })
		if !c.heartbeat(ctx, ttl) {
			return
		}
	}
}

// register calls Register until it succeeds or ctx ends, and returns the
// heartbeat TTL the servers granted.
func (c *Client) register(ctx context.Context) (time.Duration, bool) {
	for attempt := 1; ; attempt++ {
		// Drain a pending request: this registration satisfies it.
		select {
		case <-c.registerCh:
		default:
		}
		node := c.Node()
		node.Status = structs.NodeStatusReady
		node.StatusUpdatedAt = time.Now().Unix()
		resp, err := c.servers.Register(ctx, &structs.NodeRegisterRequest{Node: node})
		if err == nil {
			c.mu.Lock()
			c.node.Status = structs.NodeStatusReady
			c.node.StatusUpdatedAt = node.StatusUpdatedAt
			c.mu.Unlock()
			c.logger.Info("node registered", "node_id", node.ID, "heartbeat_ttl", resp.HeartbeatTTL)
			return resp.HeartbeatTTL, true
		}
		if ctx.Err() != nil {
			return 0, false
		}
		wait := backoff(attempt)
		c.logger.Error("failed to register node", "error", err, "retry_in", wait)
		if !sleepCtx(ctx, wait) {
			return 0, false
		}
	}
}

// heartbeat keeps the node alive. It returns true when the node must
// register again, false when ctx ended.
func (c *Client) heartbeat(ctx context.Context, ttl time.Duration) bool {
	failures := 0
	next := heartbeatInterval(ttl)
	for {
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-c.registerCh:
			t.Stop()
			return true
		case <-t.C:
		}
		node := c.Node()
		resp, err := c.servers.UpdateStatus(ctx, &structs.NodeUpdateStatusRequest{
			NodeID: node.ID, SecretID: node.SecretID, Status: structs.NodeStatusReady,
		})
		switch {
		case err == nil:
			failures = 0
			if resp.HeartbeatTTL > 0 {
				ttl = resp.HeartbeatTTL
			}
			c.heartbeats.Add(1)
			next = heartbeatInterval(ttl)
		case ctx.Err() != nil:
			return false
		case isUnknownNode(err):
			c.logger.Warn("servers do not know this node, registering again", "error", err)
			return true
		default:
			failures++
			// Retry soon, but never later than the next regular beat.
			next = min(backoff(failures), heartbeatInterval(ttl))
			c.logger.Error("heartbeat failed", "error", err, "retry_in", next)
		}
	}
}
