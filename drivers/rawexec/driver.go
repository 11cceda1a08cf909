// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package rawexec is the raw_exec task driver: it runs a command as a plain
// process of the plugin, with no isolation, in the task directory. The
// shared supervisor (drivers/supervise) does the process work; this
// package adds configuration, command lookup and the task's cgroup.
//
// When the plugin runs as root on Linux, each task is born in a cgroup of
// its own (see package cgroups), as Nomad does: not to limit it (raw_exec
// enforces no CPU or memory limits, memory_max included), but so that its
// stats cover every process it started and stopping it kills all of
// them, daemons that left its process group included. Without root there
// is no cgroup: stats come from /proc and stop reaches the process group.
package rawexec

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/drivers/cgroups"
	"github.com/droverhq/drover/drivers/supervise"
	"github.com/droverhq/drover/drivers/tasktable"
	"github.com/droverhq/drover/plugins"
)

// Name is the driver's name in job files.
const Name = "raw_exec"

// handleVersion is the TaskHandle.Version this driver writes and reads.
const handleVersion = 1

// handleState is TaskHandle.State: enough to find the process again.
// Cgroup is absent for a task that runs without one.
type handleState struct {
	PID       int
	StartTime uint64 // guards against PID reuse
	StartedAt time.Time
	Cgroup    *cgroups.Group `json:",omitempty"`
}

// Driver is the raw_exec driver. One instance supervises all its tasks.
type Driver struct {
	logger hclog.Logger
	// geteuid is os.Geteuid; tests replace it to take the unprivileged
	// path as root.
	geteuid func() int

	mu     sync.RWMutex
	config PluginConfig

	tasks *tasktable.Table[*task]
}

// task is one supervised raw_exec task.
type task struct {
	cfg  *plugins.TaskConfig
	proc *supervise.Process
	// group is the task's cgroup, or nil when it runs without one.
	group  *cgroups.Group
	logger hclog.Logger
}

func (t *task) Done() <-chan struct{}                  { return t.proc.Done() }
func (t *task) Exit() (*plugins.ExitResult, time.Time) { return t.proc.Exit() }

var _ plugins.Driver = (*Driver)(nil)

// New returns a raw_exec driver, disabled until SetConfig enables it.
func New(logger hclog.Logger) *Driver {
	return &Driver{logger: logger.Named(Name), geteuid: os.Geteuid, tasks: tasktable.New[*task](Name)}
}

// Name returns "raw_exec".
func (d *Driver) Name() string { return Name }

// SetConfig applies the plugin config, {"enabled": bool}. The first call
// in a plugin process also sweeps stale task cgroups (sweep.go).
func (d *Driver) SetConfig(b []byte) error {
	c, err := parsePluginConfig(b)
	if err != nil {
		return err
	}
	d.sweepStaleCgroupsOnce()
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
// environment (nothing of the agent's leaks in), inside its own cgroup
// when the plugin can make one.
func (d *Driver) StartTask(cfg *plugins.TaskConfig) (*plugins.TaskHandle, error) {
	if cfg == nil || cfg.ID == "" {
		return nil, fmt.Errorf("start task: no task ID")
	}
	tc, err := parseTaskConfig(cfg.DriverConfig)
	if err != nil {
		return nil, err
	}
	d.mu.RLock()
	enabled := d.config.Enabled
	d.mu.RUnlock()
	if !enabled {
		return nil, fmt.Errorf("start task %q: raw_exec is disabled on this node", cfg.ID)
	}
	path, err := resolveCommand(tc.Command, cfg.TaskDir, cfg.Env["PATH"])
	if err != nil {
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	t, err := d.tasks.Start(cfg.ID, func() (*task, error) { return d.start(cfg, path, tc.Args) })
	if err != nil {
		return nil, err
	}
	st := t.proc.State()
	return tasktable.EncodeHandle(cfg, handleVersion,
		handleState{PID: st.PID, StartTime: st.StartTime, StartedAt: t.proc.StartedAt(), Cgroup: t.group})
}

func (d *Driver) start(cfg *plugins.TaskConfig, path string, args []string) (*task, error) {
	logger := d.logger.With("task_id", cfg.ID)
	cmd, err := supervise.Spec{Path: path, Args: args, Env: envList(cfg.Env), Dir: cfg.TaskDir, User: cfg.User}.Command()
	if err != nil {
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	group, err := d.newCgroup(cfg.ID, cfg.Cores, logger)
	if err != nil {
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	var hooks supervise.Hooks
	if group != nil {
		hooks.Start = group.StartCommand
	}
	proc, err := supervise.StartCommand(cmd, logSpec(cfg), logger, hooks)
	if err != nil {
		if group != nil {
			group.Remove()
		}
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	logger.Info("task started", "command", path, "pid", proc.State().PID, "cgroup", cgroupDirs(group))
	return &task{cfg: cfg, proc: proc, group: group, logger: logger}, nil
}

// WaitTask waits for the task's exit. A recovered task's exit code cannot
// be known (it is no longer our child): it is reported as 0.
func (d *Driver) WaitTask(ctx context.Context, taskID string) (*plugins.ExitResult, error) {
	return d.tasks.Wait(ctx, taskID)
}

// StopTask sends signal (a name like "SIGINT"; empty means SIGTERM) to the
// task's process group, and SIGKILLs the group after timeout; then it
// kills whatever is left in the task's cgroup, such as a daemon that
// left the group.
func (d *Driver) StopTask(taskID string, timeout time.Duration, signal string) error {
	t, sig, err := d.tasks.Signaled("stop", taskID, signal)
	if err != nil {
		return err
	}
	if err := t.proc.Stop(sig, timeout); err != nil {
		return fmt.Errorf("stop task %q: %w", taskID, err)
	}
	if t.group != nil {
		if err := t.group.KillAll(cleanupTimeout); err != nil {
			return fmt.Errorf("stop task %q: %w", taskID, err)
		}
	}
	return nil
}

// DestroyTask forgets the task and removes its cgroup. A running task is
// an error unless force, which kills it. Either way, whatever the task
// left running in its process group or cgroup is killed.
func (d *Driver) DestroyTask(taskID string, force bool) error {
	return d.tasks.Destroy(taskID, force, func(t *task, _ bool) error {
		if err := t.proc.Kill(); err != nil {
			return err
		}
		if t.group != nil {
			if err := t.group.KillAll(cleanupTimeout); err != nil {
				return err
			}
			if err := t.group.Remove(); err != nil {
				return err
			}
		}
		t.proc.Close()
		return nil
	})
}

// InspectTask reports the task's state, with its PID and cgroup
// directories as attributes.
func (d *Driver) InspectTask(taskID string) (*plugins.TaskStatus, error) {
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{"pid": strconv.Itoa(t.proc.State().PID)}
	for c, dir := range cgroupDirs(t.group) {
		attrs["cgroup."+c] = dir
	}
	return tasktable.Status(taskID, t.cfg, t, t.proc.StartedAt(), attrs), nil
}

// RecoverTask re-adopts a task a previous plugin instance started, and
// its cgroup. It fails if the process is gone, so the client knows to
// restart the task. Recovering a task already known is a no-op.
func (d *Driver) RecoverTask(h *plugins.TaskHandle) error {
	var hs handleState
	id, err := tasktable.DecodeHandle(h, handleVersion, &hs)
	if err != nil {
		return err
	}
	return d.tasks.Recover(id, func() (*task, error) {
		logger := d.logger.With("task_id", id)
		proc, err := supervise.Recover(supervise.State{PID: hs.PID, StartTime: hs.StartTime},
			logSpec(h.Config), hs.StartedAt, logger)
		if err != nil {
			removeLostCgroup(hs.Cgroup, logger)
			return nil, fmt.Errorf("recover task %q: %w", id, err)
		}
		group := hs.Cgroup
		if group != nil {
			if _, err := group.Procs(); err != nil {
				logger.Warn("the task's cgroup is gone; going on without it", "cgroup", group.Dirs, "error", err)
				group = nil
			}
		}
		logger.Info("task recovered", "pid", hs.PID, "cgroup", cgroupDirs(group))
		return &task{cfg: h.Config, proc: proc, group: group, logger: logger}, nil
	})
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
