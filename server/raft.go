// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/droverhq/drover/structs"
)

// setupRaft opens raft's stores (in memory in dev mode, raft-boltdb and
// file snapshots under data_dir otherwise) and its transport over the RPC
// port. A server with existing raft state never bootstraps again; a new
// one bootstraps alone when bootstrap_expect is 1, and otherwise waits for
// the membership loop to bootstrap it with its peers or for a leader to
// add it.
func (s *Server) setupRaft() error {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(s.cfg.NodeName)
	rc.Logger = s.cfg.Logger.Named("raft")
	switch {
	case s.cfg.DevMode:
		// One server: there is nobody to wait for.
		rc.HeartbeatTimeout = 100 * time.Millisecond
		rc.ElectionTimeout = 100 * time.Millisecond
		rc.LeaderLeaseTimeout = 100 * time.Millisecond
		rc.CommitTimeout = 5 * time.Millisecond
	case s.cfg.raftTimeout > 0:
		rc.HeartbeatTimeout = s.cfg.raftTimeout
		rc.ElectionTimeout = s.cfg.raftTimeout
		rc.LeaderLeaseTimeout = s.cfg.raftTimeout / 2
		rc.CommitTimeout = 5 * time.Millisecond
	}
	rc.SnapshotThreshold = 8192
	rc.TrailingLogs = 10240

	transport := raft.NewNetworkTransportWithLogger(s.raftLayer, 3, 10*time.Second, rc.Logger)

	var (
		logs   raft.LogStore
		stable raft.StableStore
		snaps  raft.SnapshotStore
	)
	if s.cfg.DevMode {
		store := raft.NewInmemStore()
		logs, stable, snaps = store, store, raft.NewInmemSnapshotStore()
	} else {
		dir := filepath.Join(s.cfg.DataDir, "server", "raft")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create raft dir: %w", err)
		}
		store, err := raftboltdb.NewBoltStore(filepath.Join(dir, "raft.db"))
		if err != nil {
			return fmt.Errorf("open raft log %s: %w", dir, err)
		}
		s.closer = store.Close
		// Recent entries are served from memory to followers catching up;
		// a plan entry can be ~1 MB at scale, so the cache stays small.
		cache, err := raft.NewLogCache(raftLogCacheEntries, store)
		if err != nil {
			return fmt.Errorf("create raft log cache: %w", err)
		}
		logs, stable = cache, store
		fs, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, rc.Logger)
		if err != nil {
			return fmt.Errorf("open raft snapshots %s: %w", dir, err)
		}
		snaps = fs
	}

	existing, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		return fmt.Errorf("inspect raft state: %w", err)
	}
	if !existing && s.cfg.BootstrapExpect == 1 {
		cfg := raft.Configuration{Servers: []raft.Server{{
			ID:      rc.LocalID,
			Address: transport.LocalAddr(),
		}}}
		if err := raft.BootstrapCluster(rc, logs, stable, snaps, transport, cfg); err != nil {
			return fmt.Errorf("bootstrap raft: %w", err)
		}
		existing = true
	}
	s.members.setInCluster(existing)
	r, err := raft.NewRaft(rc, s.fsm, logs, stable, snaps, transport)
	if err != nil {
		return fmt.Errorf("start raft: %w", err)
	}
	s.raft = r
	return nil
}

// monitorLeadership starts the leader-only loops when this server becomes
// leader and stops them when it steps down.
func (s *Server) monitorLeadership() {
	defer s.wg.Done()
	ch := s.raft.LeaderCh()
	for {
		select {
		case <-s.ctx.Done():
			s.revokeLeadership()
			return
		case isLeader := <-ch:
			if isLeader {
				if err := s.establishLeadership(); err != nil {
					s.logger.Error("cannot establish leadership", "error", err)
				}
			} else {
				s.revokeLeadership()
			}
		}
	}
}

// establishLeadership runs once per term on the new leader: it waits until
// the FSM has caught up, rebuilds the broker and blocked evaluations from
// state, arms heartbeat timers for every node and starts the plan applier.
// raftLogCacheEntries is how many recent raft log entries stay in memory.
const raftLogCacheEntries = 64

func (s *Server) establishLeadership() error {
	if err := s.awaitRaft(s.raft.Barrier(time.Minute)); err != nil {
		return fmt.Errorf("raft barrier: %w", err)
	}
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
	ctx, cancel := context.WithCancel(s.ctx)
	s.leaderCancel = cancel

	s.broker.SetEnabled(true)
	snap := s.state.Snapshot()
	evals, err := snap.Evals("*", "")
	if err != nil {
		return err
	}
	for _, e := range evals {
		switch e.Status {
		case structs.EvalStatusPending:
			s.broker.Enqueue(e)
		case structs.EvalStatusBlocked:
			s.blocked.Block(e)
		}
	}
	nodes, err := snap.Nodes()
	if err != nil {
		return err
	}
	s.heartbeats.initialize(nodes)

	s.wg.Add(2)
	go s.planApplier(ctx)
	go s.autopilot(ctx)
	s.startDrainer(ctx)
	s.startPeriodic(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.watchBrokerPause(ctx)
	}()
	if s.cfg.DefaultSchedulerConfig != nil {
		// A raft write: not under leaderMu, and not blocking leadership.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if _, err := s.BootstrapSchedulerConfig(s.cfg.DefaultSchedulerConfig); err != nil {
				s.logger.Error("store default_scheduler_config", "error", err)
			}
		}()
	}
	s.logger.Info("cluster leadership acquired", "node", s.cfg.NodeName)
	return nil
}

func (s *Server) revokeLeadership() {
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
	if s.leaderCancel == nil {
		return
	}
	s.leaderCancel()
	s.leaderCancel = nil
	s.broker.SetEnabled(false)
	s.blocked.Reset()
	s.heartbeats.clear()
	s.logger.Info("cluster leadership lost")
}

// raftLayer is raft's stream layer over the shared RPC port: incoming
// connections whose first byte is rpcRaft are handed to raft; outgoing ones
// write that byte first.
type raftLayer struct {
	addr   net.Addr
	connCh chan net.Conn
	closed chan struct{}
}

func newRaftLayer(addr net.Addr) *raftLayer {
	return &raftLayer{addr: addr, connCh: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *raftLayer) handoff(ctx context.Context, c net.Conn) {
	select {
	case l.connCh <- c:
	case <-l.closed:
		c.Close()
	case <-ctx.Done():
		c.Close()
	}
}

func (l *raftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.connCh:
		return c, nil
	case <-l.closed:
		return nil, fmt.Errorf("raft layer closed")
	}
}

func (l *raftLayer) Close() error {
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}

func (l *raftLayer) Addr() net.Addr { return l.addr }

func (l *raftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", string(address), timeout)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte{rpcRaft}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
