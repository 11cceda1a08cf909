// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package clienttest holds in-memory stand-ins for what the client talks
// to, a task driver and the servers, so client tests run without processes
// or a cluster. Their behaviour is scripted by the test's job and calls.
package clienttest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/droverhq/drover/plugins"
)

// DriverName is the name Driver registers under.
const DriverName = "mock"

// TaskBehaviour is the fake driver's task config (the task's `config`
// block): how the pretend task behaves.
type TaskBehaviour struct {
	// RunFor is how long the task runs before it exits on its own ("" runs
	// until stopped).
	RunFor string `json:"run_for"`
	// ExitCode is the code it exits with on its own.
	ExitCode int `json:"exit_code"`
	// StartError makes StartTask fail with this message.
	StartError string `json:"start_error"`
	// IgnoreStop makes the task survive the stop signal until the kill
	// timeout passes.
	IgnoreStop bool `json:"ignore_stop"`
}

// Driver is a fake plugins.Driver whose tasks only wait.
type Driver struct {
	mu      sync.Mutex
	tasks   map[string]*fakeTask
	started []*plugins.TaskConfig
	stops   []StopCall
	health  string
}

// StopCall records a StopTask call.
type StopCall struct {
	TaskID  string
	Timeout time.Duration
	Signal  string
}

type fakeTask struct {
	cfg    *plugins.TaskConfig
	stopCh chan plugins.ExitResult
	done   chan struct{}
	result *plugins.ExitResult
	start  time.Time
	end    time.Time
}

// NewDriver returns a healthy fake driver.
func NewDriver() *Driver {
	return &Driver{tasks: map[string]*fakeTask{}, health: plugins.HealthHealthy}
}

var _ plugins.Driver = (*Driver)(nil)

// Name implements plugins.Driver.
func (d *Driver) Name() string { return DriverName }

// SetConfig implements plugins.Driver.
func (d *Driver) SetConfig([]byte) error { return nil }

// SetHealth changes what Fingerprint reports.
func (d *Driver) SetHealth(health string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.health = health
}

// Fingerprint implements plugins.Driver.
func (d *Driver) Fingerprint(context.Context) (*plugins.Fingerprint, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return &plugins.Fingerprint{
		Health:            d.health,
		HealthDescription: "fake driver is " + d.health,
		Attributes:        map[string]string{"driver.mock.version": "1"},
	}, nil
}

// StartTask implements plugins.Driver.
func (d *Driver) StartTask(cfg *plugins.TaskConfig) (*plugins.TaskHandle, error) {
	var b TaskBehaviour
	if len(cfg.DriverConfig) > 0 {
		if err := json.Unmarshal(cfg.DriverConfig, &b); err != nil {
			return nil, fmt.Errorf("decode mock config: %w", err)
		}
	}
	d.mu.Lock()
	c := *cfg
	c.Env = maps.Clone(cfg.Env)
	d.started = append(d.started, &c)
	d.mu.Unlock()
	if b.StartError != "" {
		return nil, fmt.Errorf("%s", b.StartError)
	}
	var runFor time.Duration
	if b.RunFor != "" {
		var err error
		if runFor, err = time.ParseDuration(b.RunFor); err != nil {
			return nil, fmt.Errorf("run_for: %w", err)
		}
	}
	t := &fakeTask{cfg: &c, stopCh: make(chan plugins.ExitResult, 1), done: make(chan struct{}), start: time.Now()}
	d.mu.Lock()
	if _, dup := d.tasks[cfg.ID]; dup {
		d.mu.Unlock()
		return nil, fmt.Errorf("task %s already exists", cfg.ID)
	}
	d.tasks[cfg.ID] = t
	d.mu.Unlock()

	go func() {
		var timer <-chan time.Time
		if runFor > 0 {
			timer = time.After(runFor)
		}
		var res plugins.ExitResult
		select {
		case <-timer:
			res = plugins.ExitResult{ExitCode: b.ExitCode}
		case res = <-t.stopCh:
		}
		d.mu.Lock()
		t.result, t.end = &res, time.Now()
		d.mu.Unlock()
		close(t.done)
	}()
	return &plugins.TaskHandle{Version: 1, Config: &c, State: []byte(`{}`)}, nil
}

func (d *Driver) task(id string) (*fakeTask, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.tasks[id]
	if !ok {
		return nil, fmt.Errorf("task %s: %w", id, plugins.ErrTaskNotFound)
	}
	return t, nil
}

// WaitTask implements plugins.Driver.
func (d *Driver) WaitTask(ctx context.Context, id string) (*plugins.ExitResult, error) {
	t, err := d.task(id)
	if err != nil {
		return nil, err
	}
	select {
	case <-t.done:
		d.mu.Lock()
		defer d.mu.Unlock()
		r := *t.result
		return &r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// StopTask implements plugins.Driver: the task dies of the signal at once,
// or, with ignore_stop, of SIGKILL when the timeout passes.
func (d *Driver) StopTask(id string, timeout time.Duration, signal string) error {
	t, err := d.task(id)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.stops = append(d.stops, StopCall{TaskID: id, Timeout: timeout, Signal: signal})
	d.mu.Unlock()
	var b TaskBehaviour
	_ = json.Unmarshal(t.cfg.DriverConfig, &b)
	res := plugins.ExitResult{Signal: 15}
	if b.IgnoreStop {
		select {
		case <-t.done:
			return nil
		case <-time.After(timeout):
		}
		res = plugins.ExitResult{Signal: 9}
	}
	select {
	case t.stopCh <- res:
	default:
	}
	<-t.done
	return nil
}

// DestroyTask implements plugins.Driver.
func (d *Driver) DestroyTask(id string, force bool) error {
	t, err := d.task(id)
	if err != nil {
		return err
	}
	select {
	case <-t.done:
	default:
		if !force {
			return fmt.Errorf("task %s is still running", id)
		}
		select {
		case t.stopCh <- plugins.ExitResult{Signal: 9}:
		default:
		}
		<-t.done
	}
	d.mu.Lock()
	delete(d.tasks, id)
	d.mu.Unlock()
	return nil
}

// InspectTask implements plugins.Driver.
func (d *Driver) InspectTask(id string) (*plugins.TaskStatus, error) {
	t, err := d.task(id)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &plugins.TaskStatus{ID: id, Name: t.cfg.Name, State: plugins.TaskStateRunning, StartedAt: t.start}
	if t.result != nil {
		r := *t.result
		st.State, st.CompletedAt, st.ExitResult = plugins.TaskStateExited, t.end, &r
	}
	return st, nil
}

// RecoverTask implements plugins.Driver; the fake keeps no state across
// instances, so only tasks it still knows can be recovered.
func (d *Driver) RecoverTask(h *plugins.TaskHandle) error {
	if h == nil || h.Config == nil {
		return fmt.Errorf("recover: empty handle")
	}
	_, err := d.task(h.Config.ID)
	return err
}

// Started returns copies of every TaskConfig StartTask received, in order.
func (d *Driver) Started() []*plugins.TaskConfig {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*plugins.TaskConfig(nil), d.started...)
}

// Stops returns every StopTask call, in order.
func (d *Driver) Stops() []StopCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]StopCall(nil), d.stops...)
}

// Live counts tasks the driver still holds (not destroyed).
func (d *Driver) Live() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.tasks)
}
