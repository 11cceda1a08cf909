// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package mock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/droverhq/drover/drivers/taskstats"
	"github.com/droverhq/drover/plugins"
)

// Capabilities: the mock takes signals and execs, and pretends to chroot
// so clients exercise their isolation paths.
func (d *Driver) Capabilities() (*plugins.Capabilities, error) {
	return &plugins.Capabilities{SendSignals: true, Exec: true, FSIsolation: plugins.FSIsolationChroot}, nil
}

// SignalTask checks the signal and fails with signal_error if the config
// sets one; a running mock task otherwise ignores signals.
func (d *Driver) SignalTask(taskID, signal string) error {
	t, _, err := d.tasks.Signaled("signal", taskID, signal)
	if err != nil {
		return err
	}
	if t.ts.SignalError != "" {
		return fmt.Errorf("signal task %q: %s", taskID, t.ts.SignalError)
	}
	t.logger.Debug("task signalled", "signal", signal)
	return nil
}

// TaskStats reports the config's fixed stats every interval until the
// task exits.
func (d *Driver) TaskStats(ctx context.Context, taskID string, interval time.Duration) (<-chan *plugins.TaskResourceUsage, error) {
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return nil, err
	}
	s := t.ts.Stats
	if s == nil {
		s = &Stats{}
	}
	sample := func(at time.Time) (*plugins.TaskResourceUsage, error) {
		return &plugins.TaskResourceUsage{
			ResourceUsage: &plugins.ResourceUsage{
				MemoryStats: &plugins.MemoryStats{
					RSS: s.MemoryRSS, Cache: s.MemoryCache, Swap: s.MemorySwap,
					Usage: s.MemoryUsage, MaxUsage: s.MemoryMax,
					Measured: []string{plugins.MeasuredRSS, plugins.MeasuredCache, plugins.MeasuredSwap,
						plugins.MeasuredUsage, plugins.MeasuredMaxUsage},
				},
				CpuStats: &plugins.CpuStats{
					Percent: s.CPUPercent, TotalTicks: s.CPUTotalTicks,
					Measured: []string{plugins.MeasuredPercent, plugins.MeasuredTotalTicks},
				},
			},
			Timestamp: at.UnixNano(),
		}, nil
	}
	return taskstats.Stream(ctx, interval, t.Done(), sample, t.logger), nil
}

// ExecTask understands three commands, enough to test exec plumbing
// without processes: `echo ARGS...` prints its arguments, `cat` copies
// stdin to stdout, `exit N` exits with N. Anything else exits 127 with a
// message on stderr, as a shell would.
func (d *Driver) ExecTask(ctx context.Context, taskID string, cmd []string, tty bool,
	stdin io.Reader, stdout, stderr io.Writer, resize <-chan plugins.TerminalSize) (int, error) {
	if len(cmd) == 0 {
		return 0, fmt.Errorf("exec in task %q: no command", taskID)
	}
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return 0, err
	}
	if res, _ := t.Exit(); res != nil {
		return 0, fmt.Errorf("exec in task %q: task has exited", taskID)
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil || tty {
		stderr = stdout
	}
	switch cmd[0] {
	case "echo":
		_, err = fmt.Fprintln(stdout, strings.Join(cmd[1:], " "))
	case "cat":
		if stdin != nil {
			err = copyCtx(ctx, stdout, stdin)
		}
	case "exit":
		if len(cmd) != 2 {
			fmt.Fprintln(stderr, "exit: want one argument")
			return 2, nil
		}
		code, perr := strconv.Atoi(cmd[1])
		if perr != nil {
			fmt.Fprintf(stderr, "exit: %s: numeric argument required\n", cmd[1])
			return 2, nil
		}
		return code, nil
	default:
		fmt.Fprintf(stderr, "mock: %s: command not found\n", cmd[0])
		return 127, nil
	}
	if err != nil {
		return 0, fmt.Errorf("exec in task %q: %w", taskID, err)
	}
	return 0, nil
}

// copyCtx copies until src ends or ctx does.
func copyCtx(ctx context.Context, dst io.Writer, src io.Reader) error {
	errc := make(chan error, 1)
	go func() {
		_, err := io.Copy(dst, src)
		errc <- err
	}()
	select {
	case err := <-errc:
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
