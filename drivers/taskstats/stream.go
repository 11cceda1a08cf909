// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskstats

import (
	"context"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

// MinInterval bounds how often a stream samples, so a zero or tiny
// interval from a caller cannot turn sampling into a busy loop.
const MinInterval = 100 * time.Millisecond

// Stream samples at once and then every interval, sending each sample on
// the returned channel, until ctx ends or done closes (the task exited).
// A failed sample is logged and skipped: a process may vanish between
// listing and reading it.
func Stream(ctx context.Context, interval time.Duration, done <-chan struct{},
	sample func(at time.Time) (*plugins.TaskResourceUsage, error), logger hclog.Logger) <-chan *plugins.TaskResourceUsage {
	interval = max(interval, MinInterval)
	out := make(chan *plugins.TaskResourceUsage)
	go func() {
		defer close(out)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			u, err := sample(time.Now())
			if err != nil {
				logger.Debug("resource usage sample failed", "error", err)
			} else {
				select {
				case out <- u:
				case <-ctx.Done():
					return
				case <-done:
					return
				}
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			case <-done:
				return
			}
		}
	}()
	return out
}
