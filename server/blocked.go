// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"sync"

	"github.com/droverhq/drover/server/broker"
	"github.com/droverhq/drover/structs"
)

// blockedEvals holds, on the leader, the evaluations that could not place
// everything for lack of capacity: one per job, the newest. When capacity
// appears (a node registers or comes back, allocations finish or stop) they
// are all handed to the broker again; the scheduler either places the work
// or blocks a fresh evaluation.
type blockedEvals struct {
	broker *broker.Broker

	mu    sync.Mutex
	byJob map[structs.NamespacedID]*structs.Evaluation
}

func newBlockedEvals(b *broker.Broker) *blockedEvals {
	return &blockedEvals{broker: b, byJob: map[structs.NamespacedID]*structs.Evaluation{}}
}

// Block tracks a blocked evaluation, replacing an older one of its job.
func (b *blockedEvals) Block(eval *structs.Evaluation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	key := structs.NamespacedID{ID: eval.JobID, Namespace: eval.Namespace}
	if old, ok := b.byJob[key]; ok && old.CreateIndex > eval.CreateIndex {
		return
	}
	b.byJob[key] = eval
}

// Unblock sends every blocked evaluation to the broker. The stored
// evaluation stays "blocked" until a worker finishes it.
func (b *blockedEvals) Unblock() {
	b.mu.Lock()
	evals := make([]*structs.Evaluation, 0, len(b.byJob))
	for key, e := range b.byJob {
		evals = append(evals, e)
		delete(b.byJob, key)
	}
	b.mu.Unlock()
	for _, e := range evals {
		ready := e.Copy()
		ready.Status = structs.EvalStatusPending
		b.broker.Enqueue(ready)
	}
}

// Untrack forgets the job's blocked evaluation (the job was stopped or
// another evaluation of it completed).
func (b *blockedEvals) Untrack(ns, jobID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.byJob, structs.NamespacedID{ID: jobID, Namespace: ns})
}

// Reset drops everything (leadership lost).
func (b *blockedEvals) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.byJob = map[structs.NamespacedID]*structs.Evaluation{}
}

// Len reports how many evaluations are blocked.
func (b *blockedEvals) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.byJob)
}
