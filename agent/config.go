// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"errors"
	"fmt"

	"github.com/droverhq/drover/client/fingerprint"
	"github.com/droverhq/drover/server"
	"github.com/droverhq/drover/structs"
)

// Config is the agent's resolved runtime configuration: what the
// configuration files and flags (package agent/config) boil down to once
// merged and defaulted.
type Config struct {
	NodeName   string
	Region     string
	Datacenter string
	DataDir    string
	DevMode    bool
	LogLevel   string
	// EnableDebug serves Go's profiler under /debug/pprof/ on the HTTP
	// port (Nomad's enable_debug; on for -dev).
	EnableDebug bool

	BindAddr string
	HTTPPort int
	RPCPort  int
	SerfPort int
	// RPCBind and SerfBind override BindAddr for one listener (Nomad's
	// addresses { rpc serf }).
	RPCBind  string
	SerfBind string
	// RPCAdvertise and SerfAdvertise are what other servers dial (Nomad's
	// advertise { rpc serf }), "host" or "host:port"; empty means the
	// bound address, or the host's private IP when bound to 0.0.0.0.
	RPCAdvertise  string
	SerfAdvertise string

	Server          bool
	BootstrapExpect int
	// RetryJoin lists other servers' serf addresses ("host[:port]").
	RetryJoin     []string
	NumSchedulers int
	// Autopilot is the autopilot block.
	Autopilot server.AutopilotConfig

	Client           bool
	Servers          []string
	NodeClass        string
	NodePool         string
	Meta             map[string]string
	ReservedCPU      int
	ReservedMemoryMB int
	ReservedDiskMB   int
	// Client networking: client { network_interface min_dynamic_port
	// max_dynamic_port reserved { reserved_ports } host_network "NAME" {} }.
	NetworkInterface string
	MinDynamicPort   int
	MaxDynamicPort   int
	ReservedPorts    string
	ReservedCores    string // cpu list kept for the host
	ReservableCores  string // cpu list tasks may reserve; empty: all
	HostNetworks     []fingerprint.HostNetwork

	// PluginConfig is each plugin's `config` block, by plugin name.
	PluginConfig map[string]map[string]any
	// PluginDir holds third-party driver plugins; empty means
	// <DataDir>/plugins, as in Nomad.
	PluginDir string

	// DefaultSchedulerConfig is the server's default_scheduler_config
	// block, nil when absent.
	DefaultSchedulerConfig *structs.SchedulerConfiguration
}

func (c *Config) validate() error {
	var errs []error
	if !c.Server && !c.Client {
		errs = append(errs, errors.New("neither server nor client is enabled: set server { enabled = true } and/or client { enabled = true }, or run with -dev"))
	}
	if c.DataDir == "" && !c.DevMode {
		errs = append(errs, errors.New("data_dir is required outside -dev mode"))
	}
	if c.Server && c.DevMode && len(c.RetryJoin) > 0 {
		errs = append(errs, errors.New("retry_join cannot be used in -dev mode: a dev server runs alone"))
	}
	for _, a := range c.RetryJoin {
		if _, err := server.JoinAddr(a); err != nil {
			errs = append(errs, err)
		}
	}
	for name, port := range map[string]int{"http": c.HTTPPort, "rpc": c.RPCPort, "serf": c.SerfPort} {
		if port < 0 || port > 65535 {
			errs = append(errs, fmt.Errorf("ports.%s = %d is not a valid port", name, port))
		}
	}
	return errors.Join(errs...)
}
