// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package rawexec is the raw_exec task driver: it runs a command as a plain
// process of the plugin, with no isolation, in the task directory. The
// shared supervisor (drivers/supervise) does the process work; this
// package adds configuration, command lookup and the task table.
package rawexec

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/droverhq/drover/drivers/supervise"
	"github.com/droverhq/drover/plugins"
)

// Name is the driver's name in job files.
const Name = "raw_exec"

// handleVersion is the TaskHandle.Version this driver writes and reads.
const handleVersion = 1

// handleState is TaskHandle.State: enough to find the process again.
type handleState struct {
	PID       int
	StartTime uint64 // guards against PID reuse
	StartedAt time.Time
}

// Driver is the raw_exec driver. One instance supervises all its tasks.
type Driver struct {
	logger hclog.Logger

	mu     sync.RWMutex
	config PluginConfig
	tasks  map[string]*task
}

type task struct {
	cfg  *plugins.TaskConfig
	proc *supervise.Process
}

var _ plugins.Driver = (*Driver)(nil)

// New returns a raw_exec driver, disabled until SetConfig enables it.
func New(logger hclog.Logger) *Driver {
	return &Driver{logger: logger.Named(Name), tasks: map[string]*task{}}
}

// Name returns "raw_exec".
func (d *Driver) Name() string { return Name }

// SetConfig applies the plugin config, {"enabled": bool}.
func (d *Driver) SetConfig(b []byte) error {
	c, err := parsePluginConfig(b)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.config = c
	return nil
}

// Fingerprint reports the driver healthy with attribute driver.raw_exec=1
// when enabled, and undetected otherwise, so disabled nodes do not
// advertise it.
func (d *Driver) Fingerprint(context.Context) (*plugins.Fingerprint, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if !d.config.Enabled {
		return &plugins.Fingerprint{
			Health:            plugins.HealthUndetected,
			HealthDescription: "disabled",
		}, nil
	}
	return &plugins.Fingerprint{
		Health:            plugins.HealthHealthy,
		HealthDescription: "Healthy",
		Attributes:        map[string]string{"driver.raw_exec": "1"},
	}, nil
}

// StartTask starts the task's command in TaskDir with exactly the task's
// environment: nothing of the agent's leaks in.
func (d *Driver) StartTask(cfg *plugins.TaskConfig) (*plugins.TaskHandle, error) {
	if cfg == nil || cfg.ID == "" {
		return nil, fmt.Errorf("start task: no task ID")
	}
	tc, err := parseTaskConfig(cfg.DriverConfig)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.config.Enabled {
		return nil, fmt.Errorf("start task %q: raw_exec is disabled on this node", cfg.ID)
	}
	if _, ok := d.tasks[cfg.ID]; ok {
		return nil, fmt.Errorf("start task %q: already running", cfg.ID)
	}
	path, err := resolveCommand(tc.Command, cfg.TaskDir, cfg.Env["PATH"])
	if err != nil {
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	proc, err := supervise.Start(supervise.Spec{
		Path: path,
		Args: tc.Args,
		Env:  envList(cfg.Env),
		Dir:  cfg.TaskDir,
		User: cfg.User,
		Logs: logSpec(cfg),
	}, d.logger.With("task_id", cfg.ID))
	if err != nil {
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	st := proc.State()
	state, err := json.Marshal(handleState{PID: st.PID, StartTime: st.StartTime, StartedAt: proc.StartedAt()})
	if err != nil {
		proc.Kill()
		proc.Close()
		return nil, fmt.Errorf("start task %q: encode handle: %w", cfg.ID, err)
	}
	d.tasks[cfg.ID] = &task{cfg: cfg, proc: proc}
	d.logger.Info("task started", "task_id", cfg.ID, "command", path, "pid", st.PID)
	return &plugins.TaskHandle{Version: handleVersion, Config: cfg, State: state}, nil
}

// WaitTask waits for the task's exit. A recovered task's exit code cannot
// be known (it is no longer our child): it is reported as 0.
func (d *Driver) WaitTask(ctx context.Context, taskID string) (*plugins.ExitResult, error) {
	t, err := d.task(taskID)
	if err != nil {
		return nil, err
	}
	return t.proc.Wait(ctx)
}

// StopTask sends signal (a name like "SIGINT"; empty means SIGTERM) to the
// task's process group, and SIGKILLs the group after timeout.
func (d *Driver) StopTask(taskID string, timeout time.Duration, signal string) error {
	sig, err := parseSignal(signal)
	if err != nil {
		return fmt.Errorf("stop task %q: %w", taskID, err)
	}
	t, err := d.task(taskID)
	if err != nil {
		return err
	}
	if err := t.proc.Stop(sig, timeout); err != nil {
		return fmt.Errorf("stop task %q: %w", taskID, err)
	}
	return nil
}

// DestroyTask forgets the task. A running task is an error unless force,
// which kills it. Either way, whatever the task left running in its
// process group is killed.
func (d *Driver) DestroyTask(taskID string, force bool) error {
	t, err := d.task(taskID)
	if err != nil {
		return err
	}
	if res, _ := t.proc.Exit(); res == nil && !force {
		return fmt.Errorf("destroy task %q: still running", taskID)
	}
	if err := t.proc.Kill(); err != nil {
		return fmt.Errorf("destroy task %q: %w", taskID, err)
	}
	t.proc.Close()
	d.mu.Lock()
	delete(d.tasks, taskID)
	d.mu.Unlock()
	return nil
}

// InspectTask reports the task's state, with its PID as an attribute.
func (d *Driver) InspectTask(taskID string) (*plugins.TaskStatus, error) {
	t, err := d.task(taskID)
	if err != nil {
		return nil, err
	}
	st := &plugins.TaskStatus{
		ID:               taskID,
		Name:             t.cfg.Name,
		State:            plugins.TaskStateRunning,
		StartedAt:        t.proc.StartedAt(),
		DriverAttributes: map[string]string{"pid": strconv.Itoa(t.proc.State().PID)},
	}
	if res, at := t.proc.Exit(); res != nil {
		st.State, st.CompletedAt, st.ExitResult = plugins.TaskStateExited, at, res
	}
	return st, nil
}

// RecoverTask re-adopts a task a previous plugin instance started. It
// fails if the process is gone, so the client knows to restart the task.
// Recovering a task already known is a no-op.
func (d *Driver) RecoverTask(h *plugins.TaskHandle) error {
	if h == nil || h.Config == nil {
		return fmt.Errorf("recover task: handle has no task config")
	}
	id := h.Config.ID
	if h.Version != handleVersion {
		return fmt.Errorf("recover task %q: handle version %d, want %d", id, h.Version, handleVersion)
	}
	var hs handleState
	if err := json.Unmarshal(h.State, &hs); err != nil {
		return fmt.Errorf("recover task %q: decode handle state: %w", id, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.tasks[id]; ok {
		return nil
	}
	proc, err := supervise.Recover(supervise.State{PID: hs.PID, StartTime: hs.StartTime},
		logSpec(h.Config), hs.StartedAt, d.logger.With("task_id", id))
	if err != nil {
		return fmt.Errorf("recover task %q: %w", id, err)
	}
	d.tasks[id] = &task{cfg: h.Config, proc: proc}
	d.logger.Info("task recovered", "task_id", id, "pid", hs.PID)
	return nil
}

func (d *Driver) task(id string) (*task, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	t, ok := d.tasks[id]
	if !ok {
		return nil, fmt.Errorf("raw_exec task %q: %w", id, plugins.ErrTaskNotFound)
	}
	return t, nil
}

func logSpec(cfg *plugins.TaskConfig) supervise.LogSpec {
	return supervise.LogSpec{
		StdoutPath:   cfg.StdoutPath,
		StderrPath:   cfg.StderrPath,
		MaxFiles:     cfg.LogMaxFiles,
		MaxFileBytes: int64(cfg.LogMaxFileSizeMB) << 20,
	}
}

// envList turns the task's environment into a sorted "K=V" list, so the
// process sees it in a stable order.
func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// defaultPath is searched when the task's environment sets no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// resolveCommand finds the executable for command: an absolute path as
// is; otherwise the task's local/ directory first, then a path relative to
// the task directory (for "local/run.sh"), then each directory of the
// task's PATH.
func resolveCommand(command, taskDir, pathEnv string) (string, error) {
	if filepath.IsAbs(command) {
		if err := checkExecutable(command); err != nil {
			return "", err
		}
		return command, nil
	}
	var candidates []string
	if taskDir != "" {
		candidates = append(candidates, filepath.Join(taskDir, "local", command))
		if strings.Contains(command, "/") {
			candidates = append(candidates, filepath.Join(taskDir, command))
		}
	}
	if !strings.Contains(command, "/") {
		if pathEnv == "" {
			pathEnv = defaultPath
		}
		for _, dir := range filepath.SplitList(pathEnv) {
			if dir != "" && filepath.IsAbs(dir) {
				candidates = append(candidates, filepath.Join(dir, command))
			}
		}
	}
	for _, c := range candidates {
		if checkExecutable(c) == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("command %q not found in the task's local/ directory or PATH", command)
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("command %s: %w", path, err)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("command %s: not an executable file", path)
	}
	return nil
}

// parseSignal maps a signal name ("SIGINT", or "INT") to the signal; empty
// means SIGTERM.
func parseSignal(name string) (syscall.Signal, error) {
	if name == "" {
		return syscall.SIGTERM, nil
	}
	upper := strings.ToUpper(name)
	if !strings.HasPrefix(upper, "SIG") {
		upper = "SIG" + upper
	}
	sig := unix.SignalNum(upper)
	if sig == 0 {
		return 0, fmt.Errorf("unknown signal %q", name)
	}
	return sig, nil
}
