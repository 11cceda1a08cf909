// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/droverhq/drover/client/allocdir"
	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// signalDriver adds signal delivery to the fake driver, recording what it
// was asked to send.
type signalDriver struct {
	*clienttest.Driver
	mu      sync.Mutex
	signals []string
}

func (d *signalDriver) Capabilities() (*plugins.Capabilities, error) {
	return &plugins.Capabilities{SendSignals: true}, nil
}

func (d *signalDriver) SignalTask(taskID, signal string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.signals = append(d.signals, taskID+" "+signal)
	return nil
}

func (d *signalDriver) TaskStats(context.Context, string, time.Duration) (<-chan *plugins.TaskResourceUsage, error) {
	return nil, errors.New("no stats")
}

func (d *signalDriver) ExecTask(context.Context, string, []string, bool, io.Reader, io.Writer, io.Writer, <-chan plugins.TerminalSize) (int, error) {
	return 0, errors.New("no exec")
}

func startRunner(t *testing.T, driver plugins.Driver) *TaskRunner {
	t.Helper()
	alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{})
	tr := New(Config{
		Alloc:    alloc,
		Task:     alloc.Job.TaskGroups[0].Tasks[0],
		AllocDir: allocdir.New(t.TempDir(), alloc.ID),
		Driver:   driver,
	})
	go tr.Run()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.Kill(ctx, nil)
	})
	clienttest.WaitFor(t, 5*time.Second, func() error {
		if s := tr.State().State; s != structs.TaskStateRunning {
			return errors.New("task is " + s)
		}
		return nil
	})
	return tr
}

func TestSignal(t *testing.T) {
	sd := &signalDriver{Driver: clienttest.NewDriver()}
	tests := []struct {
		name    string
		driver  plugins.Driver
		wantErr error
	}{
		{"driver with signals", sd, nil},
		{"driver without signals", clienttest.NewDriver(), ErrSignalsUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := startRunner(t, tc.driver)
			err := tr.Signal(context.Background(), "SIGHUP")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Signal error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			sd.mu.Lock()
			got := sd.signals
			sd.mu.Unlock()
			if len(got) != 1 || got[0] != tr.req.TaskID+" SIGHUP" {
				t.Fatalf("driver got signals %q", got)
			}
			evs := tr.State().Events
			last := evs[len(evs)-1]
			if last.Type != structs.TaskSignaling || last.Details["signal"] != "SIGHUP" {
				t.Fatalf("last event %+v", last)
			}
		})
	}
}

func TestSignalNotRunning(t *testing.T) {
	sd := &signalDriver{Driver: clienttest.NewDriver()}
	tr := startRunner(t, sd)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Kill(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.Signal(context.Background(), "SIGHUP"); !errors.Is(err, ErrTaskNotRunning) {
		t.Fatalf("Signal on a dead task: %v", err)
	}
}
