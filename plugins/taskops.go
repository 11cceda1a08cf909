// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"io"
	"time"
)

// TaskOperations is what a driver offers on a running task besides its
// lifecycle: signals, resource usage and exec. Every built-in driver and
// the gRPC transport implement it.
//
// It is a separate interface from Driver only so that in-memory drivers
// outside this package keep compiling while they catch up; Driver will
// embed it once they do.
type TaskOperations interface {
	// Capabilities reports which optional features the driver supports.
	Capabilities() (*Capabilities, error)

	// SignalTask sends signal ("SIGHUP", "HUP") to the task's processes.
	SignalTask(taskID, signal string) error

	// TaskStats reports the task's resource usage on the channel, first at
	// once and then every interval. The channel closes when ctx ends or
	// the task is gone; an unknown task is an error of the call itself.
	TaskStats(ctx context.Context, taskID string, interval time.Duration) (<-chan *TaskResourceUsage, error)

	// ExecTask runs cmd inside the task's context (its directory,
	// environment, and for isolating drivers its namespaces and root
	// filesystem), copying stdin to it and its output to stdout and
	// stderr until it exits. Cancelling ctx kills it. With tty, cmd gets a
	// terminal and its output all goes to stdout; resize (may be nil)
	// carries the terminal's size changes.
	ExecTask(ctx context.Context, taskID string, cmd []string, tty bool,
		stdin io.Reader, stdout, stderr io.Writer, resize <-chan TerminalSize) (exitCode int, err error)
}

// FSIsolation values: how much of the host's filesystem a task sees.
const (
	FSIsolationNone   = "none"
	FSIsolationChroot = "chroot"
	FSIsolationImage  = "image"
)

// Capabilities are a driver's optional features; the client hides or
// refuses what a driver lacks (`alloc signal`, `alloc exec`, volumes).
type Capabilities struct {
	SendSignals  bool
	Exec         bool
	FSIsolation  string
	MountConfigs bool
}

// TerminalSize is an exec session's terminal size, in characters.
type TerminalSize struct {
	Height uint16
	Width  uint16
}

// Measured names for MemoryStats.Measured and CpuStats.Measured, as Nomad
// reports them.
const (
	MeasuredRSS        = "RSS"
	MeasuredCache      = "Cache"
	MeasuredSwap       = "Swap"
	MeasuredUsage      = "Usage"
	MeasuredMaxUsage   = "Max Usage"
	MeasuredSystemMode = "System Mode"
	MeasuredUserMode   = "User Mode"
	MeasuredTotalTicks = "Total Ticks"
	MeasuredPercent    = "Percent"
	MeasuredThrottled  = "Throttled Periods"
)

// MemoryStats is a task's memory use in bytes. Fields and names are those
// of Nomad's api.MemoryStats, so the client can pass them through to
// /v1/client/allocation/:id/stats unchanged. Measured lists the fields
// the driver actually measured.
type MemoryStats struct {
	RSS            uint64
	Cache          uint64
	Swap           uint64
	Usage          uint64
	MaxUsage       uint64
	KernelUsage    uint64
	KernelMaxUsage uint64
	Measured       []string
}

// CpuStats is a task's CPU use, as Nomad's api.CpuStats: SystemMode and
// UserMode are percentages of one core over the last interval, TotalTicks
// the MHz-equivalent consumed, Percent the share of one core.
type CpuStats struct { //nolint:revive // Nomad's name.
	SystemMode       float64
	UserMode         float64
	TotalTicks       float64
	ThrottledPeriods uint64
	ThrottledTime    uint64
	Percent          float64
	Measured         []string
}

// ResourceUsage is memory and CPU use together, as Nomad's
// api.ResourceUsage (without device stats).
type ResourceUsage struct {
	MemoryStats *MemoryStats
	CpuStats    *CpuStats
}

// TaskResourceUsage is one sample of a task's use, as Nomad's
// api.TaskResourceUsage: the whole task, and per process where the driver
// sees processes. Timestamp is in Unix nanoseconds.
type TaskResourceUsage struct {
	ResourceUsage *ResourceUsage
	Timestamp     int64
	Pids          map[string]*ResourceUsage
}
