// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"errors"
	"fmt"
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

	BindAddr string
	HTTPPort int
	RPCPort  int
	SerfPort int

	Server          bool
	BootstrapExpect int

	Client           bool
	Servers          []string
	NodeClass        string
	NodePool         string
	Meta             map[string]string
	ReservedCPU      int
	ReservedMemoryMB int
	ReservedDiskMB   int

	// PluginConfig is each plugin's `config` block, by plugin name.
	PluginConfig map[string]map[string]any
}

func (c *Config) validate() error {
	var errs []error
	if !c.Server && !c.Client {
		errs = append(errs, errors.New("neither server nor client is enabled: set server { enabled = true } and/or client { enabled = true }, or run with -dev"))
	}
	if c.DataDir == "" && !c.DevMode {
		errs = append(errs, errors.New("data_dir is required outside -dev mode"))
	}
	for name, port := range map[string]int{"http": c.HTTPPort, "rpc": c.RPCPort} {
		if port < 0 || port > 65535 {
			errs = append(errs, fmt.Errorf("ports.%s = %d is not a valid port", name, port))
		}
	}
	return errors.Join(errs...)
}
