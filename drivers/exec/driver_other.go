// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build !linux

// Package exec is the exec task driver. It isolates tasks with Linux
// namespaces and cgroups; elsewhere it only reports itself undetected, so
// that a node never advertises it.
package exec

import (
	"context"
	"fmt"
	"io"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

// errLinuxOnly is what every task operation answers off Linux.
var errLinuxOnly = fmt.Errorf("exec driver requires Linux")

// Driver is the exec driver on a host it cannot run tasks on.
type Driver struct{}

var _ plugins.Driver = (*Driver)(nil)

// New returns the exec driver.
func New(hclog.Logger) *Driver { return &Driver{} }

// Name returns "exec".
func (d *Driver) Name() string { return Name }

// SetConfig validates the plugin config, so that a bad one is reported on
// every platform.
func (d *Driver) SetConfig(b []byte) error {
	_, err := parsePluginConfig(b)
	return err
}

// Fingerprint reports the driver undetected.
func (d *Driver) Fingerprint(context.Context) (*plugins.Fingerprint, error) {
	return &plugins.Fingerprint{Health: plugins.HealthUndetected, HealthDescription: errLinuxOnly.Error()}, nil
}

// StartTask refuses: tasks need Linux.
func (d *Driver) StartTask(*plugins.TaskConfig) (*plugins.TaskHandle, error) {
	return nil, errLinuxOnly
}

// WaitTask knows no task.
func (d *Driver) WaitTask(_ context.Context, id string) (*plugins.ExitResult, error) {
	return nil, fmt.Errorf("exec task %q: %w", id, plugins.ErrTaskNotFound)
}

// StopTask knows no task.
func (d *Driver) StopTask(id string, _ time.Duration, _ string) error {
	return fmt.Errorf("exec task %q: %w", id, plugins.ErrTaskNotFound)
}

// DestroyTask knows no task.
func (d *Driver) DestroyTask(id string, _ bool) error {
	return fmt.Errorf("exec task %q: %w", id, plugins.ErrTaskNotFound)
}

// InspectTask knows no task.
func (d *Driver) InspectTask(id string) (*plugins.TaskStatus, error) {
	return nil, fmt.Errorf("exec task %q: %w", id, plugins.ErrTaskNotFound)
}

// RecoverTask refuses: tasks need Linux.
func (d *Driver) RecoverTask(*plugins.TaskHandle) error { return errLinuxOnly }

// Capabilities reports that this build runs nothing.
func (d *Driver) Capabilities() (*plugins.Capabilities, error) { return nil, errLinuxOnly }

// SignalTask always fails: exec runs only on Linux.
func (d *Driver) SignalTask(string, string) error { return errLinuxOnly }

// TaskStats always fails: exec runs only on Linux.
func (d *Driver) TaskStats(context.Context, string, time.Duration) (<-chan *plugins.TaskResourceUsage, error) {
	return nil, errLinuxOnly
}

// ExecTask always fails: exec runs only on Linux.
func (d *Driver) ExecTask(context.Context, string, []string, bool, io.Reader, io.Writer, io.Writer,
	<-chan plugins.TerminalSize) (int, error) {
	return 0, errLinuxOnly
}
