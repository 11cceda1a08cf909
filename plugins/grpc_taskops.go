// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/droverhq/drover/plugins/proto"
)

// This file carries TaskOperations over the transport: unary calls for
// capabilities and signals, a server stream for stats, and a bidirectional
// stream for exec.

var _ TaskOperations = (*grpcClient)(nil)

// statsAcceptedKey is the response header a plugin sends once its driver
// accepted a TaskStats call. Without it the call failed, and gRPC delivers
// the failure as trailers only, which Header does not report as an error.
const statsAcceptedKey = "drover-stats-accepted"

func (c *grpcClient) Capabilities() (*Capabilities, error) {
	resp, err := c.client.Capabilities(c.ctx, &proto.CapabilitiesRequest{})
	if err != nil {
		return nil, c.fromStatus(context.Background(), err)
	}
	return &Capabilities{
		SendSignals:  resp.SendSignals,
		Exec:         resp.Exec,
		FSIsolation:  resp.FsIsolation,
		MountConfigs: resp.MountConfigs,
	}, nil
}

func (c *grpcClient) SignalTask(taskID, signal string) error {
	_, err := c.client.SignalTask(c.ctx, &proto.SignalTaskRequest{TaskId: taskID, Signal: signal})
	return c.fromStatus(context.Background(), err)
}

// TaskStats waits for the plugin's response header, which it sends only
// once its driver accepted the request, so errors surface here rather than
// as a silently closed channel.
func (c *grpcClient) TaskStats(ctx context.Context, taskID string, interval time.Duration) (<-chan *TaskResourceUsage, error) {
	callCtx, cancel := joinContext(ctx, c.ctx)
	stream, err := c.client.TaskStats(callCtx, &proto.TaskStatsRequest{TaskId: taskID, IntervalNanos: int64(interval)})
	if err != nil {
		cancel()
		return nil, c.fromStatus(ctx, err)
	}
	md, err := stream.Header()
	if err == nil && len(md.Get(statsAcceptedKey)) == 0 {
		// A trailers-only answer: the driver refused, and Recv says why.
		if _, err = stream.Recv(); err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("stats for task %q: plugin ended the stream without answering", taskID)
		}
	}
	if err != nil {
		cancel()
		return nil, c.fromStatus(ctx, err)
	}
	out := make(chan *TaskResourceUsage)
	go func() {
		defer close(out)
		defer cancel()
		for {
			resp, err := stream.Recv()
			if err != nil {
				return
			}
			select {
			case out <- usageFromProto(resp):
			case <-callCtx.Done():
				return
			}
		}
	}()
	return out, nil
}

// ExecTask sends stdin and resizes from two goroutines (serialised, as a
// gRPC stream allows one sender) while this one writes what comes back.
// A stdin that blocks forever keeps its goroutine until it returns: a
// Reader cannot be interrupted.
func (c *grpcClient) ExecTask(ctx context.Context, taskID string, cmd []string, tty bool,
	stdin io.Reader, stdout, stderr io.Writer, resize <-chan TerminalSize) (int, error) {
	callCtx, cancel := joinContext(ctx, c.ctx)
	defer cancel()
	stream, err := c.client.ExecTask(callCtx)
	if err != nil {
		return 0, c.fromStatus(ctx, err)
	}
	var sendMu sync.Mutex
	send := func(req *proto.ExecTaskRequest) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return stream.Send(req)
	}
	if err := send(&proto.ExecTaskRequest{Msg: &proto.ExecTaskRequest_Setup{Setup: &proto.ExecSetup{
		TaskId: taskID, Cmd: cmd, Tty: tty,
	}}}); err != nil {
		return 0, c.execError(ctx, stream)
	}
	if stdin != nil {
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, rerr := stdin.Read(buf)
				if n > 0 {
					chunk := append([]byte(nil), buf[:n]...)
					if send(&proto.ExecTaskRequest{Msg: &proto.ExecTaskRequest_Stdin{Stdin: chunk}}) != nil {
						return
					}
				}
				if rerr != nil {
					_ = send(&proto.ExecTaskRequest{Msg: &proto.ExecTaskRequest_StdinClosed{StdinClosed: true}})
					return
				}
			}
		}()
	} else {
		_ = send(&proto.ExecTaskRequest{Msg: &proto.ExecTaskRequest_StdinClosed{StdinClosed: true}})
	}
	if resize != nil {
		go func() {
			for {
				select {
				case sz, ok := <-resize:
					if !ok {
						return
					}
					if send(&proto.ExecTaskRequest{Msg: &proto.ExecTaskRequest_Resize{Resize: &proto.TerminalSize{
						Height: uint32(sz.Height), Width: uint32(sz.Width),
					}}}) != nil {
						return
					}
				case <-callCtx.Done():
					return
				}
			}
		}()
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, fmt.Errorf("exec in task %q: plugin ended the session without an exit code", taskID)
			}
			return 0, c.fromStatus(ctx, err)
		}
		switch m := resp.Msg.(type) {
		case *proto.ExecTaskResponse_Stdout:
			if stdout != nil {
				if _, err := stdout.Write(m.Stdout); err != nil {
					return 0, fmt.Errorf("exec in task %q: write stdout: %w", taskID, err)
				}
			}
		case *proto.ExecTaskResponse_Stderr:
			if stderr != nil {
				if _, err := stderr.Write(m.Stderr); err != nil {
					return 0, fmt.Errorf("exec in task %q: write stderr: %w", taskID, err)
				}
			}
		case *proto.ExecTaskResponse_ExitCode:
			return int(m.ExitCode), nil
		}
	}
}

// execError finds out why a Send failed: gRPC reports the real status on
// the next Recv.
func (c *grpcClient) execError(ctx context.Context, stream proto.Driver_ExecTaskClient) error {
	_, err := stream.Recv()
	if err == nil || errors.Is(err, io.EOF) {
		err = errors.New("exec stream closed")
	}
	return c.fromStatus(ctx, err)
}

func (s *grpcServer) Capabilities(context.Context, *proto.CapabilitiesRequest) (*proto.CapabilitiesResponse, error) {
	ops, err := s.ops()
	if err != nil {
		return nil, err
	}
	caps, err := ops.Capabilities()
	if err != nil {
		return nil, toStatus(err)
	}
	if caps == nil {
		return &proto.CapabilitiesResponse{}, nil
	}
	return &proto.CapabilitiesResponse{
		SendSignals:  caps.SendSignals,
		Exec:         caps.Exec,
		FsIsolation:  caps.FSIsolation,
		MountConfigs: caps.MountConfigs,
	}, nil
}

func (s *grpcServer) SignalTask(_ context.Context, req *proto.SignalTaskRequest) (*proto.SignalTaskResponse, error) {
	ops, err := s.ops()
	if err != nil {
		return nil, err
	}
	if err := ops.SignalTask(req.TaskId, req.Signal); err != nil {
		return nil, toStatus(err)
	}
	return &proto.SignalTaskResponse{}, nil
}

func (s *grpcServer) TaskStats(req *proto.TaskStatsRequest, stream proto.Driver_TaskStatsServer) error {
	ops, err := s.ops()
	if err != nil {
		return err
	}
	ctx := stream.Context()
	ch, err := ops.TaskStats(ctx, req.TaskId, time.Duration(req.IntervalNanos))
	if err != nil {
		return toStatus(err)
	}
	if err := stream.SendHeader(metadata.Pairs(statsAcceptedKey, "1")); err != nil {
		return err
	}
	for u := range ch {
		if err := stream.Send(usageToProto(u)); err != nil {
			// The agent went away; the driver stops when ctx ends. Drain
			// so its sender does not block until then.
			go func() {
				for range ch {
				}
			}()
			return err
		}
	}
	return nil
}

func (s *grpcServer) ExecTask(stream proto.Driver_ExecTaskServer) error {
	ops, err := s.ops()
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	setup := first.GetSetup()
	if setup == nil {
		return toStatus(errors.New("exec: first message must be the setup"))
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()

	stdinR, stdinW := io.Pipe()
	defer stdinR.Close()
	resize := make(chan TerminalSize, 1)
	go func() {
		defer stdinW.Close()
		for {
			req, err := stream.Recv()
			if err != nil {
				return
			}
			switch m := req.Msg.(type) {
			case *proto.ExecTaskRequest_Stdin:
				if _, err := stdinW.Write(m.Stdin); err != nil {
					return
				}
			case *proto.ExecTaskRequest_StdinClosed:
				_ = stdinW.Close()
			case *proto.ExecTaskRequest_Resize:
				select {
				case resize <- TerminalSize{Height: uint16(m.Resize.Height), Width: uint16(m.Resize.Width)}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	var sendMu sync.Mutex
	send := func(resp *proto.ExecTaskResponse) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return stream.Send(resp)
	}
	stdout := streamWriter(func(b []byte) error {
		return send(&proto.ExecTaskResponse{Msg: &proto.ExecTaskResponse_Stdout{Stdout: b}})
	})
	stderr := streamWriter(func(b []byte) error {
		return send(&proto.ExecTaskResponse{Msg: &proto.ExecTaskResponse_Stderr{Stderr: b}})
	})
	code, err := ops.ExecTask(ctx, setup.TaskId, setup.Cmd, setup.Tty, stdinR, stdout, stderr, resize)
	if err != nil {
		return toStatus(err)
	}
	return send(&proto.ExecTaskResponse{Msg: &proto.ExecTaskResponse_ExitCode{ExitCode: int64(code)}})
}

// ops returns the served driver's TaskOperations, or an error a caller can
// read if the driver predates them.
func (s *grpcServer) ops() (TaskOperations, error) {
	ops, ok := s.impl.(TaskOperations)
	if !ok {
		return nil, toStatus(fmt.Errorf("driver %q does not support signals, stats or exec", s.impl.Name()))
	}
	return ops, nil
}

// streamWriter is an io.Writer that sends each write as one message. The
// bytes are copied: gRPC may hold the slice after Send returns.
type streamWriter func([]byte) error

func (w streamWriter) Write(p []byte) (int, error) {
	if err := w(append([]byte(nil), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
