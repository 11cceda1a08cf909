// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/raft"
)

// autopilotInterval is how often the leader looks for dead servers.
var autopilotInterval = 2 * time.Second

// autopilot runs on the leader: it removes from the raft configuration the
// voters the leader has not heard from (no membership exchange) for
// DeadServerLastContactThreshold, one at a time and only while the voters
// left keep a quorum of reachable servers, so a removal never costs the
// cluster its ability to commit. A removed server that comes back is added
// again by membership reconciliation.
func (s *Server) autopilot(ctx context.Context) {
	defer s.wg.Done()
	if s.cfg.Autopilot.DisableCleanupDeadServers {
		return
	}
	leaderSince := time.Now()
	t := time.NewTicker(autopilotInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.pruneDeadServers(leaderSince); err != nil {
			s.logger.Warn("autopilot", "error", err)
		}
	}
}

func (s *Server) pruneDeadServers(leaderSince time.Time) error {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("read raft configuration: %w", err)
	}
	threshold := s.cfg.Autopilot.DeadServerLastContactThreshold
	var voters []raft.Server
	for _, srv := range f.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			voters = append(voters, srv)
		}
	}
	var dead []raft.Server
	for _, srv := range voters {
		if string(srv.ID) == s.cfg.NodeName {
			continue
		}
		last, known := s.members.lastSeen(string(srv.ID))
		if !known || last.Before(leaderSince) {
			// Count silence from when this server began to lead: it
			// cannot know of contact before.
			last = leaderSince
		}
		if time.Since(last) > threshold {
			dead = append(dead, srv)
		}
	}
	sort.Slice(dead, func(i, j int) bool { return dead[i].ID < dead[j].ID })
	n, alive := len(voters), len(voters)-len(dead)
	for _, srv := range dead {
		if !safeToRemove(n, alive, s.cfg.Autopilot.MinQuorum) {
			s.logger.Warn("autopilot: not removing dead server, the rest would lose quorum",
				"id", srv.ID, "voters", n, "alive", alive)
			return nil
		}
		s.logger.Info("autopilot: removing dead server", "id", srv.ID, "address", srv.Address, "threshold", threshold)
		if err := s.awaitRaft(s.raft.RemoveServer(srv.ID, 0, 10*time.Second)); err != nil {
			return fmt.Errorf("remove dead server %s: %w", srv.ID, err)
		}
		s.members.markLeft(string(srv.ID))
		n--
	}
	return nil
}

// safeToRemove reports whether a dead voter may be removed from a
// configuration of voters voters, alive of which are reachable: the
// remaining configuration must have a reachable majority and keep at
// least minQuorum voters.
func safeToRemove(voters, alive, minQuorum int) bool {
	remaining := voters - 1
	if remaining < 1 || remaining < minQuorum {
		return false
	}
	return alive >= remaining/2+1
}
