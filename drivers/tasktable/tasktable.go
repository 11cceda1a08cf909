// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package tasktable is the bookkeeping every built-in driver does around
// its tasks: the table of tasks by ID (with an ID reserved while its task
// starts or is recovered, so the slow part runs without the lock), the
// plumbing of WaitTask, InspectTask and DestroyTask on top of it, the
// handle's encoding and its checks on recovery, and signal names.
//
// What a task is stays each driver's own (a supervised process, a
// container, a goroutine); the table only needs to know when it ended.
package tasktable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/droverhq/drover/plugins"
)

// Task is what the table needs of a driver's task.
type Task interface {
	// Done is closed once the task has exited.
	Done() <-chan struct{}
	// Exit returns how the task ended and when, or nil while it runs.
	Exit() (*plugins.ExitResult, time.Time)
}

// Table maps task IDs to a driver's tasks. It is safe for concurrent use.
type Table[T Task] struct {
	driver string // names the driver in errors: "raw_exec task "x": task not found"

	mu    sync.RWMutex
	tasks map[string]*entry[T]
}

// entry is a table slot; a nil task marks an ID being started or
// recovered.
type entry[T Task] struct {
	task  T
	ready bool
}

// New returns an empty table for the driver named driver.
func New[T Task](driver string) *Table[T] {
	return &Table[T]{driver: driver, tasks: map[string]*entry[T]{}}
}

// Get returns the task with ID id, or an error wrapping
// plugins.ErrTaskNotFound (also while the ID is still being started).
func (tb *Table[T]) Get(id string) (T, error) {
	tb.mu.RLock()
	defer tb.mu.RUnlock()
	e, ok := tb.tasks[id]
	if !ok || !e.ready {
		var zero T
		return zero, fmt.Errorf("%s task %q: %w", tb.driver, id, plugins.ErrTaskNotFound)
	}
	return e.task, nil
}

// reserve claims id; it reports false if the ID is taken.
func (tb *Table[T]) reserve(id string) bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if _, ok := tb.tasks[id]; ok {
		return false
	}
	tb.tasks[id] = &entry[T]{}
	return true
}

// settle records start's outcome for a reserved id: the task, or the
// reservation's release.
func (tb *Table[T]) settle(id string, t T, err error) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if err != nil {
		delete(tb.tasks, id)
		return
	}
	tb.tasks[id] = &entry[T]{task: t, ready: true}
}

// Start adds the task that start returns under id. start runs without the
// table's lock, so other tasks are served meanwhile; a second Start of the
// same ID fails with "already running" without calling start. start's
// error is returned as is.
func (tb *Table[T]) Start(id string, start func() (T, error)) (T, error) {
	if !tb.reserve(id) {
		var zero T
		return zero, fmt.Errorf("start task %q: already running", id)
	}
	t, err := start()
	tb.settle(id, t, err)
	return t, err
}

// Recover adds the task that recover returns under id, unless id is
// already known (started, recovered, or on its way): recovering twice is
// a no-op, as the driver interface wants. recover's error is returned as
// is.
func (tb *Table[T]) Recover(id string, recover func() (T, error)) error {
	if !tb.reserve(id) {
		return nil
	}
	t, err := recover()
	tb.settle(id, t, err)
	return err
}

// Wait blocks until the task exits or ctx ends.
func (tb *Table[T]) Wait(ctx context.Context, id string) (*plugins.ExitResult, error) {
	t, err := tb.Get(id)
	if err != nil {
		return nil, err
	}
	select {
	case <-t.Done():
		res, _ := t.Exit()
		return res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Destroy forgets the task once destroy, which releases what the driver
// holds for it, succeeds. A running task is refused unless force; destroy
// learns whether the task was running, to kill it.
func (tb *Table[T]) Destroy(id string, force bool, destroy func(t T, running bool) error) error {
	t, err := tb.Get(id)
	if err != nil {
		return err
	}
	res, _ := t.Exit()
	running := res == nil
	if running && !force {
		return fmt.Errorf("destroy task %q: still running", id)
	}
	if err := destroy(t, running); err != nil {
		return fmt.Errorf("destroy task %q: %w", id, err)
	}
	tb.mu.Lock()
	delete(tb.tasks, id)
	tb.mu.Unlock()
	return nil
}

// Status is InspectTask's answer for t: running, or exited with its
// result, and the driver's attributes.
func Status(id string, cfg *plugins.TaskConfig, t Task, startedAt time.Time, attrs map[string]string) *plugins.TaskStatus {
	st := &plugins.TaskStatus{
		ID:               id,
		Name:             cfg.Name,
		State:            plugins.TaskStateRunning,
		StartedAt:        startedAt,
		DriverAttributes: attrs,
	}
	if res, at := t.Exit(); res != nil {
		st.State, st.CompletedAt, st.ExitResult = plugins.TaskStateExited, at, res
	}
	return st
}

// EncodeHandle returns the handle of a task started from cfg, with state
// (the driver's own, JSON-encodable) for RecoverTask.
func EncodeHandle(cfg *plugins.TaskConfig, version int, state any) (*plugins.TaskHandle, error) {
	b, err := json.Marshal(state)
	if err != nil {
		return nil, fmt.Errorf("start task %q: encode handle: %w", cfg.ID, err)
	}
	return &plugins.TaskHandle{Version: version, Config: cfg, State: b}, nil
}

// DecodeHandle checks a handle given to RecoverTask (it has a task
// config, and version is the driver's) and decodes its state into state.
// It returns the task's ID.
func DecodeHandle(h *plugins.TaskHandle, version int, state any) (string, error) {
	if h == nil || h.Config == nil {
		return "", errors.New("recover task: handle has no task config")
	}
	id := h.Config.ID
	if h.Version != version {
		return id, fmt.Errorf("recover task %q: handle version %d, want %d", id, h.Version, version)
	}
	if err := json.Unmarshal(h.State, state); err != nil {
		return id, fmt.Errorf("recover task %q: decode handle state: %w", id, err)
	}
	return id, nil
}

// Signaled is the prologue of StopTask and SignalTask: the task with ID
// id and the signal named by signal (see ParseSignal). A bad name is an
// error of op ("stop", "signal") naming the task.
func (tb *Table[T]) Signaled(op, id, signal string) (T, syscall.Signal, error) {
	var zero T
	sig, err := ParseSignal(signal)
	if err != nil {
		return zero, 0, fmt.Errorf("%s task %q: %w", op, id, err)
	}
	t, err := tb.Get(id)
	if err != nil {
		return zero, 0, err
	}
	return t, sig, nil
}
