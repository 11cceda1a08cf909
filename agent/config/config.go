// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package config is the agent's configuration: the Config struct, its
// defaults (Default, DevConfig), the parser for Nomad-compatible agent
// configuration files (HCL or JSON, see Parse) and the merge of several
// files and flags (Merge).
//
// Merging follows Nomad: a later source wins for every value it sets, and
// a value left empty ("", 0, false, nil) does not override, so a later
// file cannot turn off what an earlier one turned on.
package config

import (
	"maps"
	"slices"
	"time"
)

// Config is the agent's configuration.
type Config struct {
	Name               string `json:"name,omitempty"`
	Region             string `json:"region,omitempty"`
	Datacenter         string `json:"datacenter,omitempty"`
	DataDir            string `json:"data_dir,omitempty"`
	PluginDir          string `json:"plugin_dir,omitempty"`
	BindAddr           string `json:"bind_addr,omitempty"`
	LogLevel           string `json:"log_level,omitempty"`
	LogJSON            bool   `json:"log_json,omitempty"`
	EnableDebug        bool   `json:"enable_debug,omitempty"`
	DisableUpdateCheck bool   `json:"disable_update_check,omitempty"`
	LeaveOnInterrupt   bool   `json:"leave_on_interrupt,omitempty"`
	LeaveOnTerminate   bool   `json:"leave_on_terminate,omitempty"`

	Ports     Ports     `json:"ports"`
	Addresses Addresses `json:"addresses"`
	Advertise Addresses `json:"advertise"`

	Server    Server    `json:"server"`
	Client    Client    `json:"client"`
	Autopilot Autopilot `json:"autopilot"`

	// Plugins holds each plugin block by plugin name (the driver name for
	// task drivers).
	Plugins map[string]*Plugin `json:"plugins,omitempty"`

	// DevMode is set by DevConfig, not by files: it asks for throwaway
	// state (in-memory raft, a temporary data directory).
	DevMode bool `json:"-"`
}

// Ports are the agent's listening ports.
type Ports struct {
	HTTP int `json:"http,omitempty"`
	RPC  int `json:"rpc,omitempty"`
	Serf int `json:"serf,omitempty"`
}

// Addresses are per-protocol bind or advertise addresses; empty means
// bind_addr (for addresses) or the detected address (for advertise).
// Advertise values may carry a port ("10.0.0.1:5648").
type Addresses struct {
	HTTP string `json:"http,omitempty"`
	RPC  string `json:"rpc,omitempty"`
	Serf string `json:"serf,omitempty"`
}

// Server is the server block.
type Server struct {
	Enabled         bool       `json:"enabled,omitempty"`
	BootstrapExpect int        `json:"bootstrap_expect,omitempty"`
	NumSchedulers   int        `json:"num_schedulers,omitempty"`
	ServerJoin      ServerJoin `json:"server_join"`
	// DefaultSchedulerConfig is nil when no file has the block.
	DefaultSchedulerConfig *SchedulerConfig `json:"default_scheduler_config,omitempty"`
}

// Autopilot is the servers' automatic operator: today, removing servers
// that have died from the raft configuration.
type Autopilot struct {
	// CleanupDeadServers is nil when the file does not say (default true).
	CleanupDeadServers      *bool         `json:"cleanup_dead_servers,omitempty"`
	LastContactThreshold    time.Duration `json:"last_contact_threshold,omitempty"`
	ServerStabilizationTime time.Duration `json:"server_stabilization_time,omitempty"`
	MinQuorum               int           `json:"min_quorum,omitempty"`
}

// ServerJoin says how an agent finds servers to join.
type ServerJoin struct {
	RetryJoin     []string      `json:"retry_join,omitempty"`
	RetryMax      int           `json:"retry_max,omitempty"`
	RetryInterval time.Duration `json:"retry_interval,omitempty"`
}

// Client is the client block.
type Client struct {
	Enabled   bool              `json:"enabled,omitempty"`
	StateDir  string            `json:"state_dir,omitempty"`
	AllocDir  string            `json:"alloc_dir,omitempty"`
	Servers   []string          `json:"servers,omitempty"`
	NodeClass string            `json:"node_class,omitempty"`
	NodePool  string            `json:"node_pool,omitempty"`
	Meta      map[string]string `json:"meta,omitempty"`
	Reserved  Reserved          `json:"reserved"`

	// NetworkInterface names the interface whose first IPv4 address is
	// the node's (and where host-mode ports are bound).
	NetworkInterface string `json:"network_interface,omitempty"`
	// ReservableCores limits the cores tasks may reserve (`resources {
	// cores }`) to this cpu list ("0-3,8"); empty means every core.
	ReservableCores string `json:"reservable_cores,omitempty"`
	// MinDynamicPort and MaxDynamicPort bound the ports the scheduler
	// picks for dynamic port blocks; zero means Nomad's 20000-32000.
	MinDynamicPort int `json:"min_dynamic_port,omitempty"`
	MaxDynamicPort int `json:"max_dynamic_port,omitempty"`
	// HostNetworks are the host_network "NAME" blocks, by name.
	HostNetworks map[string]*HostNetwork `json:"host_network,omitempty"`
}

// HostNetwork is a client host_network "NAME" block: a named address of
// the node, chosen by CIDR and/or interface, that ports may bind.
type HostNetwork struct {
	Name          string `json:"name"`
	CIDR          string `json:"cidr,omitempty"`
	Interface     string `json:"interface,omitempty"`
	ReservedPorts string `json:"reserved_ports,omitempty"`
}

// Reserved is what the client keeps back from scheduling, in MHz and MB.
type Reserved struct {
	CPU      int `json:"cpu,omitempty"`
	MemoryMB int `json:"memory,omitempty"`
	DiskMB   int `json:"disk,omitempty"`
	// ReservedPorts lists host ports kept from allocations, such as
	// "22,80,8500-8600".
	ReservedPorts string `json:"reserved_ports,omitempty"`
	// Cores is a cpu list of cores kept for the host: no task reserves
	// them and their MHz are not scheduled.
	Cores string `json:"cores,omitempty"`
}

// Plugin is a plugin "NAME" block. Config is free-form: its schema belongs
// to the plugin, which receives it JSON-encoded. It holds what HCL1
// decodes, as Nomad hands it to plugins: string, bool, int, float64,
// []interface{} for lists, and []map[string]interface{} (one map per
// occurrence) for every nested block or object, so `volumes { enabled =
// true }`, `volumes = { enabled = true }` and JSON's "volumes": {"enabled":
// true} all give "volumes": [{"enabled": true}].
type Plugin struct {
	Name   string                 `json:"name"`
	Args   []string               `json:"args,omitempty"`
	Config map[string]interface{} `json:"config,omitempty"`
}

// Default ports, as Nomad's.
const (
	DefaultHTTPPort = 4646
	DefaultRPCPort  = 4647
	DefaultSerfPort = 4648
)

// Default returns the configuration an agent has before any file or flag.
func Default() *Config {
	return &Config{
		Region:     "global",
		Datacenter: "dc1",
		BindAddr:   "0.0.0.0",
		LogLevel:   "INFO",
		Ports:      Ports{HTTP: DefaultHTTPPort, RPC: DefaultRPCPort, Serf: DefaultSerfPort},
		Client:     Client{NodePool: "default"},
		Plugins:    map[string]*Plugin{},
	}
}

// DevConfig returns the configuration of "agent -dev": one agent that is
// both server and client, bootstraps alone, listens on loopback only,
// logs at DEBUG, keeps no state, and enables raw_exec.
func DevConfig() *Config {
	c := Default()
	c.DevMode = true
	c.BindAddr = "127.0.0.1"
	c.LogLevel = "DEBUG"
	c.EnableDebug = true
	c.DisableUpdateCheck = true
	c.Server.Enabled = true
	c.Server.BootstrapExpect = 1
	c.Client.Enabled = true
	c.Plugins["raw_exec"] = &Plugin{Name: "raw_exec", Config: map[string]interface{}{"enabled": true}}
	return c
}

// Merge returns a new Config: c overlaid with every value o sets. Lists
// (servers, retry_join, plugin args) gain o's entries that c lacks, meta
// maps merge by key, and plugins merge by name, o's block replacing c's
// block of the same name whole, as in Nomad. Neither input is modified.
func (c *Config) Merge(o *Config) *Config {
	r := c.clone()
	if o == nil {
		return r
	}
	str(&r.Name, o.Name)
	str(&r.Region, o.Region)
	str(&r.Datacenter, o.Datacenter)
	str(&r.DataDir, o.DataDir)
	str(&r.PluginDir, o.PluginDir)
	str(&r.BindAddr, o.BindAddr)
	str(&r.LogLevel, o.LogLevel)
	r.LogJSON = r.LogJSON || o.LogJSON
	r.EnableDebug = r.EnableDebug || o.EnableDebug
	r.DisableUpdateCheck = r.DisableUpdateCheck || o.DisableUpdateCheck
	r.LeaveOnInterrupt = r.LeaveOnInterrupt || o.LeaveOnInterrupt
	r.LeaveOnTerminate = r.LeaveOnTerminate || o.LeaveOnTerminate
	r.DevMode = r.DevMode || o.DevMode

	num(&r.Ports.HTTP, o.Ports.HTTP)
	num(&r.Ports.RPC, o.Ports.RPC)
	num(&r.Ports.Serf, o.Ports.Serf)
	r.Addresses.merge(o.Addresses)
	r.Advertise.merge(o.Advertise)

	r.Server.Enabled = r.Server.Enabled || o.Server.Enabled
	num(&r.Server.BootstrapExpect, o.Server.BootstrapExpect)
	num(&r.Server.NumSchedulers, o.Server.NumSchedulers)
	r.Server.ServerJoin.RetryJoin = union(r.Server.ServerJoin.RetryJoin, o.Server.ServerJoin.RetryJoin)
	num(&r.Server.ServerJoin.RetryMax, o.Server.ServerJoin.RetryMax)
	mergeSchedulerConfig(&r.Server, &o.Server)
	if o.Server.ServerJoin.RetryInterval != 0 {
		r.Server.ServerJoin.RetryInterval = o.Server.ServerJoin.RetryInterval
	}

	if o.Autopilot.CleanupDeadServers != nil {
		v := *o.Autopilot.CleanupDeadServers
		r.Autopilot.CleanupDeadServers = &v
	}
	if o.Autopilot.LastContactThreshold != 0 {
		r.Autopilot.LastContactThreshold = o.Autopilot.LastContactThreshold
	}
	if o.Autopilot.ServerStabilizationTime != 0 {
		r.Autopilot.ServerStabilizationTime = o.Autopilot.ServerStabilizationTime
	}
	num(&r.Autopilot.MinQuorum, o.Autopilot.MinQuorum)

	r.Client.Enabled = r.Client.Enabled || o.Client.Enabled
	str(&r.Client.StateDir, o.Client.StateDir)
	str(&r.Client.AllocDir, o.Client.AllocDir)
	r.Client.Servers = union(r.Client.Servers, o.Client.Servers)
	str(&r.Client.NodeClass, o.Client.NodeClass)
	str(&r.Client.NodePool, o.Client.NodePool)
	if len(o.Client.Meta) > 0 {
		if r.Client.Meta == nil {
			r.Client.Meta = map[string]string{}
		}
		maps.Copy(r.Client.Meta, o.Client.Meta)
	}
	num(&r.Client.Reserved.CPU, o.Client.Reserved.CPU)
	num(&r.Client.Reserved.MemoryMB, o.Client.Reserved.MemoryMB)
	num(&r.Client.Reserved.DiskMB, o.Client.Reserved.DiskMB)
	str(&r.Client.Reserved.ReservedPorts, o.Client.Reserved.ReservedPorts)
	str(&r.Client.NetworkInterface, o.Client.NetworkInterface)
	str(&r.Client.ReservableCores, o.Client.ReservableCores)
	str(&r.Client.Reserved.Cores, o.Client.Reserved.Cores)
	num(&r.Client.MinDynamicPort, o.Client.MinDynamicPort)
	num(&r.Client.MaxDynamicPort, o.Client.MaxDynamicPort)
	for name, hn := range o.Client.HostNetworks {
		if r.Client.HostNetworks == nil {
			r.Client.HostNetworks = map[string]*HostNetwork{}
		}
		c := *hn
		r.Client.HostNetworks[name] = &c
	}

	for name, p := range o.Plugins {
		if r.Plugins == nil {
			r.Plugins = map[string]*Plugin{}
		}
		r.Plugins[name] = p.clone()
	}
	return r
}

func (a *Addresses) merge(o Addresses) {
	str(&a.HTTP, o.HTTP)
	str(&a.RPC, o.RPC)
	str(&a.Serf, o.Serf)
}

// clone copies c deeply enough that changing the copy's maps and slices
// does not change c.
func (c *Config) clone() *Config {
	r := *c
	r.Server.ServerJoin.RetryJoin = slices.Clone(c.Server.ServerJoin.RetryJoin)
	r.Client.Servers = slices.Clone(c.Client.Servers)
	r.Client.Meta = maps.Clone(c.Client.Meta)
	if c.Client.HostNetworks != nil {
		r.Client.HostNetworks = make(map[string]*HostNetwork, len(c.Client.HostNetworks))
		for name, hn := range c.Client.HostNetworks {
			h := *hn
			r.Client.HostNetworks[name] = &h
		}
	}
	r.Plugins = make(map[string]*Plugin, len(c.Plugins))
	for name, p := range c.Plugins {
		r.Plugins[name] = p.clone()
	}
	return &r
}

func (p *Plugin) clone() *Plugin {
	if p == nil {
		return nil
	}
	return &Plugin{Name: p.Name, Args: slices.Clone(p.Args), Config: cloneTree(p.Config)}
}

// cloneTree copies a free-form config map and everything nested in it.
func cloneTree(m map[string]interface{}) map[string]interface{} {
	if m == nil {
		return nil
	}
	out := make(map[string]interface{}, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		return cloneTree(t)
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, e := range t {
			out[i] = cloneValue(e)
		}
		return out
	case []map[string]interface{}:
		out := make([]map[string]interface{}, len(t))
		for i, e := range t {
			out[i] = cloneTree(e)
		}
		return out
	}
	return v
}

func str(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func num(dst *int, v int) {
	if v != 0 {
		*dst = v
	}
}

// union returns a followed by the entries of b that a lacks.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}
