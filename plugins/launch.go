// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
)

// PluginDriver is a Driver served by a plugin subprocess, as the agent sees
// it. Besides the Driver methods it controls the subprocess.
//
// Lifetime: the go-plugin client is not Managed, so nothing kills the
// plugin when the agent exits or the PluginDriver is garbage collected.
// That is deliberate: tasks keep running under the plugin while the agent
// restarts, and the new agent calls Reattach with the saved
// ReattachConfig. Only Kill stops the plugin process (its tasks live on in
// their own process groups and can be recovered by a new plugin).
type PluginDriver struct {
	Driver
	// TaskOperations is the same gRPC client as Driver, seen through the
	// signal/stats/exec methods.
	TaskOperations
	name   string
	client *plugin.Client
}

// Name returns the driver's name, as the plugin reported it at launch.
func (p *PluginDriver) Name() string { return p.name }

// Kill asks the plugin process to shut down, then kills it if it does not,
// and waits for it to be gone.
func (p *PluginDriver) Kill() { p.client.Kill() }

// Exited reports whether the plugin process has exited.
func (p *PluginDriver) Exited() bool { return p.client.Exited() }

// ReattachConfig says how to reach the running plugin process again; save
// it (MarshalReattachConfig) to Reattach after an agent restart.
func (p *PluginDriver) ReattachConfig() *plugin.ReattachConfig {
	return p.client.ReattachConfig()
}

// Launch starts cmd (normally `drover plugin driver NAME`) as a driver
// plugin and connects to it. The plugin must report the driver name name.
// ctx bounds the start-up only; the plugin runs until Kill. The plugin's
// log lines are re-logged through logger.
func Launch(ctx context.Context, name string, cmd *exec.Cmd, logger hclog.Logger) (*PluginDriver, error) {
	detachProcessGroup(cmd)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          pluginSet(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           logger,
		Managed:          false,
	})
	d, err := connect(ctx, name, client)
	if err != nil {
		return nil, fmt.Errorf("launch driver plugin %q: %w", name, err)
	}
	return d, nil
}

// Reattach connects to a driver plugin that an earlier agent launched and
// left running. It fails if the plugin process is gone.
func Reattach(ctx context.Context, name string, rc *plugin.ReattachConfig, logger hclog.Logger) (*PluginDriver, error) {
	if rc == nil {
		return nil, fmt.Errorf("reattach driver plugin %q: no reattach config", name)
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          pluginSet(nil),
		Reattach:         rc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           logger,
		Managed:          false,
	})
	d, err := connect(ctx, name, client)
	if err != nil {
		return nil, fmt.Errorf("reattach driver plugin %q (pid %d): %w", name, rc.Pid, err)
	}
	return d, nil
}

// connect completes the go-plugin handshake (or reattach), dispenses the
// driver and checks its name. On failure or when ctx ends first, a
// launched plugin is killed so no orphan is left behind.
func connect(ctx context.Context, name string, client *plugin.Client) (*PluginDriver, error) {
	type result struct {
		d   *PluginDriver
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := dispense(client)
		done <- result{d, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			client.Kill()
			return nil, r.err
		}
		if r.d.name != name {
			client.Kill()
			return nil, fmt.Errorf("plugin serves driver %q, want %q", r.d.name, name)
		}
		return r.d, nil
	case <-ctx.Done():
		client.Kill()
		return nil, ctx.Err()
	}
}

func dispense(client *plugin.Client) (*PluginDriver, error) {
	rpc, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense(PluginSetKey)
	if err != nil {
		return nil, fmt.Errorf("dispense %q: %w", PluginSetKey, err)
	}
	d, ok := raw.(Driver)
	if !ok {
		return nil, fmt.Errorf("plugin returned %T, not a Driver", raw)
	}
	ops, ok := raw.(TaskOperations)
	if !ok {
		return nil, fmt.Errorf("plugin returned %T, not TaskOperations", raw)
	}
	return &PluginDriver{Driver: d, TaskOperations: ops, name: d.Name(), client: client}, nil
}

// reattachJSON is ReattachConfig in a form JSON can round-trip: net.Addr
// is an interface and cannot be decoded as is.
type reattachJSON struct {
	Protocol        string
	ProtocolVersion int
	Network         string
	Address         string
	Pid             int
}

// MarshalReattachConfig encodes rc for the client's local state store.
func MarshalReattachConfig(rc *plugin.ReattachConfig) ([]byte, error) {
	if rc == nil || rc.Addr == nil {
		return nil, fmt.Errorf("marshal reattach config: no address")
	}
	return json.Marshal(reattachJSON{
		Protocol:        string(rc.Protocol),
		ProtocolVersion: rc.ProtocolVersion,
		Network:         rc.Addr.Network(),
		Address:         rc.Addr.String(),
		Pid:             rc.Pid,
	})
}

// UnmarshalReattachConfig decodes what MarshalReattachConfig produced.
func UnmarshalReattachConfig(b []byte) (*plugin.ReattachConfig, error) {
	var r reattachJSON
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("unmarshal reattach config: %w", err)
	}
	var addr net.Addr
	switch r.Network {
	case "unix":
		addr = &net.UnixAddr{Net: "unix", Name: r.Address}
	case "tcp":
		a, err := net.ResolveTCPAddr("tcp", r.Address)
		if err != nil {
			return nil, fmt.Errorf("unmarshal reattach config: address %q: %w", r.Address, err)
		}
		addr = a
	default:
		return nil, fmt.Errorf("unmarshal reattach config: unknown network %q", r.Network)
	}
	return &plugin.ReattachConfig{
		Protocol:        plugin.Protocol(r.Protocol),
		ProtocolVersion: r.ProtocolVersion,
		Addr:            addr,
		Pid:             r.Pid,
	}, nil
}
