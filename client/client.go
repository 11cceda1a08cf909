// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package client is Drover's node agent. It fingerprints the machine,
// registers it with the servers and heartbeats, watches the servers for the
// allocations placed on it, runs each in an alloc runner, and reports their
// status back in batches. It talks to the control plane only through the
// Servers interface and to workloads only through plugins.Driver.
package client

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/client/allocrunner"
	"github.com/droverhq/drover/client/state"
	"github.com/droverhq/drover/client/taskenv"
	"github.com/droverhq/drover/structs"
)

// shutdownKillTimeout bounds how long Shutdown waits for tasks to die.
const shutdownKillTimeout = 30 * time.Second

// Client is a running node agent.
type Client struct {
	cfg     *Config
	servers Servers
	logger  hclog.Logger
	hostEnv map[string]string
	syncer  *allocSyncer
	// state is the local state store; ownState says the client opened
	// it and must close it.
	state     *state.DB
	ownState  bool
	restoreMe *state.Snapshot // consumed by the first Run

	registerCh     chan struct{}
	registered     chan struct{}
	registeredOnce sync.Once
	heartbeats     atomic.Uint64

	runMu   sync.Mutex
	cancel  context.CancelFunc
	runDone chan struct{}
	// destroying counts allocations being destroyed (garbage collected by
	// the servers): shutdown lets them finish so the local state forgets
	// them.
	destroying sync.WaitGroup

	mu       sync.Mutex
	node     *structs.Node
	allocs   map[string]*allocrunner.AllocRunner
	modIndex map[string]uint64 // AllocModifyIndex each runner last saw
	invalid  map[string]bool   // allocations that could not be run
}

// New fingerprints the node and prepares the client; Run starts it.
func New(cfg *Config, servers Servers, logger hclog.Logger) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if servers == nil {
		return nil, fmt.Errorf("client: no servers")
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(allocRoot(cfg.DataDir), 0o755); err != nil {
		return nil, fmt.Errorf("create alloc root: %w", err)
	}
	logger = logger.Named("client")
	node, err := buildNode(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	db, snap, own := cfg.State, cfg.StateSnapshot, false
	if db == nil {
		if db, snap, err = state.Open(StatePath(cfg.DataDir), state.Options{Logger: logger}); err != nil {
			return nil, fmt.Errorf("client state: %w", err)
		}
		own = true
	}
	c := &Client{
		cfg:        cfg,
		servers:    servers,
		logger:     logger,
		hostEnv:    taskenv.FilterHostEnv(os.Environ(), taskenv.DefaultEnvDenylist),
		registerCh: make(chan struct{}, 1),
		registered: make(chan struct{}),
		node:       node,
		allocs:     map[string]*allocrunner.AllocRunner{},
		modIndex:   map[string]uint64{},
		invalid:    map[string]bool{},
		state:      db,
		ownState:   own,
		restoreMe:  snap,
	}
	c.syncer = newAllocSyncer(servers, c.Node, cfg.StatusBatchInterval, logger)
	c.syncer.durable = c.state.Sync
	logger.Info("node fingerprinted", "node_id", node.ID, "name", node.Name,
		"address", node.Attributes["unique.network.ip-address"], "drivers", len(node.Drivers))
	return c, nil
}

// StatePath is where a client with data dir dataDir keeps its local state.
func StatePath(dataDir string) string { return filepath.Join(dataDir, "state.db") }

// Run runs the client until ctx ends or Shutdown is called. It first
// rebuilds the allocations the local state holds, recovering their tasks.
// On the way out, tasks keep running unless Config.KillTasksOnShutdown.
func (c *Client) Run(ctx context.Context) {
	c.runMu.Lock()
	if c.runDone != nil {
		c.runMu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	c.runDone = make(chan struct{})
	c.runMu.Unlock()
	defer close(c.runDone)
	defer cancel()

	c.restore()
	var wg sync.WaitGroup
	wg.Go(func() { c.registerLoop(ctx) })
	wg.Go(func() { c.watchAllocs(ctx) })
	wg.Go(func() { c.fingerprintLoop(ctx) })
	wg.Go(func() { c.syncer.run(ctx) })
	<-ctx.Done()
	wg.Wait()
	c.finish()
}

// finish sends the last queued statuses, kills the allocations if so
// configured, and leaves the local state on disk.
func (c *Client) finish() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownKillTimeout)
	defer cancel()
	if c.cfg.KillTasksOnShutdown {
		c.stopAllocs(ctx)
	} else {
		c.mu.Lock()
		for _, ar := range c.allocs {
			ar.Detach()
		}
		c.mu.Unlock()
		if err := c.syncer.flush(ctx); err != nil {
			c.logger.Warn("failed to send final allocation updates", "error", err)
		}
	}
	destroyed := make(chan struct{})
	go func() { c.destroying.Wait(); close(destroyed) }()
	select {
	case <-destroyed:
	case <-ctx.Done():
		c.logger.Warn("allocations still being destroyed at shutdown: the next start destroys them again")
	}
	if err := c.state.Sync(ctx); err != nil {
		c.logger.Error("failed to save client state", "error", err)
	}
	if c.ownState {
		if err := c.state.Close(); err != nil {
			c.logger.Error("failed to close client state", "error", err)
		}
	}
}

// Shutdown stops the client and waits for Run to return.
func (c *Client) Shutdown() {
	c.runMu.Lock()
	cancel, done := c.cancel, c.runDone
	c.runMu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// stopAllocs sends the last queued statuses, then kills every allocation.
func (c *Client) stopAllocs(ctx context.Context) {
	if err := c.syncer.flush(ctx); err != nil {
		c.logger.Warn("failed to send final allocation updates", "error", err)
	}
	c.mu.Lock()
	runners := make([]*allocrunner.AllocRunner, 0, len(c.allocs))
	for _, ar := range c.allocs {
		runners = append(runners, ar)
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, ar := range runners {
		wg.Go(func() {
			if err := ar.Kill(ctx); err != nil {
				c.logger.Error("failed to stop allocation", "alloc_id", ar.ID(), "error", err)
			}
		})
	}
	wg.Wait()
}

// NodeID is the node's persistent ID.
func (c *Client) NodeID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.node.ID
}

// Node returns a copy of the node as the client last registered or will
// register it.
func (c *Client) Node() *structs.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.node.Copy()
}

// Registered is closed once the node first registered.
func (c *Client) Registered() <-chan struct{} { return c.registered }

// AllocDir returns the directory of an allocation this client runs. The
// HTTP layer reads task logs from <dir>/alloc/logs/<task>.stdout.N.
func (c *Client) AllocDir(allocID string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ar, ok := c.allocs[allocID]
	if !ok {
		return "", false
	}
	return ar.AllocDir().Dir, true
}

// Alloc returns an allocation this client runs, with its client status and
// task states.
func (c *Client) Alloc(allocID string) (*structs.Allocation, bool) {
	c.mu.Lock()
	ar, ok := c.allocs[allocID]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	return ar.Alloc(), true
}

// Allocs returns every allocation this client runs, ordered by ID.
func (c *Client) Allocs() []*structs.Allocation {
	c.mu.Lock()
	runners := make([]*allocrunner.AllocRunner, 0, len(c.allocs))
	for _, ar := range c.allocs {
		runners = append(runners, ar)
	}
	c.mu.Unlock()
	out := make([]*structs.Allocation, 0, len(runners))
	for _, ar := range runners {
		out = append(out, ar.Alloc())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// TaskState returns one task's state in an allocation this client runs.
func (c *Client) TaskState(allocID, task string) (*structs.TaskState, bool) {
	c.mu.Lock()
	ar, ok := c.allocs[allocID]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	ts := ar.TaskState(task)
	return ts, ts != nil
}
