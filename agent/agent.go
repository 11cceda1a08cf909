// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package agent is the Drover agent process: it wires a server, a client,
// their driver plugins and the HTTP API together according to the agent
// configuration, and shuts them down in order.
package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/client"
	"github.com/droverhq/drover/client/servers"
	"github.com/droverhq/drover/client/state"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/server"
	"github.com/droverhq/drover/structs"
)

// Version is the agent's version, set at build time.
var Version = "0.1.0-dev"

// Agent is a running agent.
type Agent struct {
	cfg     *Config
	logger  hclog.Logger
	started time.Time

	server  *server.Server
	client  *client.Client
	rpc     *servers.Client
	drivers map[string]*plugins.PluginDriver
	state   *state.DB // the client's local state
	http    *HTTPServer

	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts an agent from cfg. The caller must Shutdown it.
func Start(cfg *Config, logger hclog.Logger) (a *Agent, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	a = &Agent{cfg: cfg, logger: logger, started: time.Now(), cancel: cancel, done: make(chan struct{})}
	defer func() {
		if err != nil {
			_ = a.Shutdown()
		}
	}()
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}

	httpLn, err := net.Listen("tcp", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.HTTPPort)))
	if err != nil {
		return nil, fmt.Errorf("listen for HTTP on %s:%d: %w", cfg.BindAddr, cfg.HTTPPort, err)
	}

	if cfg.Server {
		a.server, err = server.New(serverConfig(cfg, logger))
		if err != nil {
			httpLn.Close()
			return nil, fmt.Errorf("start server: %w", err)
		}
	}

	if a.server != nil && (cfg.Client || len(cfg.RetryJoin) == 0) {
		// Let the first election finish so the local client's first
		// registration succeeds instead of logging a leaderless error. A
		// server that must first find its peers does not wait: they may
		// not have started yet.
		a.waitForLeader(leaderWaitOnStart)
	}

	if cfg.Client {
		if err := a.startClient(ctx, httpLn.Addr().String()); err != nil {
			httpLn.Close()
			return nil, err
		}
	}

	a.http = newHTTPServer(a, httpLn)
	a.http.operatorRoutes()
	go a.http.serve()
	logger.Info("agent started", "http", httpLn.Addr().String(), "server", cfg.Server, "client", cfg.Client)
	return a, nil
}

// serverConfig maps the agent's configuration onto the server's. A dev
// server runs no membership listener: it is a cluster of one.
func serverConfig(cfg *Config, logger hclog.Logger) server.Config {
	bind := func(override string) string {
		if override != "" {
			return override
		}
		return cfg.BindAddr
	}
	sc := server.Config{
		NodeName:        cfg.NodeName,
		Region:          cfg.Region,
		Datacenter:      cfg.Datacenter,
		DevMode:         cfg.DevMode,
		DataDir:         cfg.DataDir,
		RPCAddr:         net.JoinHostPort(bind(cfg.RPCBind), strconv.Itoa(cfg.RPCPort)),
		RPCAdvertise:    cfg.RPCAdvertise,
		SerfAdvertise:   cfg.SerfAdvertise,
		RetryJoin:       cfg.RetryJoin,
		BootstrapExpect: cfg.BootstrapExpect,
		NumSchedulers:   cfg.NumSchedulers,
		Autopilot:       cfg.Autopilot,
		Logger:          logger,

		DefaultSchedulerConfig: cfg.DefaultSchedulerConfig,
	}
	if !cfg.DevMode {
		sc.SerfAddr = net.JoinHostPort(bind(cfg.SerfBind), strconv.Itoa(cfg.SerfPort))
	}
	return sc
}

// leaderWaitOnStart bounds how long Start waits for a leader before it
// starts the client anyway (the client retries registration on its own).
const leaderWaitOnStart = 10 * time.Second

func (a *Agent) waitForLeader(d time.Duration) {
	deadline := time.Now().Add(d)
	for a.server.Leader() == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// startClient opens the client's local state, reattaches to (or
// launches) the driver plugins, and starts the client, which recovers the
// tasks the state holds.
func (a *Agent) startClient(ctx context.Context, httpAddr string) error {
	cfg := a.cfg
	clientDir := filepath.Join(cfg.DataDir, "client")
	if err := os.MkdirAll(clientDir, 0o755); err != nil {
		return fmt.Errorf("create client data dir: %w", err)
	}
	db, snap, err := state.Open(client.StatePath(clientDir), state.Options{Logger: a.logger.Named("client")})
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	a.state = db
	if err := a.launchDrivers(ctx, snap.Drivers); err != nil {
		return err
	}
	addrs := cfg.Servers
	if len(addrs) == 0 && a.server != nil {
		addrs = []string{a.server.RPCAddr()}
	}
	if len(addrs) == 0 {
		return errors.New("client: no servers to join: set client { servers = [...] }")
	}
	rpc, err := servers.New(addrs, a.logger)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	a.rpc = rpc
	drivers := make(map[string]plugins.Driver, len(a.drivers))
	for name, d := range a.drivers {
		drivers[name] = d
	}
	c, err := client.New(&client.Config{
		DataDir:    clientDir,
		NodeName:   cfg.NodeName,
		Datacenter: cfg.Datacenter,
		NodeClass:  cfg.NodeClass,
		NodePool:   cfg.NodePool,
		Meta:       cfg.Meta,
		Reserved: client.Reserved{
			CPU:      cfg.ReservedCPU,
			MemoryMB: cfg.ReservedMemoryMB,
			DiskMB:   cfg.ReservedDiskMB,
			Ports:    cfg.ReservedPorts,
			Cores:    cfg.ReservedCores,
		},

		NetworkInterface: cfg.NetworkInterface,
		ReservableCores:  cfg.ReservableCores,
		MinDynamicPort:   cfg.MinDynamicPort,
		MaxDynamicPort:   cfg.MaxDynamicPort,
		HostNetworks:     cfg.HostNetworks,

		Drivers:       drivers,
		HTTPAddr:      httpAddr,
		DevMode:       cfg.DevMode,
		Version:       Version,
		State:         db,
		StateSnapshot: snap,
		// A dev agent's server state dies with it, so its tasks must too;
		// any other agent leaves them running for the next one.
		KillTasksOnShutdown: cfg.DevMode,
	}, rpc, a.logger)
	if err != nil {
		return fmt.Errorf("start client: %w", err)
	}
	a.client = c
	// Servers reach this client's files over its own connection to them.
	node := c.Node()
	rpc.SetIdentity(node.ID, node.SecretID)
	rpc.SetStreamHandler(func(req *structs.ClientStreamRequest, conn net.Conn) { a.serveClientStream(req, conn) })
	go func() {
		defer close(a.done)
		c.Run(ctx)
	}()
	return nil
}

// HTTPAddr returns the address the HTTP API listens on.
func (a *Agent) HTTPAddr() string { return a.http.ln.Addr().String() }

// Server returns the agent's server, or nil.
func (a *Agent) Server() *server.Server { return a.server }

// Client returns the agent's client, or nil.
func (a *Agent) Client() *client.Client { return a.client }

func (a *Agent) advertiseHost() string {
	if a.http != nil {
		host, _, _ := net.SplitHostPort(a.HTTPAddr())
		return host
	}
	return a.cfg.BindAddr
}

// Shutdown stops the HTTP API, the client, the server and, for a dev
// agent, the driver plugins, in that order. Outside dev mode tasks and
// their plugins keep running: the next agent reattaches to them.
func (a *Agent) Shutdown() error {
	var errs []error
	if a.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, a.http.shutdown(ctx))
		cancel()
	}
	if a.client != nil {
		a.client.Shutdown()
		a.cancel()
		<-a.done
	}
	a.cancel()
	if a.rpc != nil {
		_ = a.rpc.Close()
	}
	if a.server != nil {
		errs = append(errs, a.server.Shutdown())
	}
	if a.state != nil {
		errs = append(errs, a.state.Close())
	}
	if a.cfg.DevMode {
		for _, d := range a.drivers {
			d.Kill()
		}
	}
	return errors.Join(errs...)
}
