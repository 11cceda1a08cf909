// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/droverhq/drover/plugins/proto"
)

// grpcServer exposes a Driver living in the plugin process as the gRPC
// Driver service. It is a thin adapter: all behaviour is the driver's.
type grpcServer struct {
	proto.UnimplementedDriverServer
	impl Driver
}

func (s *grpcServer) Name(context.Context, *proto.NameRequest) (*proto.NameResponse, error) {
	return &proto.NameResponse{Name: s.impl.Name()}, nil
}

func (s *grpcServer) SetConfig(_ context.Context, req *proto.SetConfigRequest) (*proto.SetConfigResponse, error) {
	if err := s.impl.SetConfig(req.Config); err != nil {
		return nil, toStatus(err)
	}
	return &proto.SetConfigResponse{}, nil
}

func (s *grpcServer) Fingerprint(ctx context.Context, _ *proto.FingerprintRequest) (*proto.FingerprintResponse, error) {
	fp, err := s.impl.Fingerprint(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	if fp == nil {
		return &proto.FingerprintResponse{}, nil
	}
	return &proto.FingerprintResponse{
		Health:            fp.Health,
		HealthDescription: fp.HealthDescription,
		Attributes:        fp.Attributes,
	}, nil
}

func (s *grpcServer) StartTask(_ context.Context, req *proto.StartTaskRequest) (*proto.StartTaskResponse, error) {
	h, err := s.impl.StartTask(taskConfigFromProto(req.Config))
	if err != nil {
		return nil, toStatus(err)
	}
	return &proto.StartTaskResponse{Handle: taskHandleToProto(h)}, nil
}

// WaitTask hands the call's context to the driver: gRPC cancels it when the
// agent cancels its call or the connection drops, which ends the wait.
func (s *grpcServer) WaitTask(ctx context.Context, req *proto.WaitTaskRequest) (*proto.WaitTaskResponse, error) {
	res, err := s.impl.WaitTask(ctx, req.TaskId)
	if err != nil {
		return nil, toStatus(err)
	}
	return &proto.WaitTaskResponse{Result: exitResultToProto(res)}, nil
}

func (s *grpcServer) StopTask(_ context.Context, req *proto.StopTaskRequest) (*proto.StopTaskResponse, error) {
	if err := s.impl.StopTask(req.TaskId, time.Duration(req.TimeoutNanos), req.Signal); err != nil {
		return nil, toStatus(err)
	}
	return &proto.StopTaskResponse{}, nil
}

func (s *grpcServer) DestroyTask(_ context.Context, req *proto.DestroyTaskRequest) (*proto.DestroyTaskResponse, error) {
	if err := s.impl.DestroyTask(req.TaskId, req.Force); err != nil {
		return nil, toStatus(err)
	}
	return &proto.DestroyTaskResponse{}, nil
}

func (s *grpcServer) InspectTask(_ context.Context, req *proto.InspectTaskRequest) (*proto.InspectTaskResponse, error) {
	st, err := s.impl.InspectTask(req.TaskId)
	if err != nil {
		return nil, toStatus(err)
	}
	return taskStatusToProto(st), nil
}

func (s *grpcServer) RecoverTask(_ context.Context, req *proto.RecoverTaskRequest) (*proto.RecoverTaskResponse, error) {
	if err := s.impl.RecoverTask(taskHandleFromProto(req.Handle)); err != nil {
		return nil, toStatus(err)
	}
	return &proto.RecoverTaskResponse{}, nil
}

// toStatus keeps a driver error's text and maps the errors callers test
// with errors.Is onto gRPC codes, which fromStatus maps back.
func toStatus(err error) error {
	code := codes.Unknown
	switch {
	case errors.Is(err, ErrTaskNotFound):
		code = codes.NotFound
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	return status.Error(code, err.Error())
}
