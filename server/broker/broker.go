// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package broker is the leader's evaluation broker: a priority queue that
// hands evaluations to scheduler workers at least once. A worker must Ack
// an evaluation within the nack timeout or it is delivered again; after
// DeliveryLimit failed deliveries it is given up and reported so the server
// can mark it failed. At most one evaluation per job is out at a time, so
// two workers never schedule the same job concurrently.
package broker

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/droverhq/drover/structs"
)

// ErrNotOutstanding is returned when acking an evaluation that is not
// (or no longer) out with that token.
var ErrNotOutstanding = errors.New("evaluation is not outstanding")

// ErrDisabled is returned by Dequeue when the broker is disabled (this
// server is not the leader).
var ErrDisabled = errors.New("eval broker disabled")

// Config tunes the broker.
type Config struct {
	// NackTimeout is how long a worker may hold an evaluation unacked.
	NackTimeout time.Duration
	// DeliveryLimit is how many deliveries an evaluation gets.
	DeliveryLimit int
	// OnGiveUp is called (without locks held) for an evaluation that
	// failed DeliveryLimit times.
	OnGiveUp func(eval *structs.Evaluation)
}

// Broker is the evaluation queue.
type Broker struct {
	cfg Config

	mu       sync.Mutex
	enabled  bool
	paused   bool // the operator's pause_eval_broker: queue, but hand nothing out
	ready    evalHeap
	unack    map[string]*unacked
	inflight map[structs.NamespacedID]string // job → eval out
	waiting  map[structs.NamespacedID]evalHeap
	attempts map[string]int
	notify   chan struct{}
	delayed  map[string]*time.Timer
}

// Stats counts what the broker holds.
type Stats struct {
	Ready   int
	Unacked int
	Blocked int // waiting for another eval of the same job
	Delayed int
}

type unacked struct {
	eval  *structs.Evaluation
	token string
	timer *time.Timer
}

// New returns a disabled broker.
func New(cfg Config) *Broker {
	if cfg.NackTimeout == 0 {
		cfg.NackTimeout = 60 * time.Second
	}
	if cfg.DeliveryLimit == 0 {
		cfg.DeliveryLimit = 3
	}
	b := &Broker{cfg: cfg, notify: make(chan struct{})}
	b.reset()
	return b
}

func (b *Broker) reset() {
	for _, u := range b.unack {
		u.timer.Stop()
	}
	for _, t := range b.delayed {
		t.Stop()
	}
	b.ready = nil
	b.unack = map[string]*unacked{}
	b.inflight = map[structs.NamespacedID]string{}
	b.waiting = map[structs.NamespacedID]evalHeap{}
	b.attempts = map[string]int{}
	b.delayed = map[string]*time.Timer{}
}

// SetEnabled turns the broker on (on gaining leadership) or off, which
// drops everything it holds: the new leader rebuilds it from state.
func (b *Broker) SetEnabled(enabled bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.enabled = enabled
	if !enabled {
		b.reset()
	}
	b.wake()
}

// SetPaused pauses (or resumes) handing out evaluations, as the
// scheduler configuration's PauseEvalBroker asks. Unlike disabling, a
// pause keeps everything queued: evaluations wait for the resume.
func (b *Broker) SetPaused(paused bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.paused = paused
	b.wake()
}

// Paused reports whether handing out evaluations is paused.
func (b *Broker) Paused() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.paused
}

// Enabled reports whether the broker is on.
func (b *Broker) Enabled() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.enabled
}

// wake tells every waiting Dequeue to look again. Callers hold mu.
func (b *Broker) wake() {
	close(b.notify)
	b.notify = make(chan struct{})
}

// Enqueue adds a pending evaluation. Evaluations already queued or out are
// ignored; ones with WaitUntil in the future are held until then.
func (b *Broker) Enqueue(eval *structs.Evaluation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.enabled || eval.Status != structs.EvalStatusPending {
		return
	}
	if _, ok := b.unack[eval.ID]; ok {
		return
	}
	if _, ok := b.delayed[eval.ID]; ok {
		return
	}
	if wait := time.Until(eval.WaitUntil); !eval.WaitUntil.IsZero() && wait > 0 {
		b.delayed[eval.ID] = time.AfterFunc(wait, func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if _, ok := b.delayed[eval.ID]; !ok {
				return
			}
			delete(b.delayed, eval.ID)
			b.enqueueLocked(eval)
		})
		return
	}
	b.enqueueLocked(eval)
}

func (b *Broker) enqueueLocked(eval *structs.Evaluation) {
	if !b.enabled {
		return
	}
	key := structs.NamespacedID{ID: eval.JobID, Namespace: eval.Namespace}
	if b.ready.contains(eval.ID) || b.waiting[key].contains(eval.ID) {
		return
	}
	if out, ok := b.inflight[key]; ok && out != eval.ID {
		w := b.waiting[key]
		heap.Push(&w, eval)
		b.waiting[key] = w
		return
	}
	heap.Push(&b.ready, eval)
	b.wake()
}

// Dequeue blocks until an evaluation is ready (and the broker enabled and
// not paused) or ctx ends. It returns the evaluation and the token to Ack
// or Nack it with.
func (b *Broker) Dequeue(ctx context.Context) (*structs.Evaluation, string, error) {
	for {
		b.mu.Lock()
		if !b.enabled || b.paused {
			notify := b.notify
			b.mu.Unlock()
			select {
			case <-notify:
				continue
			case <-ctx.Done():
				return nil, "", ctx.Err()
			}
		}
		if eval := b.popReady(); eval != nil {
			token := structs.GenerateUUID()
			key := structs.NamespacedID{ID: eval.JobID, Namespace: eval.Namespace}
			b.inflight[key] = eval.ID
			b.attempts[eval.ID]++
			id := eval.ID
			b.unack[id] = &unacked{eval: eval, token: token, timer: time.AfterFunc(b.cfg.NackTimeout, func() {
				_ = b.Nack(id, token)
			})}
			b.mu.Unlock()
			return eval, token, nil
		}
		notify := b.notify
		b.mu.Unlock()
		select {
		case <-notify:
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
}

// popReady takes the best ready evaluation whose job has none out; ones
// whose job is busy move to that job's waiting list. Callers hold mu.
func (b *Broker) popReady() *structs.Evaluation {
	for len(b.ready) > 0 {
		eval := heap.Pop(&b.ready).(*structs.Evaluation)
		key := structs.NamespacedID{ID: eval.JobID, Namespace: eval.Namespace}
		if out, busy := b.inflight[key]; busy && out != eval.ID {
			w := b.waiting[key]
			heap.Push(&w, eval)
			b.waiting[key] = w
			continue
		}
		return eval
	}
	return nil
}

// Outstanding reports whether evalID is out with token: delivered, and not
// yet acked, nacked or timed out.
func (b *Broker) Outstanding(evalID, token string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.unack[evalID]
	return ok && u.token == token
}

// OutstandingReset restarts the nack timer of an evaluation still being
// worked on (a long scheduling pass).
func (b *Broker) OutstandingReset(evalID, token string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.unack[evalID]
	if !ok || u.token != token {
		return ErrNotOutstanding
	}
	u.timer.Reset(b.cfg.NackTimeout)
	return nil
}

// Ack completes an evaluation and releases the next one of its job.
func (b *Broker) Ack(evalID, token string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.unack[evalID]
	if !ok || u.token != token {
		return fmt.Errorf("ack eval %s: %w", evalID, ErrNotOutstanding)
	}
	u.timer.Stop()
	delete(b.unack, evalID)
	delete(b.attempts, evalID)
	b.releaseJob(u.eval)
	return nil
}

// Nack returns an evaluation to the queue, or gives it up after
// DeliveryLimit attempts.
func (b *Broker) Nack(evalID, token string) error {
	b.mu.Lock()
	u, ok := b.unack[evalID]
	if !ok || u.token != token {
		b.mu.Unlock()
		return fmt.Errorf("nack eval %s: %w", evalID, ErrNotOutstanding)
	}
	u.timer.Stop()
	delete(b.unack, evalID)
	key := structs.NamespacedID{ID: u.eval.JobID, Namespace: u.eval.Namespace}
	if b.attempts[evalID] >= b.cfg.DeliveryLimit {
		delete(b.attempts, evalID)
		b.releaseJob(u.eval)
		b.mu.Unlock()
		if b.cfg.OnGiveUp != nil {
			b.cfg.OnGiveUp(u.eval)
		}
		return nil
	}
	delete(b.inflight, key)
	heap.Push(&b.ready, u.eval)
	b.wake()
	b.mu.Unlock()
	return nil
}

// releaseJob frees the job's slot and readies its next waiting evaluation.
// Callers hold mu.
func (b *Broker) releaseJob(eval *structs.Evaluation) {
	key := structs.NamespacedID{ID: eval.JobID, Namespace: eval.Namespace}
	if b.inflight[key] == eval.ID {
		delete(b.inflight, key)
	}
	w := b.waiting[key]
	if len(w) == 0 {
		delete(b.waiting, key)
		return
	}
	next := heap.Pop(&w).(*structs.Evaluation)
	if len(w) == 0 {
		delete(b.waiting, key)
	} else {
		b.waiting[key] = w
	}
	heap.Push(&b.ready, next)
	b.wake()
}

// Stats reports what the broker holds.
func (b *Broker) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Stats{Ready: len(b.ready), Unacked: len(b.unack), Delayed: len(b.delayed)}
	for _, w := range b.waiting {
		s.Blocked += len(w)
	}
	return s
}

// evalHeap orders evaluations by priority, then by age.
type evalHeap []*structs.Evaluation

func (h evalHeap) Len() int { return len(h) }
func (h evalHeap) Less(i, j int) bool {
	if h[i].Priority != h[j].Priority {
		return h[i].Priority > h[j].Priority
	}
	if h[i].CreateIndex != h[j].CreateIndex {
		return h[i].CreateIndex < h[j].CreateIndex
	}
	return h[i].ID < h[j].ID
}
func (h evalHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *evalHeap) Push(x any)   { *h = append(*h, x.(*structs.Evaluation)) }
func (h *evalHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	*h = old[:n-1]
	return x
}

func (h evalHeap) contains(id string) bool {
	for _, e := range h {
		if e.ID == id {
			return true
		}
	}
	return false
}
