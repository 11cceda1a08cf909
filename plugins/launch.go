// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
)

// PluginDriver is a Driver served by a plugin subprocess, as the agent sees
// it. Besides the Driver methods it controls the subprocess, which may
// serve other drivers too (LaunchDrivers).
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
// and waits for it to be gone. Every driver the process serves goes with
// it; calling Kill on each of them is harmless.
func (p *PluginDriver) Kill() { p.client.Kill() }

// Exited reports whether the plugin process has exited.
func (p *PluginDriver) Exited() bool { return p.client.Exited() }

// ReattachConfig says how to reach the running plugin process again; save
// it (MarshalReattachConfig) to Reattach after an agent restart. Drivers
// sharing a process share it.
func (p *PluginDriver) ReattachConfig() *plugin.ReattachConfig {
	return p.client.ReattachConfig()
}

// Launch starts cmd as a plugin serving the one driver name and connects
// to it. An empty name accepts whatever driver the plugin serves: a
// third-party plugin's name is only known once it runs (see Name). ctx
// bounds the start-up only; the plugin runs until Kill. The plugin's log
// lines are re-logged through logger.
func Launch(ctx context.Context, name string, cmd *exec.Cmd, logger hclog.Logger) (*PluginDriver, error) {
	ds, err := launch(ctx, []string{name}, cmd, logger)
	if err != nil {
		if name == "" {
			return nil, fmt.Errorf("launch driver plugin %s: %w", cmd.Path, err)
		}
		return nil, fmt.Errorf("launch driver plugin %q: %w", name, err)
	}
	return ds[0], nil
}

// LaunchDrivers starts cmd (normally `drover plugin driver NAME,NAME...`)
// as one plugin process serving every driver in names, and returns a
// PluginDriver for each, by name. Each keeps its own identity over the
// shared connection (DriverMetadataKey); they share the process, its
// ReattachConfig and its Kill.
func LaunchDrivers(ctx context.Context, names []string, cmd *exec.Cmd, logger hclog.Logger) (map[string]*PluginDriver, error) {
	if len(names) == 0 || slices.Contains(names, "") {
		return nil, fmt.Errorf("launch driver plugin %s: driver names %q must be non-empty", cmd.Path, names)
	}
	ds, err := launch(ctx, names, cmd, logger)
	if err != nil {
		return nil, fmt.Errorf("launch driver plugin for %s: %w", strings.Join(names, ", "), err)
	}
	out := make(map[string]*PluginDriver, len(ds))
	for _, d := range ds {
		out[d.name] = d
	}
	return out, nil
}

func launch(ctx context.Context, names []string, cmd *exec.Cmd, logger hclog.Logger) ([]*PluginDriver, error) {
	detachProcessGroup(cmd)
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          pluginSet(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           logger,
		Managed:          false,
	}
	if deadline, ok := ctx.Deadline(); ok {
		// go-plugin gives up on a silent plugin at the same time, rather
		// than after its default minute.
		cfg.StartTimeout = max(time.Until(deadline), time.Millisecond)
	}
	client := plugin.NewClient(cfg)
	// A plugin that failed is killed with its whole process group: a
	// child it started (a shell script's) would otherwise hold its
	// output pipes open, and go-plugin's Kill waits for them to close.
	kill := func() {
		killProcessGroup(cmd)
		client.Kill()
	}
	return connect(ctx, names, client, kill)
}

// Reattach connects to driver name in a plugin process that an earlier
// agent launched and left running. It fails if the plugin process is
// gone.
func Reattach(ctx context.Context, name string, rc *plugin.ReattachConfig, logger hclog.Logger) (*PluginDriver, error) {
	if rc == nil {
		return nil, fmt.Errorf("reattach driver plugin %q: no reattach config", name)
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          pluginSet(),
		Reattach:         rc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           logger,
		Managed:          false,
	})
	ds, err := connect(ctx, []string{name}, client, func() { closeConn(client) })
	if err != nil {
		return nil, fmt.Errorf("reattach driver plugin %q (pid %d): %w", name, rc.Pid, err)
	}
	return ds[0], nil
}

// connect completes the go-plugin handshake (or reattach) and dispenses
// the drivers. On failure, or when ctx ends first (then once the attempt
// ends), it calls abandon to release what the attempt holds.
func connect(ctx context.Context, names []string, client *plugin.Client, abandon func()) ([]*PluginDriver, error) {
	type result struct {
		ds  []*PluginDriver
		err error
	}
	done := make(chan result, 1)
	go func() {
		ds, err := dispense(client, names)
		done <- result{ds, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			abandon()
			return nil, r.err
		}
		return r.ds, nil
	case <-ctx.Done():
		go func() {
			<-done
			abandon()
		}()
		return nil, ctx.Err()
	}
}

// closeConn drops a failed reattach's connection but, unlike Kill, leaves
// the plugin process alone: it may serve other drivers, and its tasks, for
// which a reattach by another name can still succeed.
func closeConn(client *plugin.Client) {
	rpc, err := client.Client()
	if err != nil {
		return
	}
	if g, ok := rpc.(*plugin.GRPCClient); ok {
		_ = g.Conn.Close()
	}
}

// dispense returns a PluginDriver for each of names over client's one
// connection, after checking with the plugin that it serves that driver
// ("" takes the name the plugin reports).
func dispense(client *plugin.Client, names []string) ([]*PluginDriver, error) {
	rpc, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense(PluginSetKey)
	if err != nil {
		return nil, fmt.Errorf("not a driver plugin: dispense %q: %w", PluginSetKey, err)
	}
	base, ok := raw.(*grpcClient)
	if !ok {
		return nil, fmt.Errorf("plugin returned %T, not a driver client", raw)
	}
	out := make([]*PluginDriver, 0, len(names))
	for _, want := range names {
		c := base.named(want)
		got, err := c.name()
		if err != nil {
			return nil, fmt.Errorf("not a driver plugin: ask driver name: %w", err)
		}
		switch {
		case got == "":
			return nil, errors.New("not a driver plugin: it reports an empty driver name")
		case want == "":
			c = base.named(got)
		case got != want:
			return nil, fmt.Errorf("plugin serves driver %q, want %q", got, want)
		}
		out = append(out, &PluginDriver{Driver: c, TaskOperations: c, name: got, client: client})
	}
	return out, nil
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
