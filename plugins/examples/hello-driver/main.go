// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Command hello-driver is an example third-party task driver for Drover.
// It shows the whole public path: implement plugins.Driver, call
// plugins.Serve from main, build the binary and drop it into the agent's
// plugin_dir. Its driver, "hello", runs echo-like tasks: each prints
// "<greeting>, <name>!" to its stdout log, stays "running" for the task's
// duration, then exits 0.
//
// Agent config:
//
//	plugin "hello" {
//	  config {
//	    greeting = "Bonjour"   # default "Hello"
//	  }
//	}
//
// Task:
//
//	task "greet" {
//	  driver = "hello"
//	  config {
//	    name     = "Drover"    # default "world"
//	    duration = "5s"        # default 0s
//	  }
//	}
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/droverhq/drover/plugins"
)

func main() {
	plugins.Serve(newDriver())
}

// driverName is what job files write as `driver = "hello"`.
const driverName = "hello"

// pluginConfig is the agent's `plugin "hello" { config { ... } }` block.
type pluginConfig struct {
	Greeting string `json:"greeting"`
}

// taskConfig is a task's `config { ... }` block.
type taskConfig struct {
	Name     string `json:"name"`
	Duration string `json:"duration"`
}

// taskState is the handle's opaque state: enough for RecoverTask to know,
// in a new plugin process, when the task ends.
type taskState struct {
	StartedAt time.Time
	Duration  time.Duration
}

// task is one running or finished task. done closes when it ends.
type task struct {
	id      string
	name    string
	state   taskState
	done    chan struct{}
	stop    chan struct{}
	stopped sync.Once
	mu      sync.Mutex
	result  *plugins.ExitResult
	endedAt time.Time
}

// driver is the "hello" driver. Its tasks are timers in this process, so
// they live exactly as long as the plugin does; RecoverTask rebuilds them
// from their handles after a plugin restart.
type driver struct {
	mu       sync.Mutex
	greeting string
	tasks    map[string]*task
}

func newDriver() *driver {
	return &driver{greeting: "Hello", tasks: map[string]*task{}}
}

func (d *driver) Name() string { return driverName }

func (d *driver) SetConfig(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	var c pluginConfig
	if err := decodeStrict(b, &c); err != nil {
		return fmt.Errorf("hello plugin config: %w", err)
	}
	if c.Greeting != "" {
		d.mu.Lock()
		d.greeting = c.Greeting
		d.mu.Unlock()
	}
	return nil
}

func (d *driver) Fingerprint(context.Context) (*plugins.Fingerprint, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return &plugins.Fingerprint{
		Health:            plugins.HealthHealthy,
		HealthDescription: "ready to greet",
		Attributes:        map[string]string{"driver.hello": "1", "driver.hello.greeting": d.greeting},
	}, nil
}

func (d *driver) StartTask(cfg *plugins.TaskConfig) (*plugins.TaskHandle, error) {
	tc := taskConfig{Name: "world", Duration: "0s"}
	if len(cfg.DriverConfig) > 0 {
		if err := decodeStrict(cfg.DriverConfig, &tc); err != nil {
			return nil, fmt.Errorf("task %s config: %w", cfg.Name, err)
		}
	}
	dur, err := time.ParseDuration(tc.Duration)
	if err != nil || dur < 0 {
		return nil, fmt.Errorf("task %s config: duration %q is not a non-negative duration", cfg.Name, tc.Duration)
	}
	d.mu.Lock()
	greeting := d.greeting
	_, dup := d.tasks[cfg.ID]
	d.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("task %s already started", cfg.ID)
	}
	f, err := os.OpenFile(cfg.StdoutPath+".0", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open stdout log: %w", err)
	}
	_, err = fmt.Fprintf(f, "%s, %s!\n", greeting, tc.Name)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write stdout log: %w", err)
	}
	st := taskState{StartedAt: time.Now(), Duration: dur}
	state, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode task state: %w", err)
	}
	d.track(cfg.ID, cfg.Name, st)
	return &plugins.TaskHandle{Version: 1, Config: cfg, State: state}, nil
}

// track runs the task's timer: it ends by itself after its duration, or
// when StopTask closes stop.
func (d *driver) track(id, name string, st taskState) {
	t := &task{id: id, name: name, state: st, done: make(chan struct{}), stop: make(chan struct{})}
	d.mu.Lock()
	d.tasks[id] = t
	d.mu.Unlock()
	go func() {
		timer := time.NewTimer(time.Until(st.StartedAt.Add(st.Duration)))
		defer timer.Stop()
		res := &plugins.ExitResult{}
		select {
		case <-timer.C:
		case <-t.stop:
			res.Signal = 15 // as if SIGTERM ended it
		}
		t.mu.Lock()
		t.result, t.endedAt = res, time.Now()
		t.mu.Unlock()
		close(t.done)
	}()
}

func (d *driver) task(id string) (*task, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.tasks[id]
	if !ok {
		return nil, fmt.Errorf("task %s: %w", id, plugins.ErrTaskNotFound)
	}
	return t, nil
}

func (d *driver) WaitTask(ctx context.Context, id string) (*plugins.ExitResult, error) {
	t, err := d.task(id)
	if err != nil {
		return nil, err
	}
	select {
	case <-t.done:
		t.mu.Lock()
		defer t.mu.Unlock()
		return t.result, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// StopTask ends the task at once: a greeting has nothing to clean up, so
// the signal and timeout make no difference.
func (d *driver) StopTask(id string, _ time.Duration, _ string) error {
	t, err := d.task(id)
	if err != nil {
		return err
	}
	t.stopped.Do(func() { close(t.stop) })
	<-t.done
	return nil
}

func (d *driver) DestroyTask(id string, force bool) error {
	t, err := d.task(id)
	if err != nil {
		return err
	}
	select {
	case <-t.done:
	default:
		if !force {
			return fmt.Errorf("destroy task %s: still running", id)
		}
		if err := d.StopTask(id, 0, ""); err != nil {
			return err
		}
	}
	d.mu.Lock()
	delete(d.tasks, id)
	d.mu.Unlock()
	return nil
}

func (d *driver) InspectTask(id string) (*plugins.TaskStatus, error) {
	t, err := d.task(id)
	if err != nil {
		return nil, err
	}
	st := &plugins.TaskStatus{ID: id, Name: t.name, State: plugins.TaskStateRunning, StartedAt: t.state.StartedAt}
	select {
	case <-t.done:
		t.mu.Lock()
		st.State, st.CompletedAt, st.ExitResult = plugins.TaskStateExited, t.endedAt, t.result
		t.mu.Unlock()
	default:
	}
	return st, nil
}

// RecoverTask rebuilds a task from its handle after the plugin restarted;
// a task whose time is up ends at once, successfully.
func (d *driver) RecoverTask(h *plugins.TaskHandle) error {
	if h == nil || h.Config == nil {
		return errors.New("recover task: no handle")
	}
	if _, err := d.task(h.Config.ID); err == nil {
		return nil // this process still has it
	}
	var st taskState
	if err := json.Unmarshal(h.State, &st); err != nil {
		return fmt.Errorf("recover task %s: decode state: %w", h.Config.ID, err)
	}
	d.track(h.Config.ID, h.Config.Name, st)
	return nil
}

// decodeStrict decodes JSON into v, rejecting keys v does not have, as
// Drover's drivers do.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
