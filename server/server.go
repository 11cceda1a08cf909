// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package server is Drover's control plane: raft over the state store, the
// leader's evaluation broker, scheduler workers, the plan applier, node
// heartbeats and the RPC endpoints clients call. Servers find each other
// through membership (membership.go) and form one raft cluster; reads are
// served from the local state store, every write is forwarded to the
// leader (forward.go) and goes through raft, and scheduler workers on
// every server take evaluations from the leader's broker.
package server

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
	// NodeName names this server in raft (it is its raft ID), in the
	// member list and in logs. It must be unique in the cluster.
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
	// means the bound address (or, when that is 0.0.0.0, the host's first
	// private IPv4 address). An unspecified IP here is refused.
	RPCAdvertise string
	// SerfAddr is where the membership listener binds (Nomad's serf
	// port); empty runs no listener (dev mode: a cluster of one).
	SerfAddr string
	// SerfAdvertise is the address other servers reach SerfAddr at, with
	// the same defaulting as RPCAdvertise.
	SerfAdvertise string
	// RetryJoin lists other servers' membership addresses ("host:port",
	// port optional, default 4648), tried until one answers.
	RetryJoin []string
	// BootstrapExpect is how many servers form the first cluster. 1
	// bootstraps alone at once; more waits until that many servers know
	// each other. 0 means 1 when RetryJoin is empty, and otherwise "never
	// bootstrap: wait for an existing cluster's leader to add this server".
	BootstrapExpect int
	// NumSchedulers is how many scheduler workers run here; 0 means 2,
	// a negative number none.
	NumSchedulers int
	// MinHeartbeatTTL, HeartbeatGrace and MaxHeartbeatsPerSecond shape
	// client heartbeats, as Nomad's options of the same names.
	MinHeartbeatTTL        time.Duration
	HeartbeatGrace         time.Duration
	MaxHeartbeatsPerSecond float64
	// EvalNackTimeout and EvalDeliveryLimit tune the eval broker's
	// at-least-once delivery (defaults 60s and 3).
	EvalNackTimeout   time.Duration
	EvalDeliveryLimit int
	// FailedEvalFollowupDelay is the least time before the follow-up of
	// an evaluation that reached its delivery limit runs; up to as much
	// again is added as jitter. Default 1m.
	FailedEvalFollowupDelay time.Duration
	// Autopilot configures dead-server cleanup.
	Autopilot AutopilotConfig
	// DefaultSchedulerConfig (default_scheduler_config) is stored by the
	// first leader when no scheduler configuration was ever stored; nil
	// keeps Nomad's defaults.
	DefaultSchedulerConfig *structs.SchedulerConfiguration
	Logger                 hclog.Logger

	// Test knobs: faster raft and membership timings.
	raftTimeout   time.Duration
	probeInterval time.Duration
	failTimeout   time.Duration
}

// AutopilotConfig is the autopilot block, with Nomad's option names plus
// DeadServerLastContactThreshold (as Vault's and OpenBao's autopilot).
type AutopilotConfig struct {
	// CleanupDeadServers removes dead servers from the raft configuration
	// (default on; DisableCleanupDeadServers turns it off, because a zero
	// value cannot mean "on").
	DisableCleanupDeadServers bool
	// LastContactThreshold is how long a server may go without contact
	// from the leader before it is reported unhealthy (default 200ms).
	LastContactThreshold time.Duration
	// ServerStabilizationTime is how long a newly seen server must stay
	// reachable before the leader adds it as a voter (default 10s; 0 in
	// dev mode).
	ServerStabilizationTime time.Duration
	// DeadServerLastContactThreshold is how long the leader must not have
	// heard from a voter before autopilot removes it (default 1m).
	DeadServerLastContactThreshold time.Duration
	// MinQuorum is the fewest voters autopilot leaves (default 0: only the
	// quorum rule applies).
	MinQuorum int
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
	if c.BootstrapExpect == 0 && len(c.RetryJoin) == 0 {
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
	if c.FailedEvalFollowupDelay == 0 {
		c.FailedEvalFollowupDelay = time.Minute
	}
	if c.Autopilot.LastContactThreshold == 0 {
		c.Autopilot.LastContactThreshold = 200 * time.Millisecond
	}
	if c.Autopilot.ServerStabilizationTime == 0 && !c.DevMode {
		c.Autopilot.ServerStabilizationTime = 10 * time.Second
	}
	if c.Autopilot.DeadServerLastContactThreshold == 0 {
		c.Autopilot.DeadServerLastContactThreshold = time.Minute
	}
	if c.probeInterval == 0 {
		c.probeInterval = time.Second
	}
	if c.failTimeout == 0 {
		c.failTimeout = 5 * time.Second
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
	// allocUpdates gathers clients' allocation updates on the leader.
	allocUpdates *allocUpdateBatcher

	rpcListener  net.Listener
	rpcAdvertise string
	raftLayer    *raftLayer
	rpcServer    *rpcServer
	pool         *connPool
	members      *membership

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	leaderMu sync.Mutex
	// leaderCancel stops the leader-only loops when leadership is lost.
	leaderCancel context.CancelFunc

	// clientConns are the multiplexed connections of clients to this
	// server, by node ID.
	clientConns clientConns
}

// New starts a server: it opens raft, starts the RPC listener and the
// scheduler workers, and begins campaigning for leadership.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.BootstrapExpect < 0 {
		return nil, fmt.Errorf("bootstrap_expect = %d: must not be negative", cfg.BootstrapExpect)
	}
	if cfg.DevMode && cfg.BootstrapExpect > 1 {
		return nil, fmt.Errorf("bootstrap_expect = %d: a dev-mode server runs alone and must bootstrap with 1", cfg.BootstrapExpect)
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
	s.pool = newConnPool()
	s.broker = broker.New(broker.Config{
		NackTimeout:   cfg.EvalNackTimeout,
		DeliveryLimit: cfg.EvalDeliveryLimit,
		OnGiveUp:      s.evalGivenUp,
	})
	s.blocked = newBlockedEvals(s.broker)
	s.heartbeats = newHeartbeats(s)
	s.allocUpdates = &allocUpdateBatcher{srv: s}
	s.fsm = fsm.New(st, s, cfg.Logger)

	if err := s.startRPC(); err != nil {
		cancel()
		return nil, err
	}
	members, err := newMembership(s)
	if err != nil {
		_ = s.rpcListener.Close()
		cancel()
		return nil, err
	}
	s.members = members
	if err := s.setupRaft(); err != nil {
		_ = s.rpcListener.Close()
		s.members.close()
		cancel()
		return nil, err
	}
	s.serveRPC()
	s.wg.Add(2)
	go s.monitorLeadership()
	go s.members.run(ctx)
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
	if s.members != nil {
		s.members.close()
	}
	if s.raftLayer != nil {
		s.raftLayer.Close()
	}
	if s.raft != nil {
		errs = append(errs, s.raft.Shutdown().Error())
	}
	s.wg.Wait()
	s.pool.close()
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
func (s *Server) RPCAddr() string { return s.rpcAdvertise }

// NodeName returns the server's name, which is also its raft ID.
func (s *Server) NodeName() string { return s.cfg.NodeName }

// Datacenter returns the server's datacenter.
func (s *Server) Datacenter() string { return s.cfg.Datacenter }

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

// errNotLeader is returned when a write reaches a server that is not (or
// no longer) the leader, and no leader could be found to forward it to.
var errNotLeader = errors.New("no cluster leader")

// awaitRaft returns f's error, or raft.ErrRaftShutdown once the server
// shuts down. raft answers every future it dequeues, but one still queued
// when raft shuts down is never answered, and most of its futures do not
// watch for shutdown themselves: a membership change waiting on one once
// kept Shutdown waiting forever.
func (s *Server) awaitRaft(f raft.Future) error {
	errc := make(chan error, 1)
	go func() { errc <- f.Error() }()
	select {
	case err := <-errc:
		return err
	case <-s.ctx.Done():
		return raft.ErrRaftShutdown
	}
}

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
	if err := s.awaitRaft(f); err != nil {
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

// evalGivenUp marks an evaluation the broker gave up on as failed and, as
// Nomad does, creates a delayed follow-up evaluation of the same job so the
// work is retried later rather than dropped.
func (s *Server) evalGivenUp(eval *structs.Evaluation) {
	now := time.Now()
	delay := s.cfg.FailedEvalFollowupDelay + time.Duration(rand.Int64N(int64(s.cfg.FailedEvalFollowupDelay)+1))
	followup := &structs.Evaluation{
		ID:             structs.GenerateUUID(),
		Namespace:      eval.Namespace,
		Priority:       eval.Priority,
		Type:           eval.Type,
		TriggeredBy:    EvalTriggerFailedFollowUp,
		JobID:          eval.JobID,
		JobModifyIndex: eval.JobModifyIndex,
		Status:         structs.EvalStatusPending,
		Wait:           delay,
		WaitUntil:      now.Add(delay),
		PreviousEval:   eval.ID,
		CreateTime:     now.UnixNano(),
		ModifyTime:     now.UnixNano(),
	}
	failed := eval.Copy()
	failed.Status = structs.EvalStatusFailed
	failed.StatusDescription = "evaluation reached delivery limit"
	failed.NextEval = followup.ID
	failed.ModifyTime = now.UnixNano()
	req := &structs.EvalUpdateRequest{Evals: []*structs.Evaluation{failed, followup}}
	if _, err := s.raftApply(structs.EvalUpdateRequestType, req); err != nil {
		s.logger.Error("cannot mark eval failed", "eval_id", eval.ID, "error", err)
		return
	}
	s.logger.Warn("evaluation reached its delivery limit: failed, follow-up scheduled",
		"eval_id", eval.ID, "job_id", eval.JobID, "followup_eval_id", followup.ID, "wait", delay)
}

// EvalTriggerFailedFollowUp is the TriggeredBy of the evaluation created
// when another reached the broker's delivery limit (Nomad's value).
const EvalTriggerFailedFollowUp = "failed-follow-up"
