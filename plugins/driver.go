// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package plugins is Drover's plugin SDK: the task driver interface that
// built-in and third-party drivers implement, and the go-plugin gRPC
// transport that carries it between the agent and driver subprocesses.
//
// The client only ever talks to a Driver; whether it lives in-process (in
// tests) or in a plugin subprocess (always, in the agent) is invisible to it.
package plugins

import (
	"context"
	"time"
)

// Driver runs tasks. Implementations must be safe for concurrent use: the
// client calls them from one goroutine per task. Signals, stats and exec
// are in TaskOperations, which every built-in driver and PluginDriver also
// implement.
type Driver interface {
	// Name is the driver's name as job files use it ("raw_exec").
	Name() string

	// SetConfig applies the agent's `plugin "NAME" { config { ... } }`
	// block, as JSON. It is called once, before anything else; an empty
	// config means defaults.
	SetConfig(config []byte) error

	// Fingerprint reports whether the driver can run tasks on this host.
	Fingerprint(ctx context.Context) (*Fingerprint, error)

	// StartTask starts a task and returns a handle from which RecoverTask
	// can reattach to it later.
	StartTask(cfg *TaskConfig) (*TaskHandle, error)

	// WaitTask blocks until the task exits, or ctx ends (then it returns
	// ctx's error).
	WaitTask(ctx context.Context, taskID string) (*ExitResult, error)

	// StopTask sends signal (empty means SIGTERM) to the task, waits up to
	// timeout for it to exit, then kills it and everything it started.
	StopTask(taskID string, timeout time.Duration, signal string) error

	// DestroyTask forgets the task, releasing what the driver holds for
	// it. If the task still runs, force kills it; otherwise it is an error.
	DestroyTask(taskID string, force bool) error

	// InspectTask reports the task's state.
	InspectTask(taskID string) (*TaskStatus, error)

	// RecoverTask reattaches to a task started by an earlier instance of
	// the driver, from the handle StartTask returned.
	RecoverTask(handle *TaskHandle) error
}

// Health of a driver, as Fingerprint reports it.
const (
	HealthUndetected = "undetected"
	HealthUnhealthy  = "unhealthy"
	HealthHealthy    = "healthy"
)

// Fingerprint is a driver's view of its health on this host.
type Fingerprint struct {
	Health            string
	HealthDescription string
	// Attributes become node attributes, e.g. "driver.raw_exec" = "1".
	Attributes map[string]string
}

// TaskConfig is everything a driver needs to start one task.
type TaskConfig struct {
	// ID identifies the task to the driver: "<alloc id>/<task>/<random>".
	ID            string
	Name          string
	AllocID       string
	JobName       string
	TaskGroupName string
	Namespace     string

	// DriverConfig is the task's `config` block as JSON. The driver
	// decodes and validates it, and rejects unknown keys.
	DriverConfig []byte

	// Env is the task's full environment, NOMAD_* variables included.
	Env  map[string]string
	User string

	// AllocDir is the allocation directory; TaskDir is the task's own
	// directory inside it (with local/, secrets/, tmp/).
	AllocDir string
	TaskDir  string

	// StdoutPath and StderrPath are where the task's output goes: the
	// driver appends to rotating files "<path>.0", "<path>.1", ... of at
	// most LogMaxFileSizeMB each, keeping LogMaxFiles of them.
	StdoutPath       string
	StderrPath       string
	LogMaxFiles      int
	LogMaxFileSizeMB int

	// Resources the scheduler reserved for the task.
	CPUMHz      int64
	MemoryMB    int64
	MemoryMaxMB int64
	// Cores are the host cores the task holds alone (`resources { cores
	// }`); the driver pins the task to them. Empty for a task that shares
	// the node's CPU.
	Cores []uint16
}

// TaskHandle lets a driver find a task again after the agent restarts.
type TaskHandle struct {
	Version int
	Config  *TaskConfig
	// State is opaque driver state (e.g. a PID), as JSON.
	State []byte
}

// ExitResult is how a task ended.
type ExitResult struct {
	ExitCode  int
	Signal    int
	OOMKilled bool
	// Err is set when the driver lost track of the task.
	Err string
}

// Successful reports whether the task exited cleanly.
func (r *ExitResult) Successful() bool {
	return r.ExitCode == 0 && r.Signal == 0 && r.Err == ""
}

// Task states, as InspectTask reports them.
const (
	TaskStateUnknown = "unknown"
	TaskStateRunning = "running"
	TaskStateExited  = "exited"
)

// TaskStatus is the driver's view of one task.
type TaskStatus struct {
	ID          string
	Name        string
	State       string
	StartedAt   time.Time
	CompletedAt time.Time
	ExitResult  *ExitResult
	// DriverAttributes are driver-specific details, e.g. "pid".
	DriverAttributes map[string]string
}
