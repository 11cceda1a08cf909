// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/structs"
)

// allocSyncer batches allocation status updates to the servers. Task events
// come in bursts (a restart is four events); sending the latest state of
// each allocation every interval keeps the servers' write rate bounded
// without losing the final state: on error the batch is kept and merged
// with anything newer.
//
// Before a batch goes out, durable (when set) makes the local state of
// everything reported so far durable: the servers must never know more of
// a task than the local state would restore after a kill -9, or a
// restarted agent would report the task's history going backwards.
type allocSyncer struct {
	servers  Servers
	node     func() *structs.Node
	interval time.Duration
	logger   hclog.Logger
	durable  func(context.Context) error

	mu      sync.Mutex
	pending map[string]*structs.Allocation
}

func newAllocSyncer(servers Servers, node func() *structs.Node, interval time.Duration, logger hclog.Logger) *allocSyncer {
	return &allocSyncer{
		servers:  servers,
		node:     node,
		interval: interval,
		logger:   logger.Named("alloc_sync"),
		pending:  map[string]*structs.Allocation{},
	}
}

// Report queues the latest client-side state of an allocation, replacing
// any older one not sent yet.
func (s *allocSyncer) Report(a *structs.Allocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[a.ID] = a
}

// run flushes every interval until ctx ends.
func (s *allocSyncer) run(ctx context.Context) {
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if err := s.flush(ctx); err != nil {
			failures++
			s.logger.Error("failed to update allocations", "error", err, "failures", failures)
			// Back off without dropping anything: state keeps coalescing.
			if !sleepCtx(ctx, min(backoff(failures), retryMax)-s.interval) {
				return
			}
			continue
		}
		failures = 0
	}
}

// flush sends everything pending. On failure the batch goes back, unless a
// newer state of the same allocation arrived meanwhile.
func (s *allocSyncer) flush(ctx context.Context) error {
	s.mu.Lock()
	if len(s.pending) == 0 {
		s.mu.Unlock()
		return nil
	}
	batch := s.pending
	s.pending = map[string]*structs.Allocation{}
	s.mu.Unlock()
	if s.durable != nil {
		if err := s.durable(ctx); err != nil {
			// The servers still get the news: losing the local copy is
			// the lesser harm.
			s.logger.Warn("allocation updates sent before the local state was saved", "error", err)
		}
	}

	allocs := make([]*structs.Allocation, 0, len(batch))
	for _, a := range batch {
		allocs = append(allocs, a)
	}
	node := s.node()
	_, err := s.servers.UpdateAllocs(ctx, &structs.AllocUpdateRequest{
		NodeID: node.ID, SecretID: node.SecretID, Allocs: allocs,
	})
	if err != nil {
		s.mu.Lock()
		for id, a := range batch {
			if _, newer := s.pending[id]; !newer {
				s.pending[id] = a
			}
		}
		s.mu.Unlock()
		return err
	}
	return nil
}
