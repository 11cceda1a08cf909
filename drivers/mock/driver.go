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
	"errors"
	"fmt"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/drivers/tasktable"
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

	tasks *tasktable.Table[*task]
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
	return &Driver{logger: logger.Named(Name), tasks: tasktable.New[*task](Name)}
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
	_, err = d.tasks.Start(cfg.ID, func() (*task, error) {
		t := newTask(cfg, ts, startedAt, d.logger.With("task_id", cfg.ID))
		t.run(true)
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	d.logger.Debug("task started", "task_id", cfg.ID, "run_for", ts.runFor)
	return tasktable.EncodeHandle(cfg, handleVersion, handleState{StartedAt: startedAt})
}

// WaitTask blocks until the task exits or ctx ends.
func (d *Driver) WaitTask(ctx context.Context, taskID string) (*plugins.ExitResult, error) {
	return d.tasks.Wait(ctx, taskID)
}

// StopTask makes the task exit after kill_after, or kills it at timeout if
// that comes first, and returns once it has exited.
func (d *Driver) StopTask(taskID string, timeout time.Duration, signal string) error {
	t, _, err := d.tasks.Signaled("stop", taskID, signal)
	if err != nil {
		return err
	}
	t.stop(timeout)
	return nil
}

// DestroyTask forgets the task, killing it first if force is set.
func (d *Driver) DestroyTask(taskID string, force bool) error {
	return d.tasks.Destroy(taskID, force, func(t *task, running bool) error {
		if running {
			t.finish(&plugins.ExitResult{Signal: sigkill})
		}
		return nil
	})
}

// InspectTask reports the task's state.
func (d *Driver) InspectTask(taskID string) (*plugins.TaskStatus, error) {
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return nil, err
	}
	return tasktable.Status(taskID, t.cfg, t, t.startedAt, nil), nil
}

// RecoverTask recreates a task from its handle: it keeps its start time,
// so it exits when its run_for would have ended had the driver never
// restarted (at once, if that has passed). It does not print its stdout
// again.
func (d *Driver) RecoverTask(h *plugins.TaskHandle) error {
	var hs handleState
	id, err := tasktable.DecodeHandle(h, handleVersion, &hs)
	if err != nil {
		return err
	}
	ts, err := parseTaskConfig(h.Config.DriverConfig)
	if err != nil {
		return fmt.Errorf("recover task %q: %w", id, err)
	}
	return d.tasks.Recover(id, func() (*task, error) {
		t := newTask(h.Config, ts, hs.StartedAt, d.logger.With("task_id", id))
		t.run(false)
		d.logger.Debug("task recovered", "task_id", id)
		return t, nil
	})
}
