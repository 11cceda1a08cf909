// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/droverhq/drover/plugins/proto"
)

// grpcClient is the agent's side of the transport: a Driver whose every
// method is a call to the plugin process.
//
// Methods without a context in the Driver interface use ctx, which
// go-plugin cancels when the plugin process exits, so no call hangs on a
// dead plugin.
type grpcClient struct {
	ctx    context.Context
	conn   grpc.ClientConnInterface // the plugin connection, untagged
	client proto.DriverClient
}

var _ Driver = (*grpcClient)(nil)

// newGRPCClient is the client of driver name ("" for whichever driver the
// plugin serves alone) over conn; ctx ends when the plugin process exits.
func newGRPCClient(ctx context.Context, conn grpc.ClientConnInterface, name string) *grpcClient {
	return &grpcClient{ctx: ctx, conn: conn, client: proto.NewDriverClient(namedConn{conn: conn, name: name})}
}

// named returns a client for driver name over the same connection.
func (c *grpcClient) named(name string) *grpcClient {
	return newGRPCClient(c.ctx, c.conn, name)
}

// name asks the plugin for the driver's name, with the error Name cannot
// return: launching needs to say why a plugin did not answer.
func (c *grpcClient) name() (string, error) {
	resp, err := c.client.Name(c.ctx, &proto.NameRequest{})
	if err != nil {
		return "", c.fromStatus(context.Background(), err)
	}
	return resp.Name, nil
}

// Name returns the driver's name, or "" if the plugin cannot be reached:
// the interface leaves no room for an error, and PluginDriver caches the
// name at launch so this path is rarely taken.
func (c *grpcClient) Name() string {
	name, _ := c.name()
	return name
}

func (c *grpcClient) SetConfig(config []byte) error {
	_, err := c.client.SetConfig(c.ctx, &proto.SetConfigRequest{Config: config})
	return c.fromStatus(context.Background(), err)
}

func (c *grpcClient) Fingerprint(ctx context.Context) (*Fingerprint, error) {
	callCtx, cancel := joinContext(ctx, c.ctx)
	defer cancel()
	resp, err := c.client.Fingerprint(callCtx, &proto.FingerprintRequest{})
	if err != nil {
		return nil, c.fromStatus(ctx, err)
	}
	return &Fingerprint{
		Health:            resp.Health,
		HealthDescription: resp.HealthDescription,
		Attributes:        resp.Attributes,
	}, nil
}

func (c *grpcClient) StartTask(cfg *TaskConfig) (*TaskHandle, error) {
	resp, err := c.client.StartTask(c.ctx, &proto.StartTaskRequest{Config: taskConfigToProto(cfg)})
	if err != nil {
		return nil, c.fromStatus(context.Background(), err)
	}
	return taskHandleFromProto(resp.Handle), nil
}

// WaitTask is a long poll. Cancelling ctx cancels the RPC, and gRPC carries
// the cancellation to the plugin, whose WaitTask then returns.
func (c *grpcClient) WaitTask(ctx context.Context, taskID string) (*ExitResult, error) {
	callCtx, cancel := joinContext(ctx, c.ctx)
	defer cancel()
	resp, err := c.client.WaitTask(callCtx, &proto.WaitTaskRequest{TaskId: taskID})
	if err != nil {
		return nil, c.fromStatus(ctx, err)
	}
	return exitResultFromProto(resp.Result), nil
}

func (c *grpcClient) StopTask(taskID string, timeout time.Duration, signal string) error {
	_, err := c.client.StopTask(c.ctx, &proto.StopTaskRequest{
		TaskId:       taskID,
		TimeoutNanos: int64(timeout),
		Signal:       signal,
	})
	return c.fromStatus(context.Background(), err)
}

func (c *grpcClient) DestroyTask(taskID string, force bool) error {
	_, err := c.client.DestroyTask(c.ctx, &proto.DestroyTaskRequest{TaskId: taskID, Force: force})
	return c.fromStatus(context.Background(), err)
}

func (c *grpcClient) InspectTask(taskID string) (*TaskStatus, error) {
	resp, err := c.client.InspectTask(c.ctx, &proto.InspectTaskRequest{TaskId: taskID})
	if err != nil {
		return nil, c.fromStatus(context.Background(), err)
	}
	return taskStatusFromProto(resp), nil
}

func (c *grpcClient) RecoverTask(handle *TaskHandle) error {
	_, err := c.client.RecoverTask(c.ctx, &proto.RecoverTaskRequest{Handle: taskHandleToProto(handle)})
	return c.fromStatus(context.Background(), err)
}

// remoteError is a driver error that crossed the wire: the driver's text,
// unwrapping to the sentinel its gRPC code stands for.
type remoteError struct {
	msg    string
	target error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.target }

// fromStatus turns a gRPC error back into what the driver returned. When
// the caller's ctx (nil for methods without one) has ended, its error wins,
// as the Driver interface promises for WaitTask and Fingerprint; when the
// plugin process is gone, the error says so.
func (c *grpcClient) fromStatus(caller context.Context, err error) error {
	if err == nil {
		return nil
	}
	if caller.Err() != nil {
		return caller.Err()
	}
	if c.ctx.Err() != nil {
		return fmt.Errorf("%w: %v", ErrPluginExited, err)
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("driver plugin: %w", err)
	}
	switch st.Code() {
	case codes.Unknown:
		return &remoteError{msg: st.Message()}
	case codes.NotFound:
		return &remoteError{msg: st.Message(), target: ErrTaskNotFound}
	case codes.Canceled:
		return &remoteError{msg: st.Message(), target: context.Canceled}
	case codes.DeadlineExceeded:
		return &remoteError{msg: st.Message(), target: context.DeadlineExceeded}
	default:
		return fmt.Errorf("driver plugin: %s: %s", st.Code(), st.Message())
	}
}

// joinContext returns a context that ends when either parent ends: the
// caller's, or the plugin connection's.
func joinContext(caller, conn context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(caller)
	stop := context.AfterFunc(conn, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}
