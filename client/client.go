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
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/client/allocrunner"
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

	registerCh     chan struct{}
	registered     chan struct{}
	registeredOnce sync.Once
	heartbeats     atomic.Uint64

	runMu   sync.Mutex
	cancel  context.CancelFunc
	runDone chan struct{}

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
	}
	c.syncer = newAllocSyncer(servers, c.Node, cfg.StatusBatchInterval, logger)
	logger.Info("node fingerprinted", "node_id", node.ID, "name", node.Name,
		"address", node.Attributes["unique.network.ip-address"], "drivers", len(node.Drivers))
	return c, nil
}

// Run runs the client until ctx ends or Shutdown is called. Tasks are
// killed on the way out: the client keeps no local state to reattach to
// them after a restart, and orphaned tasks would run unsupervised.
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

	var wg sync.WaitGroup
	wg.Go(func() { c.registerLoop(ctx) })
	wg.Go(func() { c.watchAllocs(ctx) })
	wg.Go(func() { c.fingerprintLoop(ctx) })
	wg.Go(func() { c.syncer.run(ctx) })
	<-ctx.Done()
	wg.Wait()
	c.stopAllocs()
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
func (c *Client) stopAllocs() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownKillTimeout)
	defer cancel()
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
