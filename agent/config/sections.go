// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"fmt"

	hcl1 "github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	hcl1parser "github.com/hashicorp/hcl/hcl/parser"
)

// This file is the schema of the agent configuration file: for each block
// body, its keys and where each value goes in Config. Keys of Nomad's
// agent configuration that Drover does not read yet are listed as pending
// so users get "not supported by Drover yet" rather than "unknown".

func topSection(c *Config) section {
	return section{
		what: "the agent configuration",
		fields: map[string]field{
			"name":                 setString(&c.Name),
			"region":               setString(&c.Region),
			"datacenter":           setString(&c.Datacenter),
			"data_dir":             setString(&c.DataDir),
			"plugin_dir":           setString(&c.PluginDir),
			"bind_addr":            setString(&c.BindAddr),
			"log_level":            setString(&c.LogLevel),
			"log_json":             setBool(&c.LogJSON),
			"enable_debug":         setBool(&c.EnableDebug),
			"disable_update_check": setBool(&c.DisableUpdateCheck),
			"leave_on_interrupt":   setBool(&c.LeaveOnInterrupt),
			"leave_on_terminate":   setBool(&c.LeaveOnTerminate),
			"ports": block(func() section {
				return section{what: "the ports block", fields: map[string]field{
					"http": setInt(&c.Ports.HTTP), "rpc": setInt(&c.Ports.RPC), "serf": setInt(&c.Ports.Serf),
				}}
			}),
			"addresses": block(func() section { return addrSection("the addresses block", &c.Addresses) }),
			"advertise": block(func() section { return addrSection("the advertise block", &c.Advertise) }),
			"server":    block(func() section { return serverSection(&c.Server) }),
			"client":    block(func() section { return clientSection(&c.Client) }),
			"autopilot": block(func() section { return autopilotSection(&c.Autopilot) }),
			"plugin":    {decode: func(d *decoder, o occurrence) { d.plugins(c, o) }},
		},
		pending: map[string]string{
			"acl": "block", "audit": "block", "consul": "block", "vault": "block",
			"telemetry": "block", "tls": "block", "ui": "block", "sentinel": "block", "limits": "block",
			"reporting": "block", "keyring": "block", "http_api_response_headers": "block",
			"disable_anonymous_signature": "argument", "enable_syslog": "argument", "syslog_facility": "argument",
			"log_file": "argument", "log_rotate_bytes": "argument", "log_rotate_duration": "argument",
			"log_rotate_max_files": "argument", "log_include_location": "argument",
		},
	}
}

func autopilotSection(a *Autopilot) section {
	return section{
		what: "the autopilot block",
		fields: map[string]field{
			"cleanup_dead_servers":      setOptBool(&a.CleanupDeadServers),
			"last_contact_threshold":    setDuration(&a.LastContactThreshold),
			"server_stabilization_time": setDuration(&a.ServerStabilizationTime),
			"min_quorum":                setInt(&a.MinQuorum),
		},
		pending: map[string]string{
			"max_trailing_logs": "argument", "enable_redundancy_zones": "argument",
			"disable_upgrade_migration": "argument", "enable_custom_upgrades": "argument",
		},
	}
}

func addrSection(what string, a *Addresses) section {
	return section{what: what, fields: map[string]field{
		"http": setString(&a.HTTP), "rpc": setString(&a.RPC), "serf": setString(&a.Serf),
	}}
}

func serverSection(s *Server) section {
	j := &s.ServerJoin
	return section{
		what: "the server block",
		fields: map[string]field{
			"enabled":          setBool(&s.Enabled),
			"bootstrap_expect": setInt(&s.BootstrapExpect),
			"num_schedulers":   setInt(&s.NumSchedulers),
			"server_join": block(func() section {
				return section{what: "the server_join block", fields: joinFields(j)}
			}),
			// Nomad still reads the older spelling of server_join's
			// arguments directly in the server block.
			"retry_join":     setStrings(&j.RetryJoin),
			"retry_max":      setInt(&j.RetryMax),
			"retry_interval": setDuration(&j.RetryInterval),
			"default_scheduler_config": block(func() section {
				if s.DefaultSchedulerConfig == nil {
					s.DefaultSchedulerConfig = &SchedulerConfig{}
				}
				return schedulerConfigSection(s.DefaultSchedulerConfig)
			}),
		},
		pending: map[string]string{
			"plan_rejection_tracker": "block", "search": "block",
			"authoritative_region": "argument", "data_dir": "argument", "enabled_schedulers": "argument",
			"encrypt": "argument", "node_gc_threshold": "argument", "job_gc_interval": "argument",
			"job_gc_threshold": "argument", "eval_gc_threshold": "argument", "deployment_gc_threshold": "argument",
			"heartbeat_grace": "argument", "min_heartbeat_ttl": "argument", "max_heartbeats_per_second": "argument",
			"raft_protocol": "argument", "raft_multiplier": "argument", "redundancy_zone": "argument",
			"rejoin_after_leave": "argument", "non_voting_server": "argument", "upgrade_version": "argument",
			"license_path": "argument", "start_join": "argument",
		},
	}
}

func joinFields(j *ServerJoin) map[string]field {
	return map[string]field{
		"retry_join":     setStrings(&j.RetryJoin),
		"retry_max":      setInt(&j.RetryMax),
		"retry_interval": setDuration(&j.RetryInterval),
	}
}

func clientSection(c *Client) section {
	return section{
		what: "the client block",
		fields: map[string]field{
			"enabled":    setBool(&c.Enabled),
			"state_dir":  setString(&c.StateDir),
			"alloc_dir":  setString(&c.AllocDir),
			"servers":    setStrings(&c.Servers),
			"node_class": setString(&c.NodeClass),
			"node_pool":  setNodePool(&c.NodePool),
			"meta":       setStringMap(&c.Meta),
			"reserved": block(func() section {
				return section{what: "the reserved block", fields: map[string]field{
					"cpu": setInt(&c.Reserved.CPU), "memory": setInt(&c.Reserved.MemoryMB), "disk": setInt(&c.Reserved.DiskMB),
					"reserved_ports": setString(&c.Reserved.ReservedPorts),
					"cores":          setString(&c.Reserved.Cores),
				}, pending: map[string]string{"cores": "argument"}}
			}),
			"network_interface": setString(&c.NetworkInterface),
			"reservable_cores":  setString(&c.ReservableCores),
			"min_dynamic_port":  setInt(&c.MinDynamicPort),
			"max_dynamic_port":  setInt(&c.MaxDynamicPort),
			"host_network":      {decode: func(d *decoder, o occurrence) { d.hostNetworks(c, o) }},
		},
		pending: map[string]string{
			"options": "block", "chroot_env": "block", "host_volume": "block",
			"server_join": "block", "artifact": "block", "template": "block", "drain_on_shutdown": "block",
			"network_speed": "argument", "cpu_total_compute": "argument",
			"memory_total_mb": "argument", "max_kill_timeout": "argument", "gc_interval": "argument",
			"gc_disk_usage_threshold": "argument", "gc_inode_usage_threshold": "argument",
			"gc_parallel_destroys": "argument", "gc_max_allocs": "argument", "no_host_uuid": "argument",
			"cni_path": "argument", "cni_config_dir": "argument", "bridge_network_name": "argument",
			"bridge_network_subnet": "argument", "disable_remote_exec": "argument", "cgroup_parent": "argument",
		},
	}
}

// hostNetworks reads one occurrence of `host_network`: labelled blocks
// `host_network "NAME" { cidr interface reserved_ports }`, as plugins are.
func (d *decoder) hostNetworks(c *Client, o occurrence) {
	labelledBlocks(d, o, "host_network", "Host network", &c.HostNetworks,
		func(name string) *HostNetwork { return &HostNetwork{Name: name} },
		func(hn *HostNetwork) map[string]field {
			return map[string]field{
				"cidr":           setString(&hn.CIDR),
				"interface":      setString(&hn.Interface),
				"reserved_ports": setString(&hn.ReservedPorts),
			}
		})
}

// plugins reads one occurrence of `plugin`: `plugin "NAME" { ... }` (any
// number of them, gathered into one occurrence by groups) or the object
// form `plugin = { NAME = { ... } }` of JSON.
func (d *decoder) plugins(c *Config, o occurrence) {
	labelledBlocks(d, o, "plugin", "Plugin", &c.Plugins,
		func(name string) *Plugin { return &Plugin{Name: name} },
		func(p *Plugin) map[string]field {
			return map[string]field{
				"args":   setStrings(&p.Args),
				"config": {decode: func(d *decoder, co occurrence) { d.pluginConfig(p, co) }},
			}
		})
}

// labelledBlocks reads one occurrence of a labelled block kind into *m:
// `KIND "NAME" { ... }` (any number of them, gathered into one occurrence
// by groups) or JSON's object form `KIND = { NAME = { ... } }`. A name
// configured twice in one file is an error (noun names the kind in it);
// newEntry makes a name's entry and fields gives its body's settings.
func labelledBlocks[T any](d *decoder, o occurrence, kind, noun string, m *map[string]*T, newEntry func(name string) *T, fields func(*T) map[string]field) {
	for _, body := range d.bodies(o) {
		for _, g := range d.groups(body, false) {
			for _, occ := range g.occs {
				if *m == nil {
					*m = map[string]*T{}
				}
				if _, dup := (*m)[g.key]; dup {
					d.errorf(occ.pos, "Duplicate "+kind+" block", "%s %q is configured twice in this file.", noun, g.key)
					continue
				}
				v := newEntry(g.key)
				(*m)[g.key] = v
				for _, b := range d.bodies(occ) {
					d.section(section{what: fmt.Sprintf("%s %q", kind, g.key), fields: fields(v)}, b)
				}
			}
		}
	}
}

// pluginConfig decodes a plugin's free-form config block with HCL1's own
// decoder into map[string]interface{}, so the plugin sees exactly what
// Nomad would give it: numbers as int or float64, lists as
// []interface{}, and every nested block or object (`volumes { ... }`,
// `volumes = { ... }`, or a JSON object) as a []map[string]interface{}
// holding one map per occurrence. Several config blocks merge.
func (d *decoder) pluginConfig(p *Plugin, o occurrence) {
	var node ast.Node
	switch v := o.val.(type) {
	case *ast.ObjectType, *ast.ObjectList:
		node = v
	default:
		d.errorf(posOf(o.val), `Invalid value for "config"`, "a block ({ ... }) is required.")
		return
	}
	if p.Config == nil {
		p.Config = map[string]interface{}{}
	}
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		return hcl1.DecodeObject(&p.Config, node)
	}()
	if err == nil {
		return
	}
	if pe, ok := err.(*hcl1parser.PosError); ok && pe.Pos.IsValid() {
		d.errorf(pe.Pos, "Invalid plugin config", "%v.", pe.Err)
		return
	}
	d.errorf(posOf(o.val), "Invalid plugin config", "%v.", err)
}
