// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	cgroup1stats "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroup2stats "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/typeurl/v2"

	"github.com/droverhq/drover/drivers/taskstats"
	"github.com/droverhq/drover/plugins"
)

var _ plugins.TaskOperations = (*Driver)(nil)

// Capabilities: containers take signals and execs, and see only their
// image.
func (d *Driver) Capabilities() (*plugins.Capabilities, error) {
	return &plugins.Capabilities{SendSignals: true, Exec: true, FSIsolation: plugins.FSIsolationImage, MountConfigs: true}, nil
}

// SignalTask signals the container's main process, as `docker kill -s`.
func (d *Driver) SignalTask(taskID, signal string) error {
	t, sig, err := d.tasks.Signaled("signal", taskID, signal)
	if err != nil {
		return err
	}
	c, _, err := d.getClient()
	if err != nil {
		return fmt.Errorf("signal task %q: %w", taskID, err)
	}
	if err := d.kill(c, t, sig, false); err != nil {
		return fmt.Errorf("signal task %q: %w", taskID, err)
	}
	return nil
}

// TaskStats reports the container's cgroup metrics, as containerd's shim
// reads them (task.Metrics), in v1 or v2 form.
func (d *Driver) TaskStats(ctx context.Context, taskID string, interval time.Duration) (<-chan *plugins.TaskResourceUsage, error) {
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return nil, err
	}
	c, _, err := d.getClient()
	if err != nil {
		return nil, fmt.Errorf("stats of task %q: %w", taskID, err)
	}
	var cpu taskstats.CPU
	sample := func(at time.Time) (*plugins.TaskResourceUsage, error) {
		rctx, cancel := context.WithTimeout(t.ctx(ctx), rpcTimeout)
		defer cancel()
		ct, err := loadTask(rctx, c, t)
		if err != nil {
			return nil, err
		}
		m, err := ct.Metrics(rctx)
		if err != nil {
			return nil, fmt.Errorf("metrics of container %s: %w", t.containerID, err)
		}
		data, err := typeurl.UnmarshalAny(m.Data)
		if err != nil {
			return nil, fmt.Errorf("decode metrics of container %s: %w", t.containerID, err)
		}
		ru, err := usageFromMetrics(data, at, &cpu)
		if err != nil {
			return nil, fmt.Errorf("container %s: %w", t.containerID, err)
		}
		return &plugins.TaskResourceUsage{ResourceUsage: ru, Timestamp: at.UnixNano()}, nil
	}
	return taskstats.Stream(ctx, interval, t.Done(), sample, d.logger.With("task_id", taskID)), nil
}

// usageFromMetrics maps cgroup v1 or v2 metrics onto Nomad's stats.
func usageFromMetrics(data any, at time.Time, cpu *taskstats.CPU) (*plugins.ResourceUsage, error) {
	mem := &plugins.MemoryStats{Measured: []string{plugins.MeasuredRSS, plugins.MeasuredCache,
		plugins.MeasuredSwap, plugins.MeasuredUsage, plugins.MeasuredMaxUsage}}
	var user, system time.Duration
	var throttled, throttledTime uint64
	switch m := data.(type) {
	case *cgroup1stats.Metrics:
		if mm := m.GetMemory(); mm != nil {
			mem.RSS, mem.Cache = mm.GetTotalRSS(), mm.GetTotalCache()
			mem.Swap = mm.GetSwap().GetUsage() - mm.GetUsage().GetUsage()
			if mm.GetSwap().GetUsage() < mm.GetUsage().GetUsage() {
				mem.Swap = 0 // no swap accounting
			}
			mem.Usage, mem.MaxUsage = mm.GetUsage().GetUsage(), mm.GetUsage().GetMax()
			mem.KernelUsage, mem.KernelMaxUsage = mm.GetKernel().GetUsage(), mm.GetKernel().GetMax()
		}
		if c := m.GetCPU(); c != nil {
			user = time.Duration(c.GetUsage().GetUser())
			system = time.Duration(c.GetUsage().GetKernel())
			throttled, throttledTime = c.GetThrottling().GetThrottledPeriods(), c.GetThrottling().GetThrottledTime()
		}
	case *cgroup2stats.Metrics:
		if mm := m.GetMemory(); mm != nil {
			mem.RSS, mem.Cache, mem.Swap = mm.GetAnon(), mm.GetFile(), mm.GetSwapUsage()
			mem.Usage, mem.MaxUsage = mm.GetUsage(), mm.GetMaxUsage()
		}
		if c := m.GetCPU(); c != nil {
			user = time.Duration(c.GetUserUsec()) * time.Microsecond
			system = time.Duration(c.GetSystemUsec()) * time.Microsecond
			throttled, throttledTime = c.GetNrThrottled(), c.GetThrottledUsec()*1000
		}
	default:
		return nil, fmt.Errorf("unknown metrics type %T", data)
	}
	cs := cpu.Sample(at, user, system)
	cs.ThrottledPeriods, cs.ThrottledTime = throttled, throttledTime
	cs.Measured = append(cs.Measured, plugins.MeasuredThrottled)
	return &plugins.ResourceUsage{MemoryStats: mem, CpuStats: cs}, nil
}

// ExecTask runs cmd in the container as a new process of its task, with
// the main process's user, environment and working directory.
func (d *Driver) ExecTask(ctx context.Context, taskID string, cmd []string, tty bool,
	stdin io.Reader, stdout, stderr io.Writer, resize <-chan plugins.TerminalSize) (int, error) {
	if len(cmd) == 0 {
		return 0, fmt.Errorf("exec in task %q: no command", taskID)
	}
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return 0, err
	}
	c, _, err := d.getClient()
	if err != nil {
		return 0, fmt.Errorf("exec in task %q: %w", taskID, err)
	}
	code, err := d.exec(t.ctx(ctx), c, t, cmd, tty, stdin, stdout, stderr, resize)
	if err != nil {
		return 0, fmt.Errorf("exec in task %q: %w", taskID, err)
	}
	return code, nil
}

func (d *Driver) exec(ctx context.Context, c *client.Client, t *task, cmd []string, tty bool,
	stdin io.Reader, stdout, stderr io.Writer, resize <-chan plugins.TerminalSize) (int, error) {
	ctr, err := c.LoadContainer(ctx, t.containerID)
	if err != nil {
		return 0, fmt.Errorf("load container %s: %w", t.containerID, err)
	}
	spec, err := ctr.Spec(ctx)
	if err != nil {
		return 0, fmt.Errorf("spec of container %s: %w", t.containerID, err)
	}
	ct, err := ctr.Task(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("load task of container %s: %w", t.containerID, err)
	}
	pspec := *spec.Process
	pspec.Args, pspec.Terminal = cmd, tty

	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	// The process must see its stdin end: containerd's copy closes only its
	// own end of the FIFO, so the end is passed on with CloseIO. Not on a
	// terminal: closing it hangs the process up (SIGHUP), and a terminal's
	// end of input is a ^D in the stream.
	var proc client.Process
	stdinEOF := make(chan struct{})
	var in io.Reader = eofNotifier{r: orEmpty(stdin), eof: stdinEOF}
	if tty {
		// A terminal has no end of input to forward: the shim closes
		// the session when the process exits.
		stdinEOF = nil
		in = orEmpty(stdin)
	}
	opts := []cio.Opt{cio.WithStreams(in, stdout, stderr)}
	if tty {
		opts = append(opts, cio.WithTerminal)
	}
	execID := "exec-" + randomHex(8)
	proc, err = ct.Exec(ctx, execID, &pspec, cio.NewCreator(opts...))
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", t.containerID, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rpcTimeout)
		defer cancel()
		if _, err := proc.Delete(dctx, client.WithProcessKill); err != nil {
			d.logger.Debug("delete exec process", "container", t.containerID, "exec_id", execID, "error", err)
		}
	}()
	statusC, err := proc.Wait(ctx)
	if err != nil {
		return 0, fmt.Errorf("wait for exec in container %s: %w", t.containerID, err)
	}
	if err := proc.Start(ctx); err != nil {
		return 0, fmt.Errorf("start exec in container %s: %w", t.containerID, err)
	}
	for {
		select {
		case st := <-statusC:
			code, _, err := st.Result()
			if err != nil {
				return 0, fmt.Errorf("exec in container %s: %w", t.containerID, err)
			}
			// Delete (deferred) waits for the output copies to finish.
			return int(code), nil
		case <-stdinEOF:
			stdinEOF = nil
			if err := proc.CloseIO(ctx, client.WithStdinCloser); err != nil {
				d.logger.Debug("close exec stdin", "container", t.containerID, "error", err)
			}
		case sz, ok := <-resize:
			if !ok {
				resize = nil
				continue
			}
			if err := proc.Resize(ctx, uint32(sz.Width), uint32(sz.Height)); err != nil {
				d.logger.Debug("resize exec terminal", "container", t.containerID, "error", err)
			}
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// loadTask loads the containerd task of t's container.
func loadTask(ctx context.Context, c *client.Client, t *task) (client.Task, error) {
	ctr, err := c.LoadContainer(ctx, t.containerID)
	if err != nil {
		return nil, fmt.Errorf("load container %s: %w", t.containerID, err)
	}
	ct, err := ctr.Task(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("load task of container %s: %w", t.containerID, err)
	}
	return ct, nil
}

// eofNotifier closes eof when r ends.
type eofNotifier struct {
	r   io.Reader
	eof chan struct{}
}

func (e eofNotifier) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if errors.Is(err, io.EOF) {
		select {
		case <-e.eof:
		default:
			close(e.eof)
		}
	}
	return n, err
}

func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return eofReader{}
	}
	return r
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
