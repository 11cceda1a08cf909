// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"time"

	"github.com/droverhq/drover/plugins/proto"
)

// This file converts between the Driver interface's Go types and their
// protobuf messages. Nil maps in, nil maps out: both sides see the same
// values a local driver would have returned.

func taskConfigToProto(c *TaskConfig) *proto.TaskConfig {
	if c == nil {
		return nil
	}
	return &proto.TaskConfig{
		Id:               c.ID,
		Name:             c.Name,
		AllocId:          c.AllocID,
		JobName:          c.JobName,
		TaskGroupName:    c.TaskGroupName,
		Namespace:        c.Namespace,
		DriverConfig:     c.DriverConfig,
		Env:              c.Env,
		User:             c.User,
		AllocDir:         c.AllocDir,
		TaskDir:          c.TaskDir,
		StdoutPath:       c.StdoutPath,
		StderrPath:       c.StderrPath,
		LogMaxFiles:      int64(c.LogMaxFiles),
		LogMaxFileSizeMb: int64(c.LogMaxFileSizeMB),
		CpuMhz:           c.CPUMHz,
		MemoryMb:         c.MemoryMB,
		MemoryMaxMb:      c.MemoryMaxMB,
		Cores:            coresToProto(c.Cores),
	}
}

func taskConfigFromProto(p *proto.TaskConfig) *TaskConfig {
	if p == nil {
		return nil
	}
	return &TaskConfig{
		ID:               p.Id,
		Name:             p.Name,
		AllocID:          p.AllocId,
		JobName:          p.JobName,
		TaskGroupName:    p.TaskGroupName,
		Namespace:        p.Namespace,
		DriverConfig:     p.DriverConfig,
		Env:              p.Env,
		User:             p.User,
		AllocDir:         p.AllocDir,
		TaskDir:          p.TaskDir,
		StdoutPath:       p.StdoutPath,
		StderrPath:       p.StderrPath,
		LogMaxFiles:      int(p.LogMaxFiles),
		LogMaxFileSizeMB: int(p.LogMaxFileSizeMb),
		CPUMHz:           p.CpuMhz,
		MemoryMB:         p.MemoryMb,
		MemoryMaxMB:      p.MemoryMaxMb,
		Cores:            coresFromProto(p.Cores),
	}
}

// coresToProto widens core IDs to proto's smallest unsigned integer.
func coresToProto(cores []uint16) []uint32 {
	if cores == nil {
		return nil
	}
	out := make([]uint32, len(cores))
	for i, c := range cores {
		out[i] = uint32(c)
	}
	return out
}

// coresFromProto narrows core IDs back; no core ID exceeds uint16, the
// model's type.
func coresFromProto(cores []uint32) []uint16 {
	if cores == nil {
		return nil
	}
	out := make([]uint16, len(cores))
	for i, c := range cores {
		out[i] = uint16(c)
	}
	return out
}

func taskHandleToProto(h *TaskHandle) *proto.TaskHandle {
	if h == nil {
		return nil
	}
	return &proto.TaskHandle{
		Version: int64(h.Version),
		Config:  taskConfigToProto(h.Config),
		State:   h.State,
	}
}

func taskHandleFromProto(p *proto.TaskHandle) *TaskHandle {
	if p == nil {
		return nil
	}
	return &TaskHandle{
		Version: int(p.Version),
		Config:  taskConfigFromProto(p.Config),
		State:   p.State,
	}
}

func exitResultToProto(r *ExitResult) *proto.ExitResult {
	if r == nil {
		return nil
	}
	return &proto.ExitResult{
		ExitCode:  int64(r.ExitCode),
		Signal:    int64(r.Signal),
		OomKilled: r.OOMKilled,
		Err:       r.Err,
	}
}

func exitResultFromProto(p *proto.ExitResult) *ExitResult {
	if p == nil {
		return nil
	}
	return &ExitResult{
		ExitCode:  int(p.ExitCode),
		Signal:    int(p.Signal),
		OOMKilled: p.OomKilled,
		Err:       p.Err,
	}
}

func taskStatusToProto(s *TaskStatus) *proto.InspectTaskResponse {
	if s == nil {
		return &proto.InspectTaskResponse{}
	}
	return &proto.InspectTaskResponse{
		Id:                   s.ID,
		Name:                 s.Name,
		State:                s.State,
		StartedAtUnixNanos:   timeToNanos(s.StartedAt),
		CompletedAtUnixNanos: timeToNanos(s.CompletedAt),
		ExitResult:           exitResultToProto(s.ExitResult),
		DriverAttributes:     s.DriverAttributes,
	}
}

func taskStatusFromProto(p *proto.InspectTaskResponse) *TaskStatus {
	return &TaskStatus{
		ID:               p.Id,
		Name:             p.Name,
		State:            p.State,
		StartedAt:        nanosToTime(p.StartedAtUnixNanos),
		CompletedAt:      nanosToTime(p.CompletedAtUnixNanos),
		ExitResult:       exitResultFromProto(p.ExitResult),
		DriverAttributes: p.DriverAttributes,
	}
}

// timeToNanos maps the zero time to 0, which UnixNano cannot represent.
func timeToNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func nanosToTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
