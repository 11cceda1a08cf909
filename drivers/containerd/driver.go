// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package containerd is the containerd task driver: it runs each task as
// a container of a containerd daemon, through containerd's Go client.
//
// containerd owns the containers: they, their shims and their loggers
// (see logger.go) live on while the agent or this plugin restarts, and
// RecoverTask finds them again by container ID. The driver keeps only a
// table of what it started and one exit watcher per task.
//
// Containers share the host's network namespace (no port mapping: a task
// binds the ports the scheduler gave it), see the allocation's alloc/,
// local/ and secrets/ at /alloc, /local and /secrets, get the scheduler's
// memory and CPU reservation as cgroup limits, and run under containerd's
// default seccomp profile unless privileged.
package containerd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/drivers/tasktable"
	"github.com/droverhq/drover/plugins"
)

// Name is the driver's name in job files.
const Name = "containerd"

// handleVersion is the TaskHandle.Version this driver writes and reads.
const handleVersion = 1

// handleState is TaskHandle.State: enough to find the container again.
type handleState struct {
	Namespace   string
	ContainerID string
	Image       string
	PID         uint32
	StartedAt   time.Time
}

// Timeouts of calls to containerd. Starting covers an image pull or
// import; the others are single RPCs or a bounded wait for an exit.
const (
	startTimeout = 10 * time.Minute
	rpcTimeout   = 30 * time.Second
	killTimeout  = 30 * time.Second
)

// Container labels, so an operator can tell Drover's containers apart
// with `ctr -n drover containers ls`.
const (
	labelTaskID  = "io.drover.task.id"
	labelAllocID = "io.drover.alloc.id"
	labelTask    = "io.drover.task.name"
)

// Driver is the containerd driver. One instance runs all its tasks.
type Driver struct {
	logger hclog.Logger
	// exe is the logging binary the shims run: this executable.
	exe string

	importMu sync.Mutex

	mu     sync.RWMutex
	config PluginConfig
	client *client.Client

	tasks *tasktable.Table[*task]
}

var _ plugins.Driver = (*Driver)(nil)

// New returns a containerd driver with the default config (enabled,
// default socket and namespace) until SetConfig says otherwise.
func New(logger hclog.Logger) *Driver {
	cfg, _ := parsePluginConfig(nil)
	exe, err := os.Executable()
	if err != nil {
		logger.Named(Name).Error("cannot find this executable, which serves as the containers' logger", "error", err)
	}
	return &Driver{logger: logger.Named(Name), exe: exe, config: cfg, tasks: tasktable.New[*task](Name)}
}

// Name returns "containerd".
func (d *Driver) Name() string { return Name }

// SetConfig applies the plugin config: {"enabled", "address",
// "namespace", "allow_privileged"}.
func (d *Driver) SetConfig(b []byte) error {
	c, err := parsePluginConfig(b)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.client != nil && c.Address != d.config.Address {
		d.client.Close()
		d.client = nil
	}
	d.config = c
	return nil
}

// getClient returns the client for the configured socket, connecting on
// first use. gRPC reconnects by itself after a daemon restart.
func (d *Driver) getClient() (*client.Client, PluginConfig, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.client == nil {
		c, err := client.New(d.config.Address, client.WithTimeout(5*time.Second))
		if err != nil {
			return nil, d.config, fmt.Errorf("containerd client for %s: %w", d.config.Address, err)
		}
		d.client = c
	}
	return d.client, d.config, nil
}

// Fingerprint reports the driver healthy when the daemon answers,
// undetected when it is disabled or its socket does not exist, and
// unhealthy with the error otherwise.
func (d *Driver) Fingerprint(ctx context.Context) (*plugins.Fingerprint, error) {
	d.mu.RLock()
	cfg := d.config
	d.mu.RUnlock()
	if !cfg.enabled() {
		return &plugins.Fingerprint{Health: plugins.HealthUndetected, HealthDescription: "disabled"}, nil
	}
	if _, err := os.Stat(cfg.Address); errors.Is(err, os.ErrNotExist) {
		return &plugins.Fingerprint{Health: plugins.HealthUndetected, HealthDescription: "no containerd socket at " + cfg.Address}, nil
	}
	c, _, err := d.getClient()
	if err != nil {
		return &plugins.Fingerprint{Health: plugins.HealthUnhealthy, HealthDescription: err.Error()}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := c.Version(ctx)
	if err != nil {
		return &plugins.Fingerprint{
			Health:            plugins.HealthUnhealthy,
			HealthDescription: fmt.Sprintf("containerd at %s does not answer: %v", cfg.Address, err),
		}, nil
	}
	return &plugins.Fingerprint{
		Health:            plugins.HealthHealthy,
		HealthDescription: "Healthy",
		Attributes: map[string]string{
			"driver.containerd":         "1",
			"driver.containerd.version": v.Version,
		},
	}, nil
}

// StartTask creates the task's container from its image and starts it.
// The image is imported or pulled first when containerd lacks it.
func (d *Driver) StartTask(cfg *plugins.TaskConfig) (*plugins.TaskHandle, error) {
	if cfg == nil || cfg.ID == "" {
		return nil, fmt.Errorf("start task: no task ID")
	}
	tc, err := parseTaskConfig(cfg.DriverConfig)
	if err != nil {
		return nil, err
	}
	d.mu.RLock()
	pc := d.config
	d.mu.RUnlock()
	if !pc.enabled() {
		return nil, fmt.Errorf("start task %q: the containerd driver is disabled on this node", cfg.ID)
	}
	if tc.Privileged && !pc.AllowPrivileged {
		return nil, fmt.Errorf("start task %q: privileged containers are not allowed on this node (plugin config allow_privileged)", cfg.ID)
	}
	if d.exe == "" {
		return nil, fmt.Errorf("start task %q: no logging binary: the plugin could not find its own executable", cfg.ID)
	}
	c, pc, err := d.getClient()
	if err != nil {
		return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
	}
	t, err := d.tasks.Start(cfg.ID, func() (*task, error) {
		t, err := d.start(c, pc.Namespace, cfg, tc)
		if err != nil {
			return nil, fmt.Errorf("start task %q: %w", cfg.ID, err)
		}
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	return tasktable.EncodeHandle(cfg, handleVersion, handleState{
		Namespace: t.namespace, ContainerID: t.containerID, Image: t.image, PID: t.pid, StartedAt: t.startedAt,
	})
}

func (d *Driver) start(c *client.Client, ns string, cfg *plugins.TaskConfig, tc TaskConfig) (_ *task, err error) {
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), ns), startTimeout)
	defer cancel()
	img, err := d.ensureImage(ctx, c, tc.Image)
	if err != nil {
		return nil, err
	}
	ociImage, err := img.Spec(ctx)
	if err != nil {
		return nil, fmt.Errorf("image %s config: %w", img.Name(), err)
	}
	id := containerID(cfg)
	cgroup := cgroupPath(ns, id)
	opts, err := specOpts(cfg, tc, img, ociImage.Config, cgroup)
	if err != nil {
		return nil, err
	}
	ctr, err := c.NewContainer(ctx, id,
		client.WithImage(img),
		client.WithNewSnapshot(id, img),
		client.WithNewSpec(opts...),
		client.WithContainerLabels(map[string]string{labelTaskID: cfg.ID, labelAllocID: cfg.AllocID, labelTask: cfg.Name}),
	)
	if err != nil {
		return nil, fmt.Errorf("create container %s: %w", id, err)
	}
	defer func() {
		if err != nil {
			cleanupCtx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), ns), rpcTimeout)
			defer cancel()
			if derr := ctr.Delete(cleanupCtx, client.WithSnapshotCleanup); derr != nil {
				d.logger.Warn("deleting the container of a failed start", "container", id, "error", derr)
			}
		}
	}()

	logs, err := loggerIO(d.exe, loggerSpec{
		StdoutPath: cfg.StdoutPath, StderrPath: cfg.StderrPath,
		MaxFiles: cfg.LogMaxFiles, MaxFileBytes: int64(cfg.LogMaxFileSizeMB) << 20,
	})
	if err != nil {
		return nil, err
	}
	ct, err := ctr.NewTask(ctx, logs)
	if err != nil {
		return nil, fmt.Errorf("create task of container %s: %w", id, err)
	}
	defer func() {
		if err != nil {
			cleanupCtx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), ns), rpcTimeout)
			defer cancel()
			if _, derr := ct.Delete(cleanupCtx, client.WithProcessKill); derr != nil {
				d.logger.Warn("deleting the task of a failed start", "container", id, "error", derr)
			}
		}
	}()
	// Wait before Start, so not even an instant exit goes unseen.
	watchCtx, stopWatch := context.WithCancel(namespaces.WithNamespace(context.Background(), ns))
	statusC, err := ct.Wait(watchCtx)
	if err != nil {
		stopWatch()
		return nil, fmt.Errorf("wait for task of container %s: %w", id, err)
	}
	// Taken before Start: a task that exits at once must not seem to have
	// finished before it started (the exit time comes from containerd).
	startedAt := time.Now()
	if err := ct.Start(ctx); err != nil {
		stopWatch()
		return nil, fmt.Errorf("start task of container %s: %w", id, err)
	}
	t := &task{
		cfg: cfg, namespace: ns, containerID: id, image: img.Name(), pid: ct.Pid(),
		startedAt: startedAt, stopWatch: stopWatch,
	}
	logger := d.logger.With("task_id", cfg.ID, "container", id)
	go t.watch(watchCtx, c, statusC, logger)
	logger.Info("task started", "image", t.image, "pid", t.pid)
	return t, nil
}

// WaitTask waits for the task's exit, as containerd reports it.
func (d *Driver) WaitTask(ctx context.Context, taskID string) (*plugins.ExitResult, error) {
	return d.tasks.Wait(ctx, taskID)
}

// StopTask sends signal (a name like "SIGINT"; empty means SIGTERM) to the
// container's main process and, if it has not exited after timeout, kills
// every process of the container. The escalation matters more than for a
// plain process: PID 1 of a container ignores SIGTERM unless it handles it.
func (d *Driver) StopTask(taskID string, timeout time.Duration, signal string) error {
	t, sig, err := d.tasks.Signaled("stop", taskID, signal)
	if err != nil {
		return err
	}
	if res, _ := t.Exit(); res != nil {
		return nil
	}
	c, _, err := d.getClient()
	if err != nil {
		return fmt.Errorf("stop task %q: %w", taskID, err)
	}
	if err := d.kill(c, t, sig, false); err != nil {
		return fmt.Errorf("stop task %q: %w", taskID, err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-t.Done():
		return nil
	case <-timer.C:
	}
	d.logger.Debug("task outlived its stop timeout; killing it", "task_id", taskID, "timeout", timeout)
	if err := d.killAndWait(c, t); err != nil {
		return fmt.Errorf("stop task %q: %w", taskID, err)
	}
	return nil
}

// kill signals the container's main process, or all its processes. A
// process already gone is not an error.
func (d *Driver) kill(c *client.Client, t *task, sig syscall.Signal, all bool) error {
	ctx, cancel := context.WithTimeout(t.ctx(context.Background()), rpcTimeout)
	defer cancel()
	ctr, err := c.LoadContainer(ctx, t.containerID)
	if err != nil {
		return ignoreNotFound(fmt.Errorf("load container %s: %w", t.containerID, err))
	}
	ct, err := ctr.Task(ctx, nil)
	if err != nil {
		return ignoreNotFound(fmt.Errorf("load task of container %s: %w", t.containerID, err))
	}
	var opts []client.KillOpts
	if all {
		opts = append(opts, client.WithKillAll)
	}
	if err := ct.Kill(ctx, sig, opts...); err != nil {
		return ignoreNotFound(fmt.Errorf("signal %d to container %s: %w", sig, t.containerID, err))
	}
	return nil
}

// killAndWait SIGKILLs all of the container's processes and waits, a
// bounded time, for the watcher to see the exit.
func (d *Driver) killAndWait(c *client.Client, t *task) error {
	if err := d.kill(c, t, syscall.SIGKILL, true); err != nil {
		return err
	}
	select {
	case <-t.Done():
		return nil
	case <-time.After(killTimeout):
		return fmt.Errorf("container %s did not exit %v after SIGKILL", t.containerID, killTimeout)
	}
}

// DestroyTask deletes the task's containerd task, container and
// snapshot. A running task is an error unless force, which kills it.
func (d *Driver) DestroyTask(taskID string, force bool) error {
	return d.tasks.Destroy(taskID, force, func(t *task, running bool) error {
		c, _, err := d.getClient()
		if err != nil {
			return err
		}
		if running {
			if err := d.killAndWait(c, t); err != nil {
				return err
			}
		}
		t.stopWatch()
		if err := deleteContainer(t.ctx(context.Background()), c, t.containerID); err != nil {
			return err
		}
		d.logger.Info("task destroyed", "task_id", taskID, "container", t.containerID)
		return nil
	})
}

// deleteContainer deletes a container's task (killing what is left of
// it), then the container and its snapshot. Parts already gone are fine.
func deleteContainer(ctx context.Context, c *client.Client, id string) error {
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	ctr, err := c.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load container %s: %w", id, err)
	}
	if ct, err := ctr.Task(ctx, nil); err == nil {
		if _, err := ct.Delete(ctx, client.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("delete task of container %s: %w", id, err)
		}
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("load task of container %s: %w", id, err)
	}
	if err := ctr.Delete(ctx, client.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete container %s: %w", id, err)
	}
	return nil
}

// InspectTask reports the task's state, with its container ID, image and
// main PID as attributes.
func (d *Driver) InspectTask(taskID string) (*plugins.TaskStatus, error) {
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return nil, err
	}
	return tasktable.Status(taskID, t.cfg, t, t.startedAt, map[string]string{
		"container_id": t.containerID,
		"namespace":    t.namespace,
		"image":        t.image,
		"pid":          strconv.FormatUint(uint64(t.pid), 10),
	}), nil
}

// RecoverTask re-adopts a task an earlier plugin instance started, by
// loading its container and task from containerd. A task that exited
// meanwhile is recovered too: WaitTask then reports its real exit. It
// fails if the container or its task is gone, so the client knows to
// restart the task; a container left without a task is deleted then.
// Recovering a task already known is a no-op.
func (d *Driver) RecoverTask(h *plugins.TaskHandle) error {
	var hs handleState
	id, err := tasktable.DecodeHandle(h, handleVersion, &hs)
	if err != nil {
		return err
	}
	if hs.ContainerID == "" || hs.Namespace == "" {
		return fmt.Errorf("recover task %q: handle state has no container", id)
	}
	return d.tasks.Recover(id, func() (*task, error) { return d.recover(h.Config, hs) })
}

// recover loads a task's container and containerd task, and watches it.
func (d *Driver) recover(cfg *plugins.TaskConfig, hs handleState) (*task, error) {
	id := cfg.ID
	c, _, err := d.getClient()
	if err != nil {
		return nil, fmt.Errorf("recover task %q: %w", id, err)
	}
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), hs.Namespace), rpcTimeout)
	defer cancel()
	ctr, err := c.LoadContainer(ctx, hs.ContainerID)
	if err != nil {
		return nil, fmt.Errorf("recover task %q: load container %s: %w", id, hs.ContainerID, err)
	}
	ct, err := ctr.Task(ctx, nil)
	if err != nil {
		if errdefs.IsNotFound(err) {
			if derr := deleteContainer(ctx, c, hs.ContainerID); derr != nil {
				d.logger.Warn("deleting a container without task", "container", hs.ContainerID, "error", derr)
			}
		}
		return nil, fmt.Errorf("recover task %q: load task of container %s: %w", id, hs.ContainerID, err)
	}
	watchCtx, stopWatch := context.WithCancel(namespaces.WithNamespace(context.Background(), hs.Namespace))
	statusC, err := ct.Wait(watchCtx)
	if err != nil {
		stopWatch()
		return nil, fmt.Errorf("recover task %q: wait for container %s: %w", id, hs.ContainerID, err)
	}
	t := &task{
		cfg: cfg, namespace: hs.Namespace, containerID: hs.ContainerID, image: hs.Image,
		pid: ct.Pid(), startedAt: hs.StartedAt, stopWatch: stopWatch,
	}
	logger := d.logger.With("task_id", id, "container", hs.ContainerID)
	go t.watch(watchCtx, c, statusC, logger)
	logger.Info("task recovered", "pid", t.pid)
	return t, nil
}

func ignoreNotFound(err error) error {
	if errdefs.IsNotFound(err) {
		return nil
	}
	return err
}

// containerIDUnsafe matches what containerd does not allow in IDs.
var containerIDUnsafe = regexp.MustCompile(`[^A-Za-z0-9]+`)

// containerID derives a container ID from the task ID, which has slashes
// and may be longer than containerd allows (76): the task's name for
// people, a hash of the whole ID for uniqueness.
func containerID(cfg *plugins.TaskConfig) string {
	sum := sha256.Sum256([]byte(cfg.ID))
	name := strings.Trim(containerIDUnsafe.ReplaceAllString(cfg.Name, "-"), "-")
	if len(name) > 40 {
		name = strings.Trim(name[:40], "-")
	}
	if name == "" {
		name = "task"
	}
	return name + "-" + hex.EncodeToString(sum[:12])
}
