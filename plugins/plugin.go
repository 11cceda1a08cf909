// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/droverhq/drover/plugins/proto"
)

// Handshake is the go-plugin handshake shared by the agent and every driver
// plugin. The cookie is not a secret: it only keeps a user who runs a
// plugin binary by hand from getting a confusing hang.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "DROVER_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "9c0f8fe8483f459ca60dee75683395f82d7ce14a037cecf7225e4545b0800037",
}

// PluginSetKey is the name under which a plugin process serves its Driver.
const PluginSetKey = "driver"

// driverPlugin binds the Driver interface to go-plugin's gRPC protocol. On
// the plugin side impls are the drivers the process serves; on the agent
// side they are unused.
type driverPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impls []Driver
}

var _ plugin.GRPCPlugin = (*driverPlugin)(nil)

func (p *driverPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	r, err := newDriverRouter(p.impls)
	if err != nil {
		return err
	}
	proto.RegisterDriverServer(s, r)
	return nil
}

// GRPCClient returns the agent's Driver, not yet tagged with a driver name
// (see namedConn). go-plugin cancels ctx when the plugin process exits,
// which ends every call in flight.
func (p *driverPlugin) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return newGRPCClient(ctx, c, ""), nil
}

// pluginSet is the plugin map both sides hand to go-plugin: the agent's
// with no drivers, a plugin's with those it serves.
func pluginSet(drivers ...Driver) plugin.PluginSet {
	return plugin.PluginSet{PluginSetKey: &driverPlugin{impls: drivers}}
}

// PluginLogger is the logger a plugin process should give its driver: JSON
// on stderr, which the agent's go-plugin client decodes and re-logs under
// its own logger, levels and fields intact.
func PluginLogger(name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      hclog.Trace,
		Output:     os.Stderr,
		JSONFormat: true,
	})
}

// Serve serves d to the agent that started this process and returns when
// the agent asks the plugin to shut down (PluginDriver.Kill). It is what a
// third-party driver's main function calls.
func Serve(d Driver) {
	if err := ServeDrivers(d); err != nil {
		PluginLogger("plugin").Error("cannot serve driver plugin", "error", err)
		os.Exit(1)
	}
}

// ServeDrivers serves several drivers from this one process, each under its
// own name (see DriverMetadataKey), until the agent asks the plugin to shut
// down. It is what `drover plugin driver NAME,NAME...` runs: one process
// for all built-in drivers costs one Go runtime instead of one per driver.
// It fails at once, without serving, when drivers is empty or names a
// driver twice.
//
// The plugin must outlive the agent, so that tasks keep running and a
// restarted agent can Reattach. Two things would otherwise kill it when
// the agent dies: SIGPIPE on the first log line written to the dead
// agent's stderr pipe, and SIGINT from a terminal (go-plugin ignores it).
// SIGPIPE is caught rather than ignored (the writes then just fail): an
// ignored signal would be inherited by every task the plugin starts.
func ServeDrivers(drivers ...Driver) error {
	if _, err := newDriverRouter(drivers); err != nil {
		return err
	}
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         pluginSet(drivers...),
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          PluginLogger("plugin"),
	})
	return nil
}
