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
// the plugin side impl is the real driver; on the agent side it is unused.
type driverPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Driver
}

var _ plugin.GRPCPlugin = (*driverPlugin)(nil)

func (p *driverPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterDriverServer(s, &grpcServer{impl: p.impl})
	return nil
}

// GRPCClient returns the agent's Driver. go-plugin cancels ctx when the
// plugin process exits, which ends every call in flight.
func (p *driverPlugin) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &grpcClient{ctx: ctx, client: proto.NewDriverClient(c)}, nil
}

// pluginSet is the plugin map both sides hand to go-plugin.
func pluginSet(d Driver) plugin.PluginSet {
	return plugin.PluginSet{PluginSetKey: &driverPlugin{impl: d}}
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
// the agent asks the plugin to shut down (PluginDriver.Kill). It is what
// `drover plugin driver NAME` runs.
//
// The plugin must outlive the agent, so that tasks keep running and a
// restarted agent can Reattach. Two things would otherwise kill it when
// the agent dies: SIGPIPE on the first log line written to the dead
// agent's stderr pipe, and SIGINT from a terminal (go-plugin ignores it).
// SIGPIPE is caught rather than ignored (the writes then just fail): an
// ignored signal would be inherited by every task the plugin starts.
func Serve(d Driver) {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         pluginSet(d),
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          PluginLogger("plugin"),
	})
}
