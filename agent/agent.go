// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package agent is the Drover agent process: it wires a server, a client,
// their driver plugins and the HTTP API together according to the agent
// configuration, and shuts them down in order.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/client"
	"github.com/droverhq/drover/client/servers"
	"github.com/droverhq/drover/client/state"
	"github.com/droverhq/drover/drivers/registry"
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
		},
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

// reattachTimeout bounds the connection to a plugin an earlier agent left
// running.
const reattachTimeout = 10 * time.Second

// launchDrivers gets each built-in driver's plugin: the one an earlier
// agent left running, from its saved reattach config, so its tasks stay
// supervised (their exit codes and output are not lost); or else a new
// subprocess of this same binary ("drover plugin driver NAME"). Each gets
// its `plugin "NAME" { config {...} }` block, and its reattach config is
// saved for the next agent.
func (a *Agent) launchDrivers(ctx context.Context, saved map[string][]byte) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable for driver plugins: %w", err)
	}
	a.drivers = map[string]*plugins.PluginDriver{}
	names := make([]string, 0)
	for name := range registry.Builtin() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if optInDrivers[name] && !pluginEnabled(a.cfg.PluginConfig[name]) && saved[name] == nil {
			// Off unless enabled (raw_exec, as in Nomad): a process that
			// could only report "undetected" is not worth its memory.
			continue
		}
		d := a.reattachDriver(ctx, name, saved[name])
		if d == nil {
			cmd := exec.Command(exe, "plugin", "driver", name)
			d, err = plugins.Launch(ctx, name, cmd, a.logger)
			if err != nil {
				return fmt.Errorf("launch driver plugin %q: %w", name, err)
			}
		}
		a.drivers[name] = d
		rc, err := plugins.MarshalReattachConfig(d.ReattachConfig())
		if err != nil {
			return fmt.Errorf("driver plugin %q: %w", name, err)
		}
		a.state.PutDriver(name, rc)
		conf, err := json.Marshal(a.cfg.PluginConfig[name])
		if err != nil {
			return fmt.Errorf("encode config of plugin %q: %w", name, err)
		}
		if a.cfg.PluginConfig[name] == nil {
			conf = nil
		}
		if err := d.SetConfig(conf); err != nil {
			return fmt.Errorf("plugin %q: %w", name, err)
		}
	}
	syncCtx, cancel := context.WithTimeout(ctx, reattachTimeout)
	defer cancel()
	if err := a.state.Sync(syncCtx); err != nil {
		return fmt.Errorf("save driver plugin reattach configs: %w", err)
	}
	return nil
}

// reattachDriver connects to the plugin an earlier agent launched, or
// returns nil when there is none (a dev agent never reattaches: it killed
// its plugins on the way out) or it is gone.
func (a *Agent) reattachDriver(ctx context.Context, name string, saved []byte) *plugins.PluginDriver {
	if saved == nil || a.cfg.DevMode {
		return nil
	}
	rc, err := plugins.UnmarshalReattachConfig(saved)
	if err != nil {
		a.logger.Warn("bad saved reattach config for driver plugin, launching a new one", "driver", name, "error", err)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, reattachTimeout)
	defer cancel()
	d, err := plugins.Reattach(ctx, name, rc, a.logger)
	if err != nil {
		a.logger.Info("driver plugin not reattachable, launching a new one", "driver", name, "pid", rc.Pid, "error", err)
		return nil
	}
	a.logger.Info("reattached to driver plugin", "driver", name, "pid", rc.Pid)
	return d
}

// optInDrivers are the built-in drivers that do nothing unless their
// plugin config says `enabled = true`.
var optInDrivers = map[string]bool{"raw_exec": true, "mock_driver": true}

// pluginEnabled reads `enabled` from a plugin's config block.
func pluginEnabled(cfg map[string]any) bool {
	switch v := cfg["enabled"].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
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
