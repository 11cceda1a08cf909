// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// fakeDriver answers from its inputs so tests can check that values and
// errors cross the transport unchanged, and records what reached it.
type fakeDriver struct {
	mu          sync.Mutex
	config      []byte
	started     *TaskConfig
	stopped     []any
	destroyed   []any
	recovered   *TaskHandle
	waitEntered chan struct{} // closed when WaitTask("block") starts
	waitEnded   chan error    // gets the ctx error WaitTask("block") saw
	signalled   []string
	statsEnded  chan struct{} // closed when a TaskStats stream ends
	execEntered chan struct{} // closed when ExecTask("block") starts
	execEnded   chan error    // gets the ctx error ExecTask("block") saw
}

func newFakeDriver() *fakeDriver {
	return &fakeDriver{
		waitEntered: make(chan struct{}), waitEnded: make(chan error, 1),
		statsEnded: make(chan struct{}), execEntered: make(chan struct{}), execEnded: make(chan error, 1),
	}
}

var fakeStarted = time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)

func (f *fakeDriver) Name() string { return "fake" }

func (f *fakeDriver) SetConfig(b []byte) error {
	if string(b) == "bad" {
		return errors.New("bad config: boom")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.config = b
	return nil
}

func (f *fakeDriver) Fingerprint(context.Context) (*Fingerprint, error) {
	return &Fingerprint{
		Health:            HealthHealthy,
		HealthDescription: "all good",
		Attributes:        map[string]string{"driver.fake": "1"},
	}, nil
}

func (f *fakeDriver) StartTask(cfg *TaskConfig) (*TaskHandle, error) {
	if cfg.ID == "fail" {
		return nil, fmt.Errorf("start task %q: command not found", cfg.ID)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = cfg
	return &TaskHandle{Version: 2, Config: cfg, State: []byte(`{"pid":42}`)}, nil
}

func (f *fakeDriver) WaitTask(ctx context.Context, taskID string) (*ExitResult, error) {
	switch taskID {
	case "missing":
		return nil, fmt.Errorf("wait %q: %w", taskID, ErrTaskNotFound)
	case "block":
		close(f.waitEntered)
		<-ctx.Done()
		f.waitEnded <- ctx.Err()
		return nil, ctx.Err()
	}
	return &ExitResult{ExitCode: 3, Signal: 9, OOMKilled: true, Err: "lost"}, nil
}

func (f *fakeDriver) StopTask(taskID string, timeout time.Duration, signal string) error {
	if taskID == "missing" {
		return fmt.Errorf("stop %q: %w", taskID, ErrTaskNotFound)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = []any{taskID, timeout, signal}
	return nil
}

func (f *fakeDriver) DestroyTask(taskID string, force bool) error {
	if !force {
		return fmt.Errorf("destroy %q: task still running", taskID)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.destroyed = []any{taskID, force}
	return nil
}

func (f *fakeDriver) InspectTask(taskID string) (*TaskStatus, error) {
	if taskID == "missing" {
		return nil, fmt.Errorf("inspect %q: %w", taskID, ErrTaskNotFound)
	}
	st := &TaskStatus{
		ID:               taskID,
		Name:             "web",
		State:            TaskStateRunning,
		StartedAt:        fakeStarted,
		DriverAttributes: map[string]string{"pid": "42"},
	}
	if taskID == "done" {
		st.State = TaskStateExited
		st.CompletedAt = fakeStarted.Add(time.Minute)
		st.ExitResult = &ExitResult{ExitCode: 1}
	}
	return st, nil
}

func (f *fakeDriver) RecoverTask(h *TaskHandle) error {
	if h == nil || h.Config == nil {
		return errors.New("recover: no handle")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recovered = h
	return nil
}
