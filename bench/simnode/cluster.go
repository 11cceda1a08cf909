// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package simnode simulates a fleet of Drover clients against real
// servers. Each simulated node speaks the client's RPC protocol (the 0x01
// byte, then net/rpc with msgpack bodies, as client/servers does):
// Node.Register, heartbeats with Node.UpdateStatus at the TTL the servers
// grant, blocking Node.GetClientAllocIndexes queries to follow its allocations,
// and Node.UpdateAlloc to report new allocations running, batched as the
// real client's alloc syncer does, without starting any process. Many
// nodes share a handful of connections, which is what lets one machine
// stand in for thousands of clients.
package simnode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/structs"
)

// Config shapes a simulated cluster.
type Config struct {
	// Servers are the servers' RPC addresses ("host:port").
	Servers []string
	// Nodes is how many nodes to simulate.
	Nodes int
	// Conns is how many RPC connections the nodes share (node i uses
	// connection i mod Conns); default 16.
	Conns int
	// Datacenter of every node; default "dc1".
	Datacenter string
	// Racks is how many distinct meta.rack values the nodes carry
	// (node i is in rack "r<i mod Racks>"); default 25.
	Racks int
	// SyncInterval is the batching window of allocation status updates,
	// the real client's default 200ms.
	SyncInterval time.Duration
	// AllocsMaxWait bounds one blocking GetClientAllocIndexes; default 5m as
	// the servers' own cap.
	AllocsMaxWait time.Duration
	// RegisterParallel bounds concurrent registrations; default 64.
	RegisterParallel int
	Logger           hclog.Logger
}

func (c *Config) setDefaults() {
	if c.Conns <= 0 {
		c.Conns = 16
	}
	if c.Datacenter == "" {
		c.Datacenter = "dc1"
	}
	if c.Racks <= 0 {
		c.Racks = 25
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = 200 * time.Millisecond
	}
	if c.AllocsMaxWait <= 0 {
		c.AllocsMaxWait = 5 * time.Minute
	}
	if c.RegisterParallel <= 0 {
		c.RegisterParallel = 64
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
}

// Cluster is a running fleet of simulated nodes.
type Cluster struct {
	cfg    Config
	logger hclog.Logger
	conns  []*conn
	nodes  []*simNode

	cancel context.CancelFunc
	wg     sync.WaitGroup

	running     atomic.Int64 // allocations acknowledged as running
	lastRunning atomic.Int64 // unix nanos of the last acknowledgement
	heartbeats  atomic.Int64
	queries     atomic.Int64 // GetClientAllocIndexes answers received
	errs        atomic.Int64
	lastErr     atomic.Pointer[string]
	changed     chan struct{} // signalled (non-blocking) when running moves
}

// Start registers cfg.Nodes nodes (all registrations done before it
// returns) and starts their heartbeat, watch and sync loops. Close stops
// them.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg.setDefaults()
	if cfg.Nodes <= 0 {
		return nil, errors.New("simulated cluster: Nodes must be positive")
	}
	if len(cfg.Servers) == 0 {
		return nil, errors.New("simulated cluster: no server RPC addresses")
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c := &Cluster{cfg: cfg, logger: cfg.Logger.Named("simnode"), cancel: cancel, changed: make(chan struct{}, 1)}
	for i := range cfg.Conns {
		c.conns = append(c.conns, &conn{addr: cfg.Servers[i%len(cfg.Servers)]})
	}
	for i := range cfg.Nodes {
		c.nodes = append(c.nodes, &simNode{
			cluster:  c,
			node:     NewNode(i, cfg.Datacenter, cfg.Racks),
			rpc:      c.conns[i%len(c.conns)],
			known:    map[string]uint64{},
			accepted: map[string]bool{},
			pending:  map[string]*structs.Allocation{},
			kick:     make(chan struct{}, 1),
		})
	}
	if err := c.registerAll(ctx); err != nil {
		c.Close()
		return nil, err
	}
	for _, n := range c.nodes {
		c.wg.Add(3)
		go n.heartbeatLoop(runCtx)
		go n.watchLoop(runCtx)
		go n.syncLoop(runCtx)
	}
	return c, nil
}

// registerAll registers every node, cfg.RegisterParallel at a time.
func (c *Cluster) registerAll(ctx context.Context) error {
	sem := make(chan struct{}, c.cfg.RegisterParallel)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := n.register(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("register %d of %d simulated nodes failed, first: %w", len(errs), len(c.nodes), errs[0])
	}
	return nil
}

// Close stops every loop and drops the connections. The nodes stay
// registered; the servers mark them down once their heartbeats lapse.
func (c *Cluster) Close() {
	c.cancel()
	c.wg.Wait()
	for _, cn := range c.conns {
		cn.close()
	}
}

// NodeIDs returns the IDs of the simulated nodes.
func (c *Cluster) NodeIDs() []string {
	ids := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		ids[i] = n.node.ID
	}
	return ids
}

// Stats is a point-in-time view of the fleet's activity.
type Stats struct {
	// Running counts allocations the servers acknowledged as running.
	Running int64
	// LastRunning is when the last of them was acknowledged.
	LastRunning time.Time
	Heartbeats  int64
	Queries     int64
	Errors      int64
	LastError   string
}

// Stats returns the fleet's counters.
func (c *Cluster) Stats() Stats {
	s := Stats{
		Running:    c.running.Load(),
		Heartbeats: c.heartbeats.Load(),
		Queries:    c.queries.Load(),
		Errors:     c.errs.Load(),
	}
	if t := c.lastRunning.Load(); t != 0 {
		s.LastRunning = time.Unix(0, t)
	}
	if e := c.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// WaitRunning blocks until at least want allocations were acknowledged as
// running, ctx ends (its error is returned) or check, called about once a
// second, returns an error (returned as it is).
func (c *Cluster) WaitRunning(ctx context.Context, want int64, check func() error) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for c.running.Load() < want {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d allocations running: %w", c.running.Load(), want, ctx.Err())
		case <-c.changed:
		case <-tick.C:
			if check != nil {
				if err := check(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// fail counts a failed call and keeps its message for the report; the
// first few are logged.
func (c *Cluster) fail(op string, err error) {
	n := c.errs.Add(1)
	msg := fmt.Sprintf("%s: %v", op, err)
	c.lastErr.Store(&msg)
	if n <= 10 {
		c.logger.Warn("simulated node call failed", "op", op, "error", err)
	}
}

func (c *Cluster) markRunning(n int) {
	c.lastRunning.Store(time.Now().UnixNano())
	c.running.Add(int64(n))
	select {
	case c.changed <- struct{}{}:
	default:
	}
}
