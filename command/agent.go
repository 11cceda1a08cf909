// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/agent"
	"github.com/droverhq/drover/agent/config"
	"github.com/droverhq/drover/client/fingerprint"
	"github.com/droverhq/drover/server"
)

func init() {
	Register("agent", func(ui *UI) Command { return &AgentCommand{UI: ui} })
}

// AgentCommand runs a Drover agent: server, client, or both.
type AgentCommand struct {
	UI *UI
}

// Synopsis implements Command.
func (c *AgentCommand) Synopsis() string { return "Runs a Drover agent" }

// Help implements Command.
func (c *AgentCommand) Help() string {
	return strings.TrimSpace(`
Usage: drover agent [options]

  Starts a Drover agent and runs until an interrupt is received. The agent
  may be a server, a client, or both. Configuration is read from files in
  Nomad's agent configuration format (HCL or JSON) and from flags; flags win.

  drover agent -dev runs a server and a client in one process with
  in-memory state and the raw_exec driver enabled: the quickest way to try
  a job file.

Options:

  -dev
    Start in development mode: server and client, in-memory state, HTTP on
    127.0.0.1:4646, raw_exec enabled.

  -config=<path>
    A configuration file, or a directory whose *.hcl and *.json files are
    read in lexical order. Repeatable; later files win.

  -data-dir=<path>       Where the agent keeps state.
  -bind=<addr>           The address every listener binds to.
  -region=<region>       The agent's region (default "global").
  -dc=<datacenter>       The agent's datacenter (default "dc1").
  -node=<name>           The agent's name (default the host name).
  -log-level=<level>     TRACE, DEBUG, INFO, WARN or ERROR.
  -log-json              Log as JSON.
  -server                Enable server mode.
  -bootstrap-expect=<n>  How many servers form the first cluster.
  -retry-join=<addr>     Another server's serf address (host[:port], port
                         default 4648) to join. Repeatable.
  -client                Enable client mode.
  -servers=<host:port>   Servers a client joins (comma separated).
  -node-class=<class>    The client's node class.
  -node-pool=<pool>      The client's node pool.
`)
}

type stringSlice []string

func (s *stringSlice) String() string     { return strings.Join(*s, ",") }
func (s *stringSlice) Set(v string) error { *s = append(*s, v); return nil }

// Run implements Command.
func (c *AgentCommand) Run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(c.UI.Err)
	var (
		dev, logJSON, serverMode, clientMode bool
		configs                              stringSlice
		cli                                  config.Config
		servers                              string
		retryJoin                            stringSlice
	)
	fs.BoolVar(&dev, "dev", false, "")
	fs.Var(&configs, "config", "")
	fs.StringVar(&cli.DataDir, "data-dir", "", "")
	fs.StringVar(&cli.BindAddr, "bind", "", "")
	fs.StringVar(&cli.Region, "region", "", "")
	fs.StringVar(&cli.Datacenter, "dc", "", "")
	fs.StringVar(&cli.Name, "node", "", "")
	fs.StringVar(&cli.LogLevel, "log-level", "", "")
	fs.BoolVar(&logJSON, "log-json", false, "")
	fs.BoolVar(&serverMode, "server", false, "")
	fs.IntVar(&cli.Server.BootstrapExpect, "bootstrap-expect", 0, "")
	fs.Var(&retryJoin, "retry-join", "")
	fs.BoolVar(&clientMode, "client", false, "")
	fs.StringVar(&servers, "servers", "", "")
	fs.StringVar(&cli.Client.NodeClass, "node-class", "", "")
	fs.StringVar(&cli.Client.NodePool, "node-pool", "", "")
	fs.Usage = func() { c.UI.Error(c.Help()) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.UI.Output(c.Help())
			return ExitOK
		}
		return ExitError
	}
	if fs.NArg() > 0 {
		c.UI.Error(fmt.Sprintf("agent takes no arguments, got %q", fs.Args()))
		return ExitError
	}
	cli.LogJSON = logJSON
	cli.Server.Enabled = serverMode
	cli.Client.Enabled = clientMode
	if servers != "" {
		cli.Client.Servers = strings.Split(servers, ",")
	}
	cli.Server.ServerJoin.RetryJoin = retryJoin

	cfg := config.Default()
	if dev {
		cfg = config.DevConfig()
	}
	for _, path := range configs {
		loaded, err := loadConfigPath(path)
		if err != nil {
			c.UI.Error(fmt.Sprintf("Error loading configuration from %s: %v", path, err))
			return ExitError
		}
		for _, l := range loaded {
			cfg = cfg.Merge(l)
		}
	}
	cfg = cfg.Merge(&cli)

	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "agent",
		Level:      hclog.LevelFromString(cfg.LogLevel),
		Output:     c.UI.Err,
		JSONFormat: cfg.LogJSON,
	})
	if hclog.LevelFromString(cfg.LogLevel) == hclog.NoLevel {
		c.UI.Error(fmt.Sprintf("Invalid log level %q: use TRACE, DEBUG, INFO, WARN or ERROR", cfg.LogLevel))
		return ExitError
	}

	runtimeCfg, cleanup, err := resolveAgentConfig(cfg)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error in agent configuration: %v", err))
		return ExitError
	}
	defer cleanup()

	a, err := agent.Start(runtimeCfg, logger)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error starting agent: %v", err))
		return ExitError
	}
	c.printBanner(runtimeCfg, a)

	<-ctx.Done()
	c.UI.Output("==> Caught signal: interrupt")
	c.UI.Output("==> Gracefully shutting down agent...")
	if err := a.Shutdown(); err != nil {
		c.UI.Error(fmt.Sprintf("Error shutting down agent: %v", err))
		return ExitError
	}
	return ExitOK
}

func (c *AgentCommand) printBanner(cfg *agent.Config, a *agent.Agent) {
	mode := []string{}
	if cfg.Server {
		mode = append(mode, "server")
	}
	if cfg.Client {
		mode = append(mode, "client")
	}
	if cfg.DevMode {
		c.UI.Output("==> No configuration files loaded")
		c.UI.Output("==> Starting Drover agent in development mode: state is in memory and lost on exit")
	}
	advertise := "HTTP: " + a.HTTPAddr()
	if srv := a.Server(); srv != nil {
		advertise += "; RPC: " + srv.RPCAddr()
		if serf := srv.Members()[0].SerfAddr; serf != "" {
			advertise += "; Serf: " + serf
		}
	}
	c.UI.Output("==> Drover agent configuration:\n")
	c.UI.Output(formatKV([]string{
		"Advertise Addrs|" + advertise,
		"Bind Addrs|" + cfg.BindAddr,
		"Client|" + strconv.FormatBool(cfg.Client),
		"Data Dir|" + cfg.DataDir,
		"Log Level|" + cfg.LogLevel,
		"Node Name|" + cfg.NodeName,
		"Region|" + cfg.Region + " (DC: " + cfg.Datacenter + ")",
		"Server|" + strconv.FormatBool(cfg.Server),
		"Mode|" + strings.Join(mode, " + "),
		"Version|" + Version,
	}))
	c.UI.Output("\n==> Drover agent started! Log data will stream in below:\n")
}

// loadConfigPath reads one -config argument: a file, or a directory whose
// .hcl and .json files are read in lexical order.
func loadConfigPath(path string) ([]*config.Config, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		cfg, err := config.ParseFile(path)
		if err != nil {
			return nil, err
		}
		return []*config.Config{cfg}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".hcl") || strings.HasSuffix(e.Name(), ".json")) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []*config.Config
	for _, n := range names {
		cfg, err := config.ParseFile(filepath.Join(path, n))
		if err != nil {
			return nil, err
		}
		out = append(out, cfg)
	}
	return out, nil
}

// resolveAgentConfig turns the merged file configuration into the agent's
// runtime configuration. A dev agent without a data_dir gets a temporary
// one, removed by the returned cleanup.
func resolveAgentConfig(cfg *config.Config) (*agent.Config, func(), error) {
	cleanup := func() {}
	out := &agent.Config{
		NodeName:        cfg.Name,
		Region:          cfg.Region,
		Datacenter:      cfg.Datacenter,
		DataDir:         cfg.DataDir,
		DevMode:         cfg.DevMode,
		LogLevel:        cfg.LogLevel,
		EnableDebug:     cfg.EnableDebug,
		BindAddr:        cfg.BindAddr,
		HTTPPort:        cfg.Ports.HTTP,
		RPCPort:         cfg.Ports.RPC,
		SerfPort:        cfg.Ports.Serf,
		RPCBind:         cfg.Addresses.RPC,
		SerfBind:        cfg.Addresses.Serf,
		RPCAdvertise:    cfg.Advertise.RPC,
		SerfAdvertise:   cfg.Advertise.Serf,
		Server:          cfg.Server.Enabled,
		BootstrapExpect: cfg.Server.BootstrapExpect,
		RetryJoin:       cfg.Server.ServerJoin.RetryJoin,
		NumSchedulers:   cfg.Server.NumSchedulers,
		Autopilot: server.AutopilotConfig{
			DisableCleanupDeadServers: cfg.Autopilot.CleanupDeadServers != nil && !*cfg.Autopilot.CleanupDeadServers,
			LastContactThreshold:      cfg.Autopilot.LastContactThreshold,
			ServerStabilizationTime:   cfg.Autopilot.ServerStabilizationTime,
			MinQuorum:                 cfg.Autopilot.MinQuorum,
		},
		Client:           cfg.Client.Enabled,
		NodeClass:        cfg.Client.NodeClass,
		NodePool:         cfg.Client.NodePool,
		Meta:             cfg.Client.Meta,
		ReservedCPU:      cfg.Client.Reserved.CPU,
		ReservedMemoryMB: cfg.Client.Reserved.MemoryMB,
		ReservedDiskMB:   cfg.Client.Reserved.DiskMB,
		ReservedPorts:    cfg.Client.Reserved.ReservedPorts,
		NetworkInterface: cfg.Client.NetworkInterface,
		ReservedCores:    cfg.Client.Reserved.Cores,
		ReservableCores:  cfg.Client.ReservableCores,
		MinDynamicPort:   cfg.Client.MinDynamicPort,
		MaxDynamicPort:   cfg.Client.MaxDynamicPort,
		PluginConfig:     map[string]map[string]any{},
		PluginDir:        cfg.PluginDir,
	}
	if cfg.Server.DefaultSchedulerConfig != nil {
		out.DefaultSchedulerConfig = cfg.Server.DefaultSchedulerConfig.Structs()
	}
	if out.NodeName == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, cleanup, fmt.Errorf("no name set and the host name is unknown: %w", err)
		}
		out.NodeName = host
	}
	for _, s := range cfg.Client.Servers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			// Nomad's default RPC port when none is given.
			s = net.JoinHostPort(s, strconv.Itoa(config.DefaultRPCPort))
		}
		out.Servers = append(out.Servers, s)
	}
	for name, p := range cfg.Plugins {
		out.PluginConfig[name] = p.Config
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Client.HostNetworks)) {
		hn := cfg.Client.HostNetworks[name]
		out.HostNetworks = append(out.HostNetworks, fingerprint.HostNetwork{Name: name, CIDR: hn.CIDR, Interface: hn.Interface, ReservedPorts: hn.ReservedPorts})
	}
	if out.DataDir == "" && out.DevMode {
		dir, err := os.MkdirTemp("", "drover-dev-")
		if err != nil {
			return nil, cleanup, fmt.Errorf("create dev data dir: %w", err)
		}
		out.DataDir = dir
		cleanup = func() { os.RemoveAll(dir) }
	}
	if out.DataDir != "" {
		abs, err := filepath.Abs(out.DataDir)
		if err != nil {
			return nil, cleanup, fmt.Errorf("data_dir %q: %w", out.DataDir, err)
		}
		out.DataDir = abs
	}
	if out.PluginDir != "" {
		abs, err := filepath.Abs(out.PluginDir)
		if err != nil {
			return nil, cleanup, fmt.Errorf("plugin_dir %q: %w", out.PluginDir, err)
		}
		out.PluginDir = abs
	}
	return out, cleanup, nil
}
