// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package tasktable

import (
	"sync"
	"time"

	"github.com/droverhq/drover/plugins"
)

// Outcome records how a task ended, once: drivers embed it in their task to
// implement Task. The zero value is a running task.
type Outcome struct {
	once sync.Once // makes done
	done chan struct{}

	mu     sync.Mutex
	result *plugins.ExitResult
	at     time.Time
}

func (e *Outcome) doneChan() chan struct{} {
	e.once.Do(func() { e.done = make(chan struct{}) })
	return e.done
}

// Done is closed once Set has recorded the exit.
func (e *Outcome) Done() <-chan struct{} { return e.doneChan() }

// Exit returns a copy of the recorded result and when the task exited,
// or nil while it runs.
func (e *Outcome) Exit() (*plugins.ExitResult, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.result == nil {
		return nil, time.Time{}
	}
	r := *e.result
	return &r, e.at
}

// Set records the task's exit. Only the first call counts: it reports
// whether this one did.
func (e *Outcome) Set(res *plugins.ExitResult, at time.Time) bool {
	done := e.doneChan()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.result != nil {
		return false
	}
	e.result, e.at = res, at
	close(done)
	return true
}
