// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package broker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
)

func eval(job string, priority int, createIndex uint64) *structs.Evaluation {
	return &structs.Evaluation{ID: structs.GenerateUUID(), JobID: job, Namespace: "default", Priority: priority,
		Status: structs.EvalStatusPending, CreateIndex: createIndex}
}

func dequeue(t *testing.T, b *Broker) (*structs.Evaluation, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	e, tok, err := b.Dequeue(ctx)
	if err != nil {
		t.Fatalf("dequeue: %v", err)
	}
	return e, tok
}

func TestPriorityThenAge(t *testing.T) {
	b := New(Config{})
	b.SetEnabled(true)
	low, high, older := eval("a", 10, 5), eval("b", 90, 6), eval("c", 90, 2)
	b.Enqueue(low)
	b.Enqueue(high)
	b.Enqueue(older)
	for _, want := range []*structs.Evaluation{older, high, low} {
		got, tok := dequeue(t, b)
		if got.ID != want.ID {
			t.Fatalf("got eval of job %s, want %s", got.JobID, want.JobID)
		}
		if err := b.Ack(got.ID, tok); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOneEvalPerJobOutstanding(t *testing.T) {
	b := New(Config{})
	b.SetEnabled(true)
	first, second := eval("job", 50, 1), eval("job", 50, 2)
	b.Enqueue(first)
	b.Enqueue(second)
	got, tok := dequeue(t, b)
	if got.ID != first.ID {
		t.Fatal("wrong order")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := b.Dequeue(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second eval of the same job was delivered while the first was out (err=%v)", err)
	}
	if err := b.Ack(got.ID, tok); err != nil {
		t.Fatal(err)
	}
	if got, _ := dequeue(t, b); got.ID != second.ID {
		t.Fatal("second eval not released after ack")
	}
}

func TestNackRedeliversThenGivesUp(t *testing.T) {
	var gaveUp atomic.Int32
	b := New(Config{DeliveryLimit: 2, OnGiveUp: func(*structs.Evaluation) { gaveUp.Add(1) }})
	b.SetEnabled(true)
	e := eval("job", 50, 1)
	b.Enqueue(e)
	got, tok := dequeue(t, b)
	if err := b.Nack(got.ID, tok); err != nil {
		t.Fatal(err)
	}
	got, tok = dequeue(t, b)
	if got.ID != e.ID {
		t.Fatal("not redelivered")
	}
	if err := b.Ack(got.ID, "wrong-token"); err == nil {
		t.Fatal("ack with a stale token succeeded")
	}
	if err := b.Nack(got.ID, tok); err != nil {
		t.Fatal(err)
	}
	if gaveUp.Load() != 1 {
		t.Fatal("eval not given up after the delivery limit")
	}
	if s := b.Stats(); s.Ready != 0 || s.Unacked != 0 {
		t.Fatalf("stats after give-up: %+v", s)
	}
}

func TestNackTimeoutRedelivers(t *testing.T) {
	b := New(Config{NackTimeout: 30 * time.Millisecond})
	b.SetEnabled(true)
	e := eval("job", 50, 1)
	b.Enqueue(e)
	dequeue(t, b) // never acked
	if got, _ := dequeue(t, b); got.ID != e.ID {
		t.Fatal("not redelivered after nack timeout")
	}
}

func TestDisabledDropsEverything(t *testing.T) {
	b := New(Config{})
	b.Enqueue(eval("a", 50, 1)) // disabled: ignored
	b.SetEnabled(true)
	if s := b.Stats(); s.Ready != 0 {
		t.Fatalf("disabled broker queued an eval: %+v", s)
	}
	b.Enqueue(eval("a", 50, 1))
	b.SetEnabled(false)
	b.SetEnabled(true)
	if s := b.Stats(); s.Ready != 0 {
		t.Fatalf("eval survived disable: %+v", s)
	}
}

func TestDelayedEval(t *testing.T) {
	b := New(Config{})
	b.SetEnabled(true)
	e := eval("job", 50, 1)
	e.WaitUntil = time.Now().Add(50 * time.Millisecond)
	b.Enqueue(e)
	if s := b.Stats(); s.Delayed != 1 || s.Ready != 0 {
		t.Fatalf("stats: %+v", s)
	}
	if got, _ := dequeue(t, b); got.ID != e.ID {
		t.Fatal("delayed eval not delivered")
	}
}

// A paused broker keeps queueing but hands nothing out until resumed.
func TestPauseKeepsEvaluationsQueued(t *testing.T) {
	b := New(Config{})
	b.SetEnabled(true)
	b.SetPaused(true)
	e := eval("a", 50, 1)
	b.Enqueue(e)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if got, _, err := b.Dequeue(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("paused broker handed out %v (err %v)", got, err)
	}
	if s := b.Stats(); s.Ready != 1 {
		t.Fatalf("stats while paused = %+v, want the evaluation still ready", s)
	}
	got := make(chan *structs.Evaluation, 1)
	go func() {
		ev, _, err := b.Dequeue(context.Background())
		if err == nil {
			got <- ev
		}
	}()
	b.SetPaused(false)
	select {
	case ev := <-got:
		if ev.ID != e.ID {
			t.Fatalf("resumed broker handed out %s, want %s", ev.ID, e.ID)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("resumed broker handed out nothing")
	}
}
