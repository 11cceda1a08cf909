// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package server is Drover's control plane: raft over the state store, the
// leader's evaluation broker, scheduler workers, the plan applier, node
// heartbeats and the RPC endpoints clients call. Reads are served from the
// local state store; every write goes through raft.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/droverhq/drover/server/broker"
	"github.com/droverhq/drover/server/fsm"
	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// Config configures a server.
type Config struct {
	// NodeName names this server in raft and in logs.
	NodeName   string
	Region     string
	Datacenter string
	// DevMode keeps raft in memory: nothing survives a restart.
	DevMode bool
	// DataDir holds raft's log and snapshots when not in DevMode.
	DataDir string
	// RPCAddr is where the RPC (and raft) listener binds; port 0 picks one.
	RPCAddr string
	// RPCAdvertise is the address other agents reach RPCAddr at; empty
	// means the bound address.
	RPCAdvertise string
	// BootstrapExpect is how many servers form the first cluster. Only 1
	// is supported until multi-server clustering lands.
	BootstrapExpect int
	// NumSchedulers is how many scheduler workers run here.
	NumSchedulers int
	// MinHeartbeatTTL, HeartbeatGrace and MaxHeartbeatsPerSecond shape
	// client heartbeats, as Nomad's options of the same names.
	MinHeartbeatTTL        time.Duration
	HeartbeatGrace         time.Duration
	MaxHeartbeatsPerSecond float64
	Logger                 hclog.Logger
}

func (c *Config) setDefaults() {
	if c.NodeName == "" {
		c.NodeName = "server"
	}
	if c.Region == "" {
		c.Region = structs.DefaultRegion
	}
	if c.Datacenter == "" {
		c.Datacenter = "dc1"
	}
	if c.RPCAddr == "" {
		c.RPCAddr = "127.0.0.1:4647"
	}
	if c.BootstrapExpect == 0 {
		c.BootstrapExpect = 1
	}
	if c.NumSchedulers == 0 {
		c.NumSchedulers = 2
	}
	if c.MinHeartbeatTTL == 0 {
		c.MinHeartbeatTTL = 10 * time.Second
	}
	if c.HeartbeatGrace == 0 {
		c.HeartbeatGrace = 10 * time.Second
	}
	if c.MaxHeartbeatsPerSecond == 0 {
		c.MaxHeartbeatsPerSecond = 50
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
}

// Server is one control-plane member.
type Server struct {
	cfg    Config
	logger hclog.Logger

	state  *state.StateStore
	fsm    *fsm.FSM
	raft   *raft.Raft
	closer func() error // releases raft's stores

	broker     *broker.Broker
	blocked    *blockedEvals
	planQueue  chan *pendingPlan
	heartbeats *heartbeats

	rpcListener net.Listener
	raftLayer   *raftLayer
	rpcServer   *rpcServer

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	leaderMu sync.Mutex
	// leaderCancel stops the leader-only loops when leadership is lost.
	leaderCancel context.CancelFunc
}

// New starts a server: it opens raft, starts the RPC listener and the
// scheduler workers, and begins campaigning for leadership.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.BootstrapExpect != 1 {
		return nil, fmt.Errorf("bootstrap_expect = %d: only single-server clusters are supported so far", cfg.BootstrapExpect)
	}
	st, err := state.New()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:       cfg,
		logger:    cfg.Logger.Named("server"),
		state:     st,
		planQueue: make(chan *pendingPlan, 64),
		ctx:       ctx,
		cancel:    cancel,
	}
	s.broker = broker.New(broker.Config{OnGiveUp: s.evalGivenUp})
	s.blocked = newBlockedEvals(s.broker)
	s.heartbeats = newHeartbeats(s)
	s.fsm = fsm.New(st, s, cfg.Logger)

	if err := s.startRPC(); err != nil {
		cancel()
		return nil, err
	}
	if err := s.setupRaft(); err != nil {
		_ = s.rpcListener.Close()
		cancel()
		return nil, err
	}
	s.wg.Add(1)
	go s.monitorLeadership()
	for i := 0; i < cfg.NumSchedulers; i++ {
		w := newWorker(s, i)
		s.wg.Add(1)
		go w.run(ctx)
	}
	return s, nil
}

// Shutdown stops the server.
func (s *Server) Shutdown() error {
	s.cancel()
	s.broker.SetEnabled(false)
	var errs []error
	if s.rpcListener != nil {
		errs = append(errs, s.rpcListener.Close())
	}
	if s.raftLayer != nil {
		s.raftLayer.Close()
	}
	if s.raft != nil {
		errs = append(errs, s.raft.Shutdown().Error())
	}
	s.wg.Wait()
	if s.closer != nil {
		errs = append(errs, s.closer())
	}
	return errors.Join(errs...)
}

// State returns the server's state store, for reads.
func (s *Server) State() *state.StateStore { return s.state }

// Region returns the server's region.
func (s *Server) Region() string { return s.cfg.Region }

// RPCAddr returns the address clients reach this server's RPC at.
func (s *Server) RPCAddr() string {
	if s.cfg.RPCAdvertise != "" {
		return s.cfg.RPCAdvertise
	}
	return s.rpcListener.Addr().String()
}

// IsLeader reports whether this server leads the cluster.
func (s *Server) IsLeader() bool { return s.raft.State() == raft.Leader }

// Leader returns the leader's RPC address, or "" when there is none.
func (s *Server) Leader() string {
	addr, _ := s.raft.LeaderWithID()
	return string(addr)
}

// LastContact returns the time since this server last heard from the
// leader (0 on the leader itself).
func (s *Server) LastContact() time.Duration {
	if s.IsLeader() {
		return 0
	}
	last := s.raft.LastContact()
	if last.IsZero() {
		return 0
	}
	return time.Since(last)
}

// Peers returns the raft voters' addresses.
func (s *Server) Peers() ([]string, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("read raft configuration: %w", err)
	}
	var out []string
	for _, srv := range f.Configuration().Servers {
		out = append(out, string(srv.Address))
	}
	return out, nil
}

// errNotLeader is returned for writes made on a follower. Forwarding writes
// to the leader comes with multi-server clustering.
var errNotLeader = errors.New("no cluster leader")

// raftApply commits a message through raft and returns its index.
func (s *Server) raftApply(t structs.MessageType, msg any) (uint64, error) {
	if !s.IsLeader() {
		return 0, errNotLeader
	}
	buf, err := structs.Encode(t, msg)
	if err != nil {
		return 0, err
	}
	f := s.raft.Apply(buf, 30*time.Second)
	if err := f.Error(); err != nil {
		return 0, fmt.Errorf("raft apply: %w", err)
	}
	if err, ok := f.Response().(error); ok && err != nil {
		return 0, err
	}
	return f.Index(), nil
}

// EvalsCommitted implements fsm.Observer: on the leader, pending
// evaluations go to the broker and blocked ones to the blocked tracker.
func (s *Server) EvalsCommitted(evals []*structs.Evaluation) {
	if !s.broker.Enabled() {
		return
	}
	for _, e := range evals {
		switch e.Status {
		case structs.EvalStatusPending:
			s.broker.Enqueue(e)
		case structs.EvalStatusBlocked:
			s.blocked.Block(e)
		}
	}
}

// evalGivenUp marks an evaluation the broker gave up on as failed.
func (s *Server) evalGivenUp(eval *structs.Evaluation) {
	failed := eval.Copy()
	failed.Status = structs.EvalStatusFailed
	failed.StatusDescription = "evaluation reached delivery limit"
	failed.ModifyTime = time.Now().UnixNano()
	if _, err := s.raftApply(structs.EvalUpdateRequestType, &structs.EvalUpdateRequest{Evals: []*structs.Evaluation{failed}}); err != nil {
		s.logger.Error("cannot mark eval failed", "eval_id", eval.ID, "error", err)
	}
}
