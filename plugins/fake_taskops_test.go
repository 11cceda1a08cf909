// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// The fake's TaskOperations: answers derived from the inputs, so the
// transport tests can check what crossed the wire.

var fakeUsage = &TaskResourceUsage{
	ResourceUsage: &ResourceUsage{
		MemoryStats: &MemoryStats{RSS: 1, Cache: 2, Swap: 3, Usage: 4, MaxUsage: 5, KernelUsage: 6,
			KernelMaxUsage: 7, Measured: []string{MeasuredRSS, MeasuredCache}},
		CpuStats: &CpuStats{SystemMode: 1.5, UserMode: 2.5, TotalTicks: 3.5, ThrottledPeriods: 4,
			ThrottledTime: 5, Percent: 6.5, Measured: []string{MeasuredPercent}},
	},
	Timestamp: fakeStarted.UnixNano(),
	Pids:      map[string]*ResourceUsage{"42": {MemoryStats: &MemoryStats{RSS: 9}}},
}

func (f *fakeDriver) Capabilities() (*Capabilities, error) {
	return &Capabilities{SendSignals: true, Exec: true, FSIsolation: FSIsolationChroot, MountConfigs: true}, nil
}

func (f *fakeDriver) SignalTask(taskID, signal string) error {
	if taskID == "missing" {
		return fmt.Errorf("signal %q: %w", taskID, ErrTaskNotFound)
	}
	if signal == "SIGBOGUS" {
		return fmt.Errorf("signal %q: unknown signal %q", taskID, signal)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signalled = []string{taskID, signal}
	return nil
}

// TaskStats sends fakeUsage with Timestamp counting up by interval until
// ctx ends, then reports the end on statsEnded.
func (f *fakeDriver) TaskStats(ctx context.Context, taskID string, interval time.Duration) (<-chan *TaskResourceUsage, error) {
	if taskID == "missing" {
		return nil, fmt.Errorf("stats %q: %w", taskID, ErrTaskNotFound)
	}
	ch := make(chan *TaskResourceUsage)
	go func() {
		defer close(ch)
		defer close(f.statsEnded)
		for i := int64(0); ; i++ {
			u := *fakeUsage
			u.Timestamp += i * int64(interval)
			select {
			case ch <- &u:
			case <-ctx.Done():
				return
			}
			if taskID == "short" && i == 1 {
				return
			}
		}
	}()
	return ch, nil
}

// ExecTask echoes: cmd "cat" copies stdin to stdout, "fail" writes to
// stderr and exits 3, "block" waits for ctx, "resize" prints the first
// size; everything else prints its arguments.
func (f *fakeDriver) ExecTask(ctx context.Context, taskID string, cmd []string, tty bool,
	stdin io.Reader, stdout, stderr io.Writer, resize <-chan TerminalSize) (int, error) {
	if taskID == "missing" {
		return 0, fmt.Errorf("exec %q: %w", taskID, ErrTaskNotFound)
	}
	switch cmd[0] {
	case "cat":
		if _, err := io.Copy(stdout, stdin); err != nil {
			return 0, err
		}
		return 0, nil
	case "fail":
		fmt.Fprint(stderr, "oops")
		return 3, nil
	case "block":
		close(f.execEntered)
		<-ctx.Done()
		f.execEnded <- ctx.Err()
		return 0, ctx.Err()
	case "resize":
		sz := <-resize
		fmt.Fprintf(stdout, "%dx%d tty=%v", sz.Width, sz.Height, tty)
		return 0, nil
	}
	fmt.Fprint(stdout, strings.Join(cmd, " "))
	return 0, nil
}
