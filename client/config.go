// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"errors"
	"fmt"
	"time"

	"github.com/droverhq/drover/client/fingerprint"
	"github.com/droverhq/drover/client/state"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// Defaults for the client's loops.
const (
	DefaultDriverFingerprintInterval = 30 * time.Second
	DefaultStatusBatchInterval       = 200 * time.Millisecond
	// DefaultAllocsMaxWait is how long one blocking GetClientAllocIndexes waits.
	DefaultAllocsMaxWait = 5 * time.Minute
	// DefaultHeartbeatTTL is assumed when the servers do not say.
	DefaultHeartbeatTTL = 20 * time.Second
)

// Config configures a client node.
type Config struct {
	// DataDir holds the node's identity and allocation directories
	// (<DataDir>/alloc/<allocID>).
	DataDir    string
	NodeName   string // defaults to the host name
	Datacenter string // defaults to "dc1"
	NodeClass  string
	NodePool   string // defaults to "default"
	Meta       map[string]string
	Reserved   Reserved

	// Drivers are the task drivers, already launched by the agent.
	Drivers map[string]plugins.Driver

	// NetworkInterface names the interface whose address is the node's
	// (client network_interface).
	NetworkInterface string
	// ReservableCores, a cpu list, limits the cores tasks may reserve;
	// empty means every core the agent may use.
	ReservableCores string
	// HostNetworks are the client's host_network blocks.
	HostNetworks []fingerprint.HostNetwork
	// MinDynamicPort and MaxDynamicPort bound the ports the scheduler
	// picks for dynamic `port` blocks; zero means Nomad's 20000-32000.
	MinDynamicPort int
	MaxDynamicPort int
	// DevMode uses the loopback address and is meant for `agent -dev`.
	DevMode bool
	// HTTPAddr is the agent's HTTP address ("host:port") the servers hand
	// out for `alloc logs` and friends.
	HTTPAddr string
	// Version is the agent version, reported as nomad.version.
	Version string

	// State is the local state store, opened by the agent (which needs
	// the driver reattach configs in it before the client exists), with
	// what it held at open. Nil makes the client open
	// <DataDir>/state.db itself.
	State         *state.DB
	StateSnapshot *state.Snapshot
	// KillTasksOnShutdown makes Shutdown kill every allocation, as a dev
	// agent does. Otherwise tasks keep running across an agent restart,
	// and the next agent recovers them from the local state, as Nomad's
	// clients do.
	KillTasksOnShutdown bool

	// Timing knobs; zero means the default above. Tests shorten them.
	DriverFingerprintInterval time.Duration
	StatusBatchInterval       time.Duration
	AllocsMaxWait             time.Duration
}

// Reserved is kept back from the node for the host's own use.
type Reserved struct {
	CPU      int // MHz
	MemoryMB int
	DiskMB   int
	// Ports lists host ports no allocation may take ("22,80,8500-8600"),
	// Nomad's reserved { reserved_ports }.
	Ports string
	// Cores is a cpu list ("0,1") of cores kept for the host: tasks never
	// reserve them and their MHz are not scheduled.
	Cores string
}

// CheckNodePool refuses a node pool a node may not join: "all", which, as
// in Nomad, holds every node and may only be named by jobs. The agent's
// configuration decoder and the client both call it.
func CheckNodePool(pool string) error {
	if pool == structs.NodePoolAll {
		return fmt.Errorf("node_pool %q is reserved: it holds every node and only jobs may name it, nodes may not join it; use %q or a pool of your own", pool, structs.DefaultNodePool)
	}
	return nil
}

func (c *Config) validate() error {
	if c.DataDir == "" {
		return errors.New("client config: data dir is required")
	}
	if c.Reserved.CPU < 0 || c.Reserved.MemoryMB < 0 || c.Reserved.DiskMB < 0 {
		return errors.New("client config: reserved resources must not be negative")
	}
	if _, err := structs.ParsePortSpec(c.Reserved.Ports); err != nil {
		return fmt.Errorf("client config: reserved_ports: %w", err)
	}
	if _, err := structs.ParseCPUList(c.Reserved.Cores); err != nil {
		return fmt.Errorf("client config: reserved cores: %w", err)
	}
	if _, err := structs.ParseCPUList(c.ReservableCores); err != nil {
		return fmt.Errorf("client config: reservable_cores: %w", err)
	}
	if err := CheckNodePool(c.NodePool); err != nil {
		return fmt.Errorf("client config: %w", err)
	}
	lo, hi := c.MinDynamicPort, c.MaxDynamicPort
	if lo == 0 {
		lo = structs.MinDynamicPort
	}
	if hi == 0 {
		hi = structs.MaxDynamicPort
	}
	if lo < 1 || hi > structs.MaxValidPort || lo > hi {
		return fmt.Errorf("client config: dynamic port range %d-%d must lie within 1-%d with min_dynamic_port <= max_dynamic_port", lo, hi, structs.MaxValidPort)
	}
	return nil
}

func (c *Config) withDefaults() *Config {
	cp := *c
	if cp.Datacenter == "" {
		cp.Datacenter = "dc1"
	}
	if cp.NodePool == "" {
		cp.NodePool = "default"
	}
	if cp.DriverFingerprintInterval <= 0 {
		cp.DriverFingerprintInterval = DefaultDriverFingerprintInterval
	}
	if cp.StatusBatchInterval <= 0 {
		cp.StatusBatchInterval = DefaultStatusBatchInterval
	}
	if cp.AllocsMaxWait <= 0 {
		cp.AllocsMaxWait = DefaultAllocsMaxWait
	}
	return &cp
}
