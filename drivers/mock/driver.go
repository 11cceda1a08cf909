// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package mock is a task driver whose tasks are goroutines following a
// script in their task config (run for a while, exit with a code, print,
// fail to start, ignore stop signals, report fixed stats). It starts no
// processes, so tests and benchmarks can run thousands of tasks cheaply.
// It answers to Nomad's name for its mock driver, "mock_driver", so job
// files written for that run unchanged.
package mock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

// Name is the driver's name in job files.
const Name = "mock_driver"

// handleVersion is the version of handleState in TaskHandle.State.
const handleVersion = 1

// handleState is all a mock task needs to be recovered: when it started
// (its config is in the handle's TaskConfig).
type handleState struct {
	StartedAt time.Time
}

// Driver is the mock driver. The zero value is not usable: use New.
type Driver struct {
	logger hclog.Logger

	mu      sync.RWMutex
	enabled bool
	tasks   map[string]*task
}

// PluginConfig is the agent's `plugin "mock_driver" { config { ... } }`
// block. The agent launches every built-in driver, so the mock is off
// unless enabled: production nodes must not advertise it.
type PluginConfig struct {
	Enabled bool `json:"enabled"`
}

var (
	_ plugins.Driver         = (*Driver)(nil)
	_ plugins.TaskOperations = (*Driver)(nil)
)

// New returns a mock driver logging under logger.
func New(logger hclog.Logger) *Driver {
	return &Driver{logger: logger.Named(Name), tasks: map[string]*task{}}
}

// Name returns "mock_driver".
func (d *Driver) Name() string { return Name }

// SetConfig applies the plugin config (PluginConfig).
func (d *Driver) SetConfig(b []byte) error {
	var c PluginConfig
	if len(bytes.TrimSpace(b)) > 0 {
		if err := decodeStrict(b, &c); err != nil {
			return fmt.Errorf("mock plugin config: %w", err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.enabled = c.Enabled
	return nil
}

// Fingerprint reports the mock healthy once enabled.
func (d *Driver) Fingerprint(context.Context) (*plugins.Fingerprint, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if !d.enabled {
		return &plugins.Fingerprint{Health: plugins.HealthUndetected, HealthDescription: "disabled"}, nil
	}
	return &plugins.Fingerprint{
		Health:            plugins.HealthHealthy,
		HealthDescription: "Healthy",
		Attributes:        map[string]string{"driver." + Name: "1"},
	}, nil
}

// StartTask starts the pretend task, after start_block_for, unless the
// config asks for start_error.
func (d *Driver) StartTask(cfg *plugins.TaskConfig) (*plugins.TaskHandle, error) {
	if cfg == nil || cfg.ID == "" {
		return nil, errors.New("start task: no task ID")
	}
	ts, err := parseTaskConfig(cfg.DriverConfig)
	if err != nil {
		return nil, err
	}
	d.mu.RLock()
	enabled := d.enabled
	d.mu.RUnlock()
	if !enabled {
		return nil, fmt.Errorf("start task %q: %s is disabled on this node", cfg.ID, Name)
	}
	if ts.startBlockFor > 0 {
		time.Sleep(ts.startBlockFor)
	}
	if ts.StartError != "" {
		return nil, fmt.Errorf("start task %q: %s", cfg.ID, ts.StartError)
	}
	startedAt := time.Now()
	state, err := json.Marshal(handleState{StartedAt: startedAt})
	if err != nil {
		return nil, fmt.Errorf("start task %q: encode handle: %w", cfg.ID, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.tasks[cfg.ID]; ok {
		return nil, fmt.Errorf("start task %q: already running", cfg.ID)
	}
	t := newTask(cfg, ts, startedAt, d.logger.With("task_id", cfg.ID))
	d.tasks[cfg.ID] = t
	t.run(true)
	d.logger.Debug("task started", "task_id", cfg.ID, "run_for", ts.runFor)
	return &plugins.TaskHandle{Version: handleVersion, Config: cfg, State: state}, nil
}

// WaitTask blocks until the task exits or ctx ends.
func (d *Driver) WaitTask(ctx context.Context, taskID string) (*plugins.ExitResult, error) {
	t, err := d.task(taskID)
	if err != nil {
		return nil, err
	}
	select {
	case <-t.done:
		res, _ := t.exit()
		return res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// StopTask makes the task exit after kill_after, or kills it at timeout if
// that comes first, and returns once it has exited.
func (d *Driver) StopTask(taskID string, timeout time.Duration, signal string) error {
	if _, err := signalNumber(signal); err != nil {
		return fmt.Errorf("stop task %q: %w", taskID, err)
	}
	t, err := d.task(taskID)
	if err != nil {
		return err
	}
	t.stop(timeout)
	return nil
}

// DestroyTask forgets the task, killing it first if force is set.
func (d *Driver) DestroyTask(taskID string, force bool) error {
	t, err := d.task(taskID)
	if err != nil {
		return err
	}
	if res, _ := t.exit(); res == nil {
		if !force {
			return fmt.Errorf("destroy task %q: still running", taskID)
		}
		t.finish(&plugins.ExitResult{Signal: sigkill})
	}
	d.mu.Lock()
	delete(d.tasks, taskID)
	d.mu.Unlock()
	return nil
}

// InspectTask reports the task's state.
func (d *Driver) InspectTask(taskID string) (*plugins.TaskStatus, error) {
	t, err := d.task(taskID)
	if err != nil {
		return nil, err
	}
	st := &plugins.TaskStatus{
		ID:        taskID,
		Name:      t.cfg.Name,
		State:     plugins.TaskStateRunning,
		StartedAt: t.startedAt,
	}
	if res, at := t.exit(); res != nil {
		st.State, st.CompletedAt, st.ExitResult = plugins.TaskStateExited, at, res
	}
	return st, nil
}

// RecoverTask recreates a task from its handle: it keeps its start time,
// so it exits when its run_for would have ended had the driver never
// restarted (at once, if that has passed). It does not print its stdout
// again.
func (d *Driver) RecoverTask(h *plugins.TaskHandle) error {
	if h == nil || h.Config == nil {
		return errors.New("recover task: handle has no task config")
	}
	id := h.Config.ID
	if h.Version != handleVersion {
		return fmt.Errorf("recover task %q: handle version %d, want %d", id, h.Version, handleVersion)
	}
	var hs handleState
	if err := json.Unmarshal(h.State, &hs); err != nil {
		return fmt.Errorf("recover task %q: decode handle state: %w", id, err)
	}
	ts, err := parseTaskConfig(h.Config.DriverConfig)
	if err != nil {
		return fmt.Errorf("recover task %q: %w", id, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.tasks[id]; ok {
		return nil
	}
	t := newTask(h.Config, ts, hs.StartedAt, d.logger.With("task_id", id))
	d.tasks[id] = t
	t.run(false)
	d.logger.Debug("task recovered", "task_id", id)
	return nil
}

func (d *Driver) task(id string) (*task, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	t, ok := d.tasks[id]
	if !ok {
		return nil, fmt.Errorf("mock task %q: %w", id, plugins.ErrTaskNotFound)
	}
	return t, nil
}
