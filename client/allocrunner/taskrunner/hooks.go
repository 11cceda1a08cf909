// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/droverhq/drover/client/allocdir"
	"github.com/droverhq/drover/client/taskenv"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// Hook is one concern of a task's lifecycle. The task runner calls every
// hook at each stage, in order; a hook implements the stages it cares about
// and embeds NoopHook for the rest. Keeping concerns in hooks keeps the
// runner's loop small and lets new concerns (templates, Vault, services)
// arrive without touching it.
type Hook interface {
	// Name identifies the hook in logs and errors.
	Name() string
	// Prestart runs before every start attempt and fills in req.Config.
	// An error aborts the attempt; the restart policy decides what next.
	Prestart(ctx context.Context, req *HookRequest) error
	// Poststart runs after the driver started the task.
	Poststart(ctx context.Context, req *HookRequest) error
	// Exited runs after each exit, before the restart decision.
	Exited(ctx context.Context, req *HookRequest, res *plugins.ExitResult) error
	// Stop runs once, when the task is finished for good.
	Stop(ctx context.Context, req *HookRequest) error
}

// NoopHook gives a hook no-op stages to override.
type NoopHook struct{}

// Prestart does nothing.
func (NoopHook) Prestart(context.Context, *HookRequest) error { return nil }

// Poststart does nothing.
func (NoopHook) Poststart(context.Context, *HookRequest) error { return nil }

// Exited does nothing.
func (NoopHook) Exited(context.Context, *HookRequest, *plugins.ExitResult) error { return nil }

// Stop does nothing.
func (NoopHook) Stop(context.Context, *HookRequest) error { return nil }

// HookRequest is the state the hooks share for one task.
type HookRequest struct {
	Alloc    *structs.Allocation
	Task     *structs.Task
	Node     *structs.Node
	HostEnv  map[string]string
	AllocDir *allocdir.AllocDir
	TaskDir  *allocdir.TaskDir
	Driver   plugins.Driver

	// Config is the driver's task config, rebuilt by the Prestart hooks
	// before every attempt.
	Config *plugins.TaskConfig
	// Env is the task's environment, set by the env hook.
	Env *taskenv.Env
	// TaskID is the driver's ID of the running (or last run) attempt.
	TaskID string

	// Emit records a task event.
	Emit func(*structs.TaskEvent)
}

// DefaultHooks returns the hooks every task runs with, in order.
func DefaultHooks() []Hook {
	return []Hook{&taskDirHook{}, &envHook{}, &artifactHook{}, &logsHook{}, &driverHook{}}
}

// taskDirHook builds the task's directories once.
type taskDirHook struct {
	NoopHook
	built bool
}

func (*taskDirHook) Name() string { return "task_dir" }

func (h *taskDirHook) Prestart(_ context.Context, req *HookRequest) error {
	if !h.built {
		req.Emit(EventSetup("Building Task Directory"))
	}
	if err := req.AllocDir.Build(); err != nil {
		return fmt.Errorf("build alloc dir: %w", err)
	}
	if err := req.TaskDir.Build(); err != nil {
		return fmt.Errorf("build task dir: %w", err)
	}
	h.built = true
	req.Config.AllocDir = req.AllocDir.Dir
	req.Config.TaskDir = req.TaskDir.Dir
	return nil
}

// envHook builds the environment, and the resource fields that share its
// sources.
type envHook struct{ NoopHook }

func (*envHook) Name() string { return "env" }

func (*envHook) Prestart(_ context.Context, req *HookRequest) error {
	req.Env = taskenv.NewBuilder(req.Node, req.Alloc, req.Task).
		SetHostEnv(req.HostEnv).
		SetDirs(req.AllocDir.SharedDir, req.TaskDir.LocalDir, req.TaskDir.SecretsDir).
		Build()
	req.Config.Env = req.Env.Map()

	if r := req.Task.Resources; r != nil {
		req.Config.CPUMHz, req.Config.MemoryMB, req.Config.MemoryMaxMB = int64(r.CPU), int64(r.MemoryMB), int64(r.MemoryMaxMB)
	}
	if ar := req.Alloc.AllocatedResources; ar != nil {
		if tr := ar.Tasks[req.Task.Name]; tr != nil {
			req.Config.CPUMHz = tr.Cpu.CpuShares
			req.Config.MemoryMB = tr.Memory.MemoryMB
			req.Config.MemoryMaxMB = tr.Memory.MemoryMaxMB
			req.Config.Cores = tr.Cpu.ReservedCores
		}
	}
	return nil
}

// Nomad's log rotation defaults.
const (
	DefaultLogMaxFiles      = 10
	DefaultLogMaxFileSizeMB = 10
)

// logsHook points the task's output at <allocdir>/alloc/logs, where the
// HTTP layer serves `alloc logs` from. With logging disabled the paths stay
// empty and the driver discards output.
type logsHook struct{ NoopHook }

func (*logsHook) Name() string { return "logs" }

func (*logsHook) Prestart(_ context.Context, req *HookRequest) error {
	lc := req.Task.LogConfig
	if lc != nil && lc.Disabled {
		return nil
	}
	req.Config.StdoutPath = req.AllocDir.LogPath(req.Task.Name, "stdout")
	req.Config.StderrPath = req.AllocDir.LogPath(req.Task.Name, "stderr")
	req.Config.LogMaxFiles, req.Config.LogMaxFileSizeMB = DefaultLogMaxFiles, DefaultLogMaxFileSizeMB
	if lc != nil && lc.MaxFiles > 0 {
		req.Config.LogMaxFiles = lc.MaxFiles
	}
	if lc != nil && lc.MaxFileSizeMB > 0 {
		req.Config.LogMaxFileSizeMB = lc.MaxFileSizeMB
	}
	return nil
}

// driverHook owns the driver's side of a run: it renders the interpolated
// driver config before each start, and releases the driver's hold on each
// attempt once it exited.
type driverHook struct {
	NoopHook
	destroyed string // TaskID already destroyed
}

func (*driverHook) Name() string { return "driver" }

func (*driverHook) Prestart(_ context.Context, req *HookRequest) error {
	cfg := req.Env.ReplaceConfig(req.Task.Config)
	if cfg == nil {
		cfg = map[string]any{}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode driver config: %w", err)
	}
	req.Config.DriverConfig = b
	return nil
}

func (h *driverHook) Exited(_ context.Context, req *HookRequest, _ *plugins.ExitResult) error {
	return h.destroy(req, false)
}

func (h *driverHook) Stop(_ context.Context, req *HookRequest) error {
	return h.destroy(req, true)
}

func (h *driverHook) destroy(req *HookRequest, force bool) error {
	if req.TaskID == "" || req.TaskID == h.destroyed {
		return nil
	}
	err := req.Driver.DestroyTask(req.TaskID, force)
	if err != nil && !errors.Is(err, plugins.ErrTaskNotFound) {
		return fmt.Errorf("destroy task %s: %w", req.TaskID, err)
	}
	h.destroyed = req.TaskID
	return nil
}
