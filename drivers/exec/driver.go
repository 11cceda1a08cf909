// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

// Package exec is the exec task driver: like raw_exec it runs a command,
// but isolated, as Nomad's exec driver does. Each task gets new mount, UTS,
// PID and IPC namespaces (PID and IPC may be shared with the host through
// pid_mode/ipc_mode), a root built from its task directory with the host's
// system directories bound in read-only (chroot_env), a cgroup that
// enforces its CPU share and memory limit (v1 or v2, see package cgroups),
// the user nobody unless the task names another, and a bounded set of
// capabilities.
//
// The in-namespace setup is done by package execinit, the plugin binary
// re-executed as the task's first process; see its documentation for the
// hand-off. Supervision (logs, wait, stop, re-adoption) is drivers/supervise.
package exec

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/drivers/cgroups"
	"github.com/droverhq/drover/drivers/exec/execinit"
	"github.com/droverhq/drover/drivers/supervise"
	"github.com/droverhq/drover/drivers/tasktable"
	"github.com/droverhq/drover/plugins"
)

// handleVersion is the TaskHandle.Version this driver writes and reads.
const handleVersion = 1

// initTimeout bounds the task's setup, from the init's start to its exec.
const initTimeout = 30 * time.Second

// cleanupTimeout bounds killing what is left in a task's cgroup.
const cleanupTimeout = 10 * time.Second

// defaultUser runs tasks that name no user.
const defaultUser = "nobody"

// handleState is TaskHandle.State: enough to find the task again.
type handleState struct {
	PID       int
	StartTime uint64 // guards against PID reuse
	StartedAt time.Time
	Cgroup    *cgroups.Group
}

// Driver is the exec driver. One instance supervises all its tasks.
type Driver struct {
	logger hclog.Logger

	mu       sync.RWMutex
	settings settings

	tasks *tasktable.Table[*task]
}

var _ plugins.Driver = (*Driver)(nil)

// New returns an exec driver with Nomad's default plugin config.
func New(logger hclog.Logger) *Driver {
	s, err := parsePluginConfig(nil)
	if err != nil {
		panic(err) // the defaults are constants
	}
	return &Driver{logger: logger.Named(Name), settings: s, tasks: tasktable.New[*task](Name)}
}

// Name returns "exec".
func (d *Driver) Name() string { return Name }

// SetConfig applies the plugin config (see PluginConfig).
func (d *Driver) SetConfig(b []byte) error {
	s, err := parsePluginConfig(b)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.settings = s
	return nil
}

// Fingerprint reports the driver healthy, with driver.exec=1, when the
// plugin runs as root and the cpu and memory cgroup controllers are
// available; undetected when not root (as Nomad), unhealthy when cgroups
// are missing.
func (d *Driver) Fingerprint(context.Context) (*plugins.Fingerprint, error) {
	if os.Geteuid() != 0 {
		return &plugins.Fingerprint{Health: plugins.HealthUndetected, HealthDescription: "exec driver requires root"}, nil
	}
	h, err := cgroups.Detect()
	if err == nil {
		err = h.Check()
	}
	if err != nil {
		return &plugins.Fingerprint{Health: plugins.HealthUnhealthy, HealthDescription: "exec driver requires cgroups: " + err.Error()}, nil
	}
	return &plugins.Fingerprint{
		Health:            plugins.HealthHealthy,
		HealthDescription: "Healthy",
		Attributes:        map[string]string{"driver.exec": "1", "driver.exec.cgroup_version": strconv.Itoa(h.Version)},
	}, nil
}

// StartTask builds the task's cgroup, starts its init in new namespaces,
// places it in the cgroup, and returns once the task's command runs (or
// with the reason it could not start).
func (d *Driver) StartTask(cfg *plugins.TaskConfig) (*plugins.TaskHandle, error) {
	if cfg == nil || cfg.ID == "" {
		return nil, fmt.Errorf("start task: no task ID")
	}
	d.mu.RLock()
	s := d.settings
	d.mu.RUnlock()
	ts, err := parseTaskConfig(cfg.DriverConfig, s)
	if err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("start task %q: exec driver requires root", cfg.ID)
	}
	if cfg.TaskDir == "" {
		return nil, fmt.Errorf("start task %q: no task directory", cfg.ID)
	}
	spec, err := buildSpec(cfg, ts, s)
	if err != nil {
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	hier, err := cgroups.Detect()
	if err == nil {
		err = hier.Check()
	}
	if err != nil {
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}

	t, err := d.tasks.Start(cfg.ID, func() (*task, error) { return d.start(cfg, ts, spec, hier) })
	if err != nil {
		return nil, err
	}
	st := t.proc.State()
	return tasktable.EncodeHandle(cfg, handleVersion,
		handleState{PID: st.PID, StartTime: st.StartTime, StartedAt: t.proc.StartedAt(), Cgroup: t.group})
}

// start makes the task's cgroup and starts its init in it.
func (d *Driver) start(cfg *plugins.TaskConfig, ts taskSettings, spec *execinit.Spec, hier *cgroups.Hierarchy) (*task, error) {
	group, err := hier.GroupWithCores(cfg.ID, cfg.Cores)
	if err != nil {
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	if err := group.Create(resources(cfg)); err != nil {
		group.Remove()
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	initCmd, err := execinit.Command(execinit.Namespaces{PID: ts.privatePID, IPC: ts.privateIPC})
	if err != nil {
		group.Remove()
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	logger := d.logger.With("task_id", cfg.ID)
	proc, err := supervise.StartCommand(initCmd.Cmd, logSpec(cfg), logger, supervise.Hooks{Started: func(pid int) error {
		initCmd.CloseChildEnds()
		if err := group.AddProc(pid); err != nil {
			return err
		}
		return initCmd.Release(spec, initTimeout)
	}})
	initCmd.Close()
	if err != nil {
		group.KillAll(cleanupTimeout)
		group.Remove()
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	logger.Info("task started", "command", ts.Command, "pid", proc.State().PID, "user", spec.UID,
		"pid_mode", mode(ts.privatePID), "ipc_mode", mode(ts.privateIPC), "caps", joinCaps(ts.caps), "cgroup", group.Dirs)
	return newTask(cfg, proc, group, logger), nil
}

// WaitTask waits for the task's exit. A recovered task's exit code cannot
// be known (it is no longer our child): it is reported as 0, though an OOM
// kill is still reported.
func (d *Driver) WaitTask(ctx context.Context, taskID string) (*plugins.ExitResult, error) {
	return d.tasks.Wait(ctx, taskID)
}

// StopTask sends signal (a name like "SIGINT"; empty means SIGTERM) to the
// task's process group, SIGKILLs it after timeout, then kills whatever is
// left in the task's cgroup.
func (d *Driver) StopTask(taskID string, timeout time.Duration, signal string) error {
	t, sig, err := d.tasks.Signaled("stop", taskID, signal)
	if err != nil {
		return err
	}
	if err := t.proc.Stop(sig, timeout); err != nil {
		return fmt.Errorf("stop task %q: %w", taskID, err)
	}
	if err := t.group.KillAll(cleanupTimeout); err != nil {
		return fmt.Errorf("stop task %q: %w", taskID, err)
	}
	return nil
}

// DestroyTask forgets the task and removes its cgroup. A running task is
// an error unless force, which kills it.
func (d *Driver) DestroyTask(taskID string, force bool) error {
	return d.tasks.Destroy(taskID, force, func(t *task, _ bool) error {
		if err := t.proc.Kill(); err != nil {
			return err
		}
		<-t.Done() // the OOM check must read the cgroup before it goes
		if err := t.group.KillAll(cleanupTimeout); err != nil {
			return err
		}
		if err := t.group.Remove(); err != nil {
			return err
		}
		t.proc.Close()
		return nil
	})
}

// InspectTask reports the task's state, with its PID and cgroup as
// attributes.
func (d *Driver) InspectTask(taskID string) (*plugins.TaskStatus, error) {
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{"pid": strconv.Itoa(t.proc.State().PID)}
	for _, c := range slices.Sorted(maps.Keys(t.group.Dirs)) {
		attrs["cgroup."+c] = t.group.Dirs[c]
	}
	return tasktable.Status(taskID, t.cfg, t, t.proc.StartedAt(), attrs), nil
}

// RecoverTask re-adopts a task a previous plugin instance started. It
// fails if the process is gone, so the client knows to restart the task.
// Recovering a task already known is a no-op.
func (d *Driver) RecoverTask(h *plugins.TaskHandle) error {
	var hs handleState
	id, err := tasktable.DecodeHandle(h, handleVersion, &hs)
	if err != nil {
		return err
	}
	if hs.Cgroup == nil || len(hs.Cgroup.Dirs) == 0 {
		return fmt.Errorf("recover task %q: handle has no cgroup", id)
	}
	return d.tasks.Recover(id, func() (*task, error) {
		logger := d.logger.With("task_id", id)
		proc, err := supervise.Recover(supervise.State{PID: hs.PID, StartTime: hs.StartTime},
			logSpec(h.Config), hs.StartedAt, logger)
		if err != nil {
			return nil, fmt.Errorf("recover task %q: %w", id, err)
		}
		logger.Info("task recovered", "pid", hs.PID)
		return newTask(h.Config, proc, hs.Cgroup, logger), nil
	})
}

// buildSpec turns the task into what its init needs: the mounts, the
// command and environment as seen from inside the root, and the user.
func buildSpec(cfg *plugins.TaskConfig, ts taskSettings, s settings) (*execinit.Spec, error) {
	root, err := prepareTaskDir(cfg.TaskDir)
	if err != nil {
		return nil, err
	}
	spec := &execinit.Spec{
		Root:        root,
		HostIPC:     !ts.privateIPC,
		NoPivotRoot: s.noPivotRoot,
		Command:     ts.Command,
		Args:        ts.Args,
		Env:         taskEnv(cfg.Env),
		Dir:         "/",
		Caps:        ts.caps,
	}
	for _, src := range sortedChroot(s.chrootEnv) {
		if _, err := os.Stat(src); err != nil {
			continue // as Nomad: a host without /lib32 still runs tasks
		}
		spec.Mounts = append(spec.Mounts, execinit.Mount{Source: src, Target: s.chrootEnv[src], ReadOnly: true})
	}
	if cfg.AllocDir != "" {
		shared := filepath.Join(cfg.AllocDir, "alloc")
		if err := os.MkdirAll(shared, 0o777); err != nil {
			return nil, fmt.Errorf("alloc dir: %w", err)
		}
		spec.Mounts = append(spec.Mounts, execinit.Mount{Source: shared, Target: "/alloc"})
	}
	name := cfg.User
	if name == "" {
		name = defaultUser
	}
	if spec.UID, spec.GID, spec.Groups, err = lookupUser(name); err != nil {
		return nil, err
	}
	return spec, nil
}

// prepareTaskDir makes sure the task directory, which becomes the task's
// "/", and its local/, secrets/ and tmp/ exist, and that any user can
// traverse the root.
func prepareTaskDir(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("task dir: %w", err)
	}
	for _, sub := range []string{"local", "secrets", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return "", fmt.Errorf("task dir: %w", err)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("task dir: %w", err)
	}
	if fi.Mode().Perm()&0o055 != 0o055 {
		if err := os.Chmod(dir, fi.Mode().Perm()|0o755); err != nil {
			return "", fmt.Errorf("task dir: %w", err)
		}
	}
	return dir, nil
}

// taskEnv is the task's environment as a sorted "K=V" list, with the
// NOMAD_*_DIR variables pointing where the directories are inside the
// task's root, as Nomad's exec driver sets them.
func taskEnv(env map[string]string) []string {
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	env["NOMAD_ALLOC_DIR"] = "/alloc"
	env["NOMAD_TASK_DIR"] = "/local"
	env["NOMAD_SECRETS_DIR"] = "/secrets"
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// lookupUser resolves a user name (or numeric ID) on the host.
func lookupUser(name string) (uid, gid uint32, groups []uint32, err error) {
	u, err := user.Lookup(name)
	if err != nil {
		if _, numErr := strconv.ParseUint(name, 10, 32); numErr == nil {
			u, err = user.LookupId(name)
		}
	}
	if err != nil {
		return 0, 0, nil, fmt.Errorf("look up user %q: %w", name, err)
	}
	id, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("user %q: uid %q: %w", name, u.Uid, err)
	}
	g, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("user %q: gid %q: %w", name, u.Gid, err)
	}
	gids, _ := u.GroupIds()
	for _, s := range gids {
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			groups = append(groups, uint32(n))
		}
	}
	if len(groups) == 0 {
		groups = []uint32{uint32(g)}
	}
	return uint32(id), uint32(g), groups, nil
}

func resources(cfg *plugins.TaskConfig) cgroups.Resources {
	return cgroups.Resources{
		CPUShares:      uint64(max(cfg.CPUMHz, 0)),
		MemoryBytes:    max(cfg.MemoryMB, 0) << 20,
		MemoryMaxBytes: max(cfg.MemoryMaxMB, 0) << 20,
		Cores:          cfg.Cores,
	}
}

func logSpec(cfg *plugins.TaskConfig) supervise.LogSpec {
	return supervise.LogSpec{
		StdoutPath:   cfg.StdoutPath,
		StderrPath:   cfg.StderrPath,
		MaxFiles:     cfg.LogMaxFiles,
		MaxFileBytes: int64(cfg.LogMaxFileSizeMB) << 20,
	}
}

func mode(private bool) string {
	if private {
		return modePrivate
	}
	return modeHost
}

// joinCaps is for log lines.
func joinCaps(caps []uint) string {
	s := capSet{}
	for _, c := range caps {
		s[c] = true
	}
	return strings.Join(s.names(), ",")
}
