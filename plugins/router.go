// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/droverhq/drover/plugins/proto"
)

// This file lets one plugin process serve several drivers (the built-ins
// share one subprocess to save memory) while each keeps its own identity:
// every call carries the driver's name in the gRPC metadata key
// DriverMetadataKey, and the plugin routes it to that driver.

// DriverMetadataKey is the gRPC metadata key naming the driver a call is
// for. A plugin serving a single driver also accepts calls without it, so
// agents that do not send it (and plugins that do not read it) still work.
const DriverMetadataKey = "drover-driver"

// driverRouter is the Driver gRPC service of a plugin process: it hands
// each call to the grpcServer of the driver the call names.
type driverRouter struct {
	proto.UnimplementedDriverServer
	byName map[string]*grpcServer
}

// newDriverRouter routes to drivers, which must be at least one, with
// distinct non-empty names.
func newDriverRouter(drivers []Driver) (*driverRouter, error) {
	if len(drivers) == 0 {
		return nil, fmt.Errorf("serve driver plugin: no drivers")
	}
	r := &driverRouter{byName: make(map[string]*grpcServer, len(drivers))}
	for _, d := range drivers {
		name := d.Name()
		if name == "" {
			return nil, fmt.Errorf("serve driver plugin: driver %T has no name", d)
		}
		if _, dup := r.byName[name]; dup {
			return nil, fmt.Errorf("serve driver plugin: driver %q given twice", name)
		}
		r.byName[name] = &grpcServer{impl: d}
	}
	return r, nil
}

func (r *driverRouter) names() string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// pick finds the driver a call is for. The error code is neither NotFound
// nor Unknown, which the client reads as a driver's own error.
func (r *driverRouter) pick(ctx context.Context) (*grpcServer, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	want := md.Get(DriverMetadataKey)
	if len(want) == 0 {
		if len(r.byName) == 1 {
			for _, s := range r.byName {
				return s, nil
			}
		}
		return nil, status.Errorf(codes.InvalidArgument,
			"plugin serves drivers %s: the call must name one in gRPC metadata %q", r.names(), DriverMetadataKey)
	}
	s, ok := r.byName[want[0]]
	if !ok {
		return nil, status.Errorf(codes.FailedPrecondition, "plugin does not serve driver %q (it serves %s)", want[0], r.names())
	}
	return s, nil
}

func (r *driverRouter) Name(ctx context.Context, req *proto.NameRequest) (*proto.NameResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.Name(ctx, req)
}

func (r *driverRouter) SetConfig(ctx context.Context, req *proto.SetConfigRequest) (*proto.SetConfigResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.SetConfig(ctx, req)
}

func (r *driverRouter) Fingerprint(ctx context.Context, req *proto.FingerprintRequest) (*proto.FingerprintResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.Fingerprint(ctx, req)
}

func (r *driverRouter) StartTask(ctx context.Context, req *proto.StartTaskRequest) (*proto.StartTaskResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.StartTask(ctx, req)
}

func (r *driverRouter) WaitTask(ctx context.Context, req *proto.WaitTaskRequest) (*proto.WaitTaskResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.WaitTask(ctx, req)
}

func (r *driverRouter) StopTask(ctx context.Context, req *proto.StopTaskRequest) (*proto.StopTaskResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.StopTask(ctx, req)
}

func (r *driverRouter) DestroyTask(ctx context.Context, req *proto.DestroyTaskRequest) (*proto.DestroyTaskResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.DestroyTask(ctx, req)
}

func (r *driverRouter) InspectTask(ctx context.Context, req *proto.InspectTaskRequest) (*proto.InspectTaskResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.InspectTask(ctx, req)
}

func (r *driverRouter) RecoverTask(ctx context.Context, req *proto.RecoverTaskRequest) (*proto.RecoverTaskResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.RecoverTask(ctx, req)
}

func (r *driverRouter) Capabilities(ctx context.Context, req *proto.CapabilitiesRequest) (*proto.CapabilitiesResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.Capabilities(ctx, req)
}

func (r *driverRouter) SignalTask(ctx context.Context, req *proto.SignalTaskRequest) (*proto.SignalTaskResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.SignalTask(ctx, req)
}

func (r *driverRouter) TaskStats(req *proto.TaskStatsRequest, stream proto.Driver_TaskStatsServer) error {
	s, err := r.pick(stream.Context())
	if err != nil {
		return err
	}
	return s.TaskStats(req, stream)
}

func (r *driverRouter) ExecTask(stream proto.Driver_ExecTaskServer) error {
	s, err := r.pick(stream.Context())
	if err != nil {
		return err
	}
	return s.ExecTask(stream)
}

// namedConn is the agent's side of the routing: a connection to a plugin
// that tags every call with one driver's name, so one connection (and one
// process) can carry several drivers. An empty name tags nothing, for a
// third-party plugin whose driver's name is not known yet.
type namedConn struct {
	conn grpc.ClientConnInterface
	name string
}

func (c namedConn) tag(ctx context.Context) context.Context {
	if c.name == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, DriverMetadataKey, c.name)
}

func (c namedConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return c.conn.Invoke(c.tag(ctx), method, args, reply, opts...)
}

func (c namedConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.conn.NewStream(c.tag(ctx), desc, method, opts...)
}
