// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"context"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/drivers/tasktable"
	"github.com/droverhq/drover/plugins"
)

// task is one container the driver runs, and what it has learnt of its
// exit. The container and its task live in containerd; this is only the
// plugin's view, rebuilt by RecoverTask after a plugin restart.
type task struct {
	cfg         *plugins.TaskConfig
	namespace   string
	containerID string
	image       string
	pid         uint32
	startedAt   time.Time

	// stopWatch ends the exit watcher (on DestroyTask).
	stopWatch context.CancelFunc

	tasktable.Outcome
}

func (t *task) ctx(parent context.Context) context.Context {
	return namespaces.WithNamespace(parent, t.namespace)
}

// watchRetry is how long the watcher waits before asking containerd
// again after losing its Wait stream (a daemon restart, say).
const watchRetry = time.Second

// watch waits for the task's exit through containerd and records it. The
// Wait stream is per connection: if it breaks while the task lives on (the
// daemon restarted; shims outlive it), the watcher asks again. A task
// that exited while nobody watched still answers Wait with its status
// until it is deleted, which is how a recovered task reports its real
// exit. first, if not nil, is a Wait already set up before Start.
func (t *task) watch(ctx context.Context, c *client.Client, first <-chan client.ExitStatus, logger hclog.Logger) {
	statusC := first
	for {
		if statusC == nil {
			var err error
			statusC, err = t.waitChan(ctx, c)
			if errdefs.IsNotFound(err) {
				t.Set(&plugins.ExitResult{ExitCode: -1, Err: "containerd no longer knows the task: " + err.Error()}, time.Now())
				return
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				logger.Warn("waiting for task exit", "error", err)
				if !sleepCtx(ctx, watchRetry) {
					return
				}
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case st := <-statusC:
			code, exitedAt, err := st.Result()
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				logger.Warn("lost the task's wait stream; asking again", "error", err)
				statusC = nil
				if !sleepCtx(ctx, watchRetry) {
					return
				}
				continue
			}
			res := exitResult(code)
			// Read before anyone deletes the task: the cgroup goes with it.
			res.OOMKilled = oomKilled(cgroupPath(t.namespace, t.containerID))
			logger.Info("task exited", "exit_code", res.ExitCode, "signal", res.Signal, "oom_killed", res.OOMKilled)
			t.Set(res, exitedAt)
			return
		}
	}
}

func (t *task) waitChan(ctx context.Context, c *client.Client) (<-chan client.ExitStatus, error) {
	ctx = t.ctx(ctx)
	ctr, err := c.LoadContainer(ctx, t.containerID)
	if err != nil {
		return nil, err
	}
	ct, err := ctr.Task(ctx, nil)
	if err != nil {
		return nil, err
	}
	return ct.Wait(ctx)
}

// exitResult maps containerd's exit status, which reports a death by
// signal N the way a shell does (128+N), onto ExitResult.
func exitResult(code uint32) *plugins.ExitResult {
	res := &plugins.ExitResult{ExitCode: int(code)}
	if code > 128 && code < 128+65 {
		res.Signal = int(code) - 128
	}
	return res
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
