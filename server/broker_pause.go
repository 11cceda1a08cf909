// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"

	"github.com/droverhq/drover/server/state"
)

// watchBrokerPause keeps the leader's eval broker paused while the
// scheduler configuration says PauseEvalBroker, until ctx (leadership)
// ends. Evaluations keep queueing while paused; workers get none.
func (s *Server) watchBrokerPause(ctx context.Context) {
	var index uint64
	paused := false
	for ctx.Err() == nil {
		var want bool
		next, err := s.state.BlockingQuery(ctx, index, func(snap *state.Snapshot) (uint64, error) {
			cfg, err := snap.SchedulerConfig()
			if err != nil {
				return 0, err
			}
			want = cfg.PauseEvalBroker
			return snap.Index(state.TableSchedulerConfig)
		})
		if err != nil {
			s.logger.Error("read scheduler configuration for the eval broker", "error", err)
			return
		}
		if want != paused {
			paused = want
			s.broker.SetPaused(paused)
			s.logger.Info("eval broker pause changed by the scheduler configuration", "paused", paused)
		}
		index = next
	}
	if paused {
		s.broker.SetPaused(false)
	}
}
