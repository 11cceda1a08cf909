// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/droverhq/drover/plugins"
)

// ErrStatsUnsupported is returned by Stats when the task's driver cannot
// report resource usage.
var ErrStatsUnsupported = errors.New("driver does not support stats")

// statsInterval is the gap between the two samples Stats takes: CPU use is
// a rate, and the drivers' first sample has no predecessor to measure from.
const statsInterval = 200 * time.Millisecond

// Stats samples the running attempt's resource usage through its driver
// (`alloc status -stats`, /v1/client/allocation/:id/stats). It waits for
// a second sample so that CPU rates are measured, falling back to the
// first one when ctx ends or the stream closes before it.
func (tr *TaskRunner) Stats(ctx context.Context) (*plugins.TaskResourceUsage, error) {
	ops, ok := tr.cfg.Driver.(plugins.TaskOperations)
	if !ok {
		return nil, ErrStatsUnsupported
	}
	tr.mu.Lock()
	id := tr.taskID
	tr.mu.Unlock()
	if id == "" {
		return nil, fmt.Errorf("stats of task %q: %w", tr.cfg.Task.Name, ErrTaskNotRunning)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := ops.TaskStats(ctx, id, statsInterval)
	if err != nil {
		return nil, fmt.Errorf("stats of task %q: %w", tr.cfg.Task.Name, err)
	}
	var last *plugins.TaskResourceUsage
	for range 2 {
		select {
		case u, ok := <-ch:
			if !ok {
				return sampleOrErr(last, tr.cfg.Task.Name)
			}
			last = u
		case <-ctx.Done():
			if last == nil {
				return nil, fmt.Errorf("stats of task %q: %w", tr.cfg.Task.Name, ctx.Err())
			}
			return last, nil
		}
	}
	return last, nil
}

func sampleOrErr(u *plugins.TaskResourceUsage, task string) (*plugins.TaskResourceUsage, error) {
	if u == nil {
		return nil, fmt.Errorf("stats of task %q: %w", task, ErrTaskNotRunning)
	}
	return u, nil
}
