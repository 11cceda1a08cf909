// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"sync"
	"time"

	"github.com/droverhq/drover/structs"
)

// allocUpdateWindow is how long the leader gathers clients' allocation
// updates into one raft entry (Nomad's batchUpdateInterval is the same).
// A system job on 5,000 nodes brings 5,000 updates within a second:
// committed one by one, each paid a raft entry, a log write and a state
// transaction; gathered, a few dozen entries carry them all.
const allocUpdateWindow = 50 * time.Millisecond

// maxAllocUpdateBatch commits a batch early once it holds this many
// allocations, bounding one raft entry's size.
const maxAllocUpdateBatch = 8192

// allocUpdateBatcher gathers Node.UpdateAlloc calls on the leader. Every
// caller of one batch waits for the batch's commit and gets its index or
// error: a client hears back only once its update is durable, as before.
type allocUpdateBatcher struct {
	srv *Server

	mu      sync.Mutex
	pending *allocUpdateBatch
}

// allocUpdateBatch is one raft entry in the making.
type allocUpdateBatch struct {
	update structs.AllocClientUpdate
	// freed is set when an update finished an allocation: blocked
	// evaluations are retried after the commit.
	freed bool
	timer *time.Timer
	done  chan struct{}
	index uint64
	err   error
}

// submit adds allocs and evals to the open batch (opening one if none is)
// and waits for the batch's commit.
func (b *allocUpdateBatcher) submit(allocs []*structs.Allocation, evals []*structs.Evaluation, freed bool) (uint64, error) {
	b.mu.Lock()
	p := b.pending
	if p == nil {
		p = &allocUpdateBatch{done: make(chan struct{})}
		p.timer = time.AfterFunc(allocUpdateWindow, func() { b.commit(p) })
		b.pending = p
	}
	p.update.Allocs = append(p.update.Allocs, allocs...)
	p.update.Evals = append(p.update.Evals, evals...)
	p.freed = p.freed || freed
	full := len(p.update.Allocs) >= maxAllocUpdateBatch
	b.mu.Unlock()
	if full && p.timer.Stop() {
		go b.commit(p)
	}
	<-p.done
	return p.index, p.err
}

// commit closes batch p to newcomers and writes it through raft.
func (b *allocUpdateBatcher) commit(p *allocUpdateBatch) {
	b.mu.Lock()
	if b.pending == p {
		b.pending = nil
	}
	b.mu.Unlock()
	p.update.UpdatedAt = time.Now().UnixNano()
	p.index, p.err = b.srv.raftApply(structs.AllocClientUpdateRequestType, &p.update)
	if p.err == nil && p.freed {
		b.srv.blocked.Unblock()
	}
	close(p.done)
}
