// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// signalDriver adds signal delivery to the fake driver and records, per
// task name, the signals it delivered.
type signalDriver struct {
	*clienttest.Driver
	mu      sync.Mutex
	signals []string
}

func (d *signalDriver) Capabilities() (*plugins.Capabilities, error) {
	return &plugins.Capabilities{SendSignals: true}, nil
}

func (d *signalDriver) SignalTask(taskID, signal string) error {
	// Task IDs are <alloc>/<task>/<suffix>.
	parts := strings.Split(taskID, "/")
	d.mu.Lock()
	defer d.mu.Unlock()
	d.signals = append(d.signals, parts[1]+" "+signal)
	return nil
}

func (d *signalDriver) TaskStats(context.Context, string, time.Duration) (<-chan *plugins.TaskResourceUsage, error) {
	return nil, errors.New("no stats")
}

func (d *signalDriver) ExecTask(context.Context, string, []string, bool, io.Reader, io.Writer, io.Writer, <-chan plugins.TerminalSize) (int, error) {
	return 0, errors.New("no exec")
}

func (d *signalDriver) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.signals
	d.signals = nil
	slices.Sort(out)
	return out
}

func TestSignalAlloc(t *testing.T) {
	sd := &signalDriver{Driver: clienttest.NewDriver()}
	tc := newTestClient(t, time.Minute, func(c *Config) {
		c.Drivers = map[string]plugins.Driver{clienttest.DriverName: sd}
	})
	a := tc.place(structs.JobTypeService, map[string]any{}, map[string]any{})
	clienttest.WaitFor(t, waitLong, func() error {
		for _, task := range []string{"t0", "t1"} {
			if st, _ := tc.TaskState(a.ID, task); st == nil || st.State != structs.TaskStateRunning {
				return fmt.Errorf("task %s not running yet", task)
			}
		}
		return nil
	})

	tests := []struct {
		name    string
		alloc   string
		task    string
		want    []string
		wantErr error
	}{
		{"one task", a.ID, "t1", []string{"t1 SIGUSR1"}, nil},
		{"all running tasks", a.ID, "", []string{"t0 SIGUSR1", "t1 SIGUSR1"}, nil},
		{"unknown task", a.ID, "nope", nil, ErrUnknownTask},
		{"unknown alloc", structs.GenerateUUID(), "", nil, ErrUnknownAlloc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tc.SignalAlloc(context.Background(), tt.alloc, tt.task, "SIGUSR1")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("SignalAlloc error %v, want %v", err, tt.wantErr)
			}
			if got := sd.take(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("signals %q, want %q", got, tt.want)
			}
		})
	}
}

// statsDriver reports a fixed usage per task: 1 MiB RSS and 10% CPU.
type statsDriver struct{ signalDriver }

func (d *statsDriver) TaskStats(ctx context.Context, _ string, _ time.Duration) (<-chan *plugins.TaskResourceUsage, error) {
	ch := make(chan *plugins.TaskResourceUsage, 2)
	for range 2 {
		ch <- &plugins.TaskResourceUsage{Timestamp: time.Now().UnixNano(), ResourceUsage: &plugins.ResourceUsage{
			MemoryStats: &plugins.MemoryStats{RSS: 1 << 20, Measured: []string{plugins.MeasuredRSS}},
			CpuStats:    &plugins.CpuStats{Percent: 10, Measured: []string{plugins.MeasuredPercent}},
		}}
	}
	close(ch)
	return ch, nil
}

func TestRestartAndStatsAlloc(t *testing.T) {
	sd := &statsDriver{signalDriver{Driver: clienttest.NewDriver()}}
	tc := newTestClient(t, time.Minute, func(c *Config) {
		c.Drivers = map[string]plugins.Driver{clienttest.DriverName: sd}
	})
	a := tc.place(structs.JobTypeService, map[string]any{}, map[string]any{})
	running := func(starts int) func() error {
		return func() error {
			if n := len(sd.Started()); n != starts {
				return fmt.Errorf("%d starts, want %d", n, starts)
			}
			for _, task := range []string{"t0", "t1"} {
				if st, _ := tc.TaskState(a.ID, task); st == nil || st.State != structs.TaskStateRunning {
					return fmt.Errorf("task %s not running yet", task)
				}
			}
			return nil
		}
	}
	clienttest.WaitFor(t, waitLong, running(2))

	tests := []struct {
		name     string
		alloc    string
		task     string
		allTasks bool
		starts   int // total starts afterwards
		wantErr  error
	}{
		{"one task", a.ID, "t1", false, 3, nil},
		{"running tasks", a.ID, "", false, 5, nil},
		{"all tasks", a.ID, "", true, 7, nil},
		{"unknown task", a.ID, "nope", false, 7, ErrUnknownTask},
		{"unknown alloc", structs.GenerateUUID(), "", false, 7, ErrUnknownAlloc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tc.RestartAlloc(context.Background(), tt.alloc, tt.task, tt.allTasks)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("RestartAlloc error %v, want %v", err, tt.wantErr)
			}
			clienttest.WaitFor(t, waitLong, running(tt.starts))
		})
	}

	u, err := tc.AllocStats(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Tasks) != 2 || u.ResourceUsage.MemoryStats.RSS != 2<<20 || u.ResourceUsage.CpuStats.Percent != 20 {
		t.Fatalf("alloc stats: %d tasks, totals %+v %+v", len(u.Tasks), u.ResourceUsage.MemoryStats, u.ResourceUsage.CpuStats)
	}
	if _, err := tc.AllocStats(context.Background(), structs.GenerateUUID()); !errors.Is(err, ErrUnknownAlloc) {
		t.Fatalf("stats of an unknown allocation: %v", err)
	}
}
