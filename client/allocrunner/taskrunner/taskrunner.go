// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package taskrunner runs one task of an allocation through its life:
// prestart hooks, start by the driver, wait, restart per policy, kill. It
// records Nomad's task events and state (pending, running, dead) and tells
// its owner, the alloc runner, whenever they change.
package taskrunner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/client/allocdir"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// DefaultKillTimeout is Nomad's grace period between the kill signal and a
// force kill when the task does not set kill_timeout.
const DefaultKillTimeout = 5 * time.Second

// hookTimeout bounds the Stop and Exited hooks, which run after the task's
// context may already be cancelled.
const hookTimeout = 30 * time.Second

// handleSyncTimeout bounds the wait for a new task handle to be on disk.
// The handle is what lets a restarted agent find the task again, so the
// runner waits for it before reporting the task started; but a slow disk
// must not hold the task up for long.
const handleSyncTimeout = 5 * time.Second

// maxEvents is how many recent events a task keeps, as in Nomad: the state
// is sent to the servers and saved locally on every change.
const maxEvents = 10

// Store persists a task's state and its driver handle, so that a restarted
// agent can recover the task (client/state.DB implements it). Put calls
// must not block on disk; Sync waits until what was put is durable.
type Store interface {
	PutTaskState(allocID, task string, st *structs.TaskState)
	PutTaskHandle(allocID, task string, h *plugins.TaskHandle)
	Sync(ctx context.Context) error
}

// Restore is what an earlier agent saved of a task. A runner built with
// it does not start the task again: it recovers the running attempt from
// Handle through the driver and waits for it.
type Restore struct {
	State *structs.TaskState
	// Handle is the running attempt's driver handle; nil when no attempt
	// was running (the task was pending or dead).
	Handle *plugins.TaskHandle
}

// Config is what a task runner needs.
type Config struct {
	Alloc    *structs.Allocation
	Task     *structs.Task
	AllocDir *allocdir.AllocDir
	Node     *structs.Node
	// Driver runs the task; nil means the node has no such driver, which
	// fails the task with a "Driver Failure" event.
	Driver plugins.Driver
	// HostEnv is the agent environment passed to the task.
	HostEnv map[string]string
	// OnStateChange is called, without locks held, after every change of
	// the task's state or events.
	OnStateChange func()
	// Hooks overrides DefaultHooks.
	Hooks []Hook
	// Store persists the state and handle; nil keeps nothing.
	Store Store
	// Restore, if set, picks up a task an earlier agent ran.
	Restore *Restore
	Logger  hclog.Logger
}

// TaskRunner runs one task.
type TaskRunner struct {
	cfg      Config
	logger   hclog.Logger
	hooks    []Hook
	req      *HookRequest
	restarts *restartTracker

	killCtx    context.Context
	killCancel context.CancelFunc
	// detachCtx ends when the runner lets go of the task without stopping
	// it (Detach).
	detachCtx    context.Context
	detachCancel context.CancelFunc
	waitCh       chan struct{}

	mu     sync.Mutex
	state  *structs.TaskState
	taskID string // running attempt, "" when none
	killed bool
	// restartRequested is set by Restart (restart.go) for the Run loop.
	restartRequested bool

	// skipDelayCh is closed by SkipShutdownDelay (shutdown.go).
	skipDelayCh   chan struct{}
	skipDelayOnce sync.Once
}

// New prepares a runner and records the "Received" event; Run starts it.
func New(cfg Config) *TaskRunner {
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	logger = logger.Named("task_runner").With("task", cfg.Task.Name)
	hooks := cfg.Hooks
	if hooks == nil {
		hooks = append(DefaultHooks(), &payloadHook{})
	}
	jobType := ""
	var tg *structs.TaskGroup
	if cfg.Alloc.Job != nil {
		jobType = cfg.Alloc.Job.Type
		tg = cfg.Alloc.Job.LookupTaskGroup(cfg.Alloc.TaskGroup)
	}
	ctx, cancel := context.WithCancel(context.Background())
	dctx, dcancel := context.WithCancel(context.Background())
	tr := &TaskRunner{
		detachCtx:    dctx,
		detachCancel: dcancel,
		cfg:          cfg,
		logger:       logger,
		hooks:        hooks,
		restarts:     newRestartTracker(RestartPolicyFor(jobType, tg, cfg.Task), jobType),
		killCtx:      ctx,
		killCancel:   cancel,
		waitCh:       make(chan struct{}),
		skipDelayCh:  make(chan struct{}),
		state:        &structs.TaskState{State: structs.TaskStatePending},
	}
	if l := cfg.Task.Lifecycle; l != nil && !l.Sidecar {
		// Ephemeral lifecycle tasks run to completion, even in a service
		// job: a successful exit is their end, not a reason to restart.
		tr.restarts.batch = true
	}
	if cfg.Restore != nil && cfg.Restore.State != nil {
		tr.state = cfg.Restore.State.Copy()
		tr.restarts.restore(tr.state.Events)
	}
	tr.req = &HookRequest{
		Alloc:    cfg.Alloc,
		Task:     cfg.Task,
		Node:     cfg.Node,
		HostEnv:  cfg.HostEnv,
		AllocDir: cfg.AllocDir,
		TaskDir:  cfg.AllocDir.TaskDir(cfg.Task.Name),
		Driver:   cfg.Driver,
		Emit:     tr.EmitEvent,
	}
	if cfg.Restore == nil {
		tr.appendEvent(EventReceived())
	}
	return tr
}

// Name is the task's name.
func (tr *TaskRunner) Name() string { return tr.cfg.Task.Name }

// IsLeader reports whether the task is its group's leader.
func (tr *TaskRunner) IsLeader() bool { return tr.cfg.Task.Leader }

// WaitCh is closed when the task is finished for good.
func (tr *TaskRunner) WaitCh() <-chan struct{} { return tr.waitCh }

// State returns a copy of the task's state.
func (tr *TaskRunner) State() *structs.TaskState {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.state.Copy()
}

// EmitEvent records an event (and its state effects) and notifies the
// owner.
func (tr *TaskRunner) EmitEvent(ev *structs.TaskEvent) {
	tr.appendEvent(ev)
	tr.notify()
}

func (tr *TaskRunner) appendEvent(ev *structs.TaskEvent) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.applyEventLocked(ev)
}

// applyEventLocked appends ev and applies what it implies for the state.
func (tr *TaskRunner) applyEventLocked(ev *structs.TaskEvent) {
	s := tr.state
	s.Events = append(s.Events, ev)
	if n := len(s.Events); n > maxEvents {
		s.Events = append(s.Events[:0:0], s.Events[n-maxEvents:]...)
	}
	if ev.FailsTask {
		s.Failed = true
	}
	if ev.Type == structs.TaskRestarting {
		s.Restarts++
		s.LastRestart = time.Unix(0, ev.Time)
	}
}

// setState moves the task to state, recording ev (if any) with it.
func (tr *TaskRunner) setState(state string, ev *structs.TaskEvent) {
	tr.mu.Lock()
	if ev != nil {
		tr.applyEventLocked(ev)
	}
	s := tr.state
	s.State = state
	now := time.Now()
	switch state {
	case structs.TaskStateRunning:
		if s.StartedAt.IsZero() {
			s.StartedAt = now
		}
	case structs.TaskStateDead:
		if s.FinishedAt.IsZero() {
			s.FinishedAt = now
		}
	}
	tr.mu.Unlock()
	tr.notify()
}

func (tr *TaskRunner) notify() {
	if tr.cfg.Store != nil {
		tr.cfg.Store.PutTaskState(tr.cfg.Alloc.ID, tr.cfg.Task.Name, tr.State())
	}
	if tr.cfg.OnStateChange != nil {
		tr.cfg.OnStateChange()
	}
}

// Run drives the task until it completes, fails or is killed. It returns
// when the task is dead.
func (tr *TaskRunner) Run() {
	defer close(tr.waitCh)
	defer func() {
		if !tr.isDetached() {
			tr.stopHooks()
		}
	}()

	if tr.cfg.Driver == nil {
		ev := EventDriverFailure(fmt.Errorf("driver %q is not available on this node", tr.cfg.Task.Driver))
		ev.FailsTask = true
		tr.setState(structs.TaskStateDead, ev)
		return
	}

	recovering, done := tr.restoredStart()
	if done {
		return
	}
	for {
		var res *plugins.ExitResult
		var startErr error
		if recovering {
			// Recovery comes before the kill check: a task killed while
			// being recovered must still be found to be stopped.
			res, startErr = tr.recoverOnce()
			recovering = false
		} else {
			if tr.isKilled() {
				tr.setState(structs.TaskStateDead, EventKilled())
				return
			}
			res, startErr = tr.runOnce()
		}
		if tr.isDetached() {
			return
		}
		if tr.isKilled() {
			tr.setState(structs.TaskStateDead, EventKilled())
			return
		}
		if tr.takeRestartRequest() {
			tr.setState(structs.TaskStatePending, EventRestarting(0, ReasonUserRequested))
			continue
		}
		d := tr.restarts.next(res, startErr)
		switch d.kind {
		case decisionDone:
			tr.setState(structs.TaskStateDead, nil)
			return
		case decisionFail:
			tr.logger.Info("not restarting task", "reason", d.reason)
			tr.setState(structs.TaskStateDead, EventNotRestarting(d.reason))
			return
		case decisionRestart:
			tr.logger.Info("restarting task", "reason", d.reason, "delay", d.delay)
			tr.setState(structs.TaskStatePending, EventRestarting(d.delay, d.reason))
			timer := time.NewTimer(d.delay)
			select {
			case <-timer.C:
			case <-tr.killCtx.Done():
				timer.Stop()
			case <-tr.detachCtx.Done():
				timer.Stop()
				return
			}
		}
	}
}

// Detach lets go of the task without stopping it: the runner stops
// waiting, records nothing more and returns, and the task runs on under
// its driver for a later agent to recover. The client detaches every task
// when the agent shuts down.
func (tr *TaskRunner) Detach() { tr.detachCancel() }

func (tr *TaskRunner) isDetached() bool { return tr.detachCtx.Err() != nil }

// runOnce makes one attempt: prestart, start, wait. It returns the exit
// result, or the error that kept the task from starting.
func (tr *TaskRunner) runOnce() (*plugins.ExitResult, error) {
	req := tr.req
	req.Config = &plugins.TaskConfig{
		ID:            fmt.Sprintf("%s/%s/%s", tr.cfg.Alloc.ID, tr.cfg.Task.Name, randomSuffix()),
		Name:          tr.cfg.Task.Name,
		AllocID:       tr.cfg.Alloc.ID,
		TaskGroupName: tr.cfg.Alloc.TaskGroup,
		Namespace:     tr.cfg.Alloc.Namespace,
		User:          tr.cfg.Task.User,
	}
	if tr.cfg.Alloc.Job != nil {
		req.Config.JobName = tr.cfg.Alloc.Job.Name
	}
	for _, h := range tr.hooks {
		if err := h.Prestart(tr.killCtx, req); err != nil {
			err = fmt.Errorf("prestart hook %q: %w", h.Name(), err)
			tr.logger.Error("task setup failed", "error", err)
			tr.EmitEvent(failureEvent(err))
			return nil, err
		}
	}

	handle, err := tr.cfg.Driver.StartTask(req.Config)
	if err != nil {
		err = fmt.Errorf("start task: %w", err)
		tr.logger.Error("driver failed to start task", "error", err)
		tr.EmitEvent(EventDriverFailure(err))
		return nil, err
	}
	id := req.Config.ID
	if handle != nil && handle.Config != nil && handle.Config.ID != "" {
		id = handle.Config.ID
	}
	tr.saveHandle(handle)
	tr.attach(id)
	tr.setState(structs.TaskStateRunning, EventStarted())
	tr.logger.Info("task started", "task_id", id)

	for _, h := range tr.hooks {
		if err := h.Poststart(tr.killCtx, req); err != nil {
			tr.logger.Warn("poststart hook failed", "hook", h.Name(), "error", err)
		}
	}
	return tr.wait(id), nil
}

// attach makes id the running attempt, so Kill can stop it.
func (tr *TaskRunner) attach(id string) {
	tr.req.TaskID = id
	tr.mu.Lock()
	tr.taskID = id
	killed := tr.killed
	tr.mu.Unlock()
	if killed {
		// Kill ran while the driver was starting (or recovering) the
		// task: it could not know the task ID, so stop the task here.
		tr.stopTask(id)
	}
}

// wait waits for the attempt id to exit, records how, and runs the Exited
// hooks.
func (tr *TaskRunner) wait(id string) *plugins.ExitResult {
	req := tr.req
	res, err := tr.cfg.Driver.WaitTask(tr.detachCtx, id)
	if tr.isDetached() {
		return nil
	}
	if err != nil {
		res = &plugins.ExitResult{ExitCode: -1, Err: fmt.Sprintf("wait for task: %v", err)}
	}
	tr.mu.Lock()
	tr.taskID = ""
	tr.mu.Unlock()
	if tr.cfg.Store != nil {
		tr.cfg.Store.PutTaskHandle(tr.cfg.Alloc.ID, tr.cfg.Task.Name, nil)
	}
	tr.logger.Info("task exited", "exit_code", res.ExitCode, "signal", res.Signal, "error", res.Err)
	tr.EmitEvent(EventTerminated(res))

	ctx, cancel := context.WithTimeout(context.Background(), hookTimeout)
	defer cancel()
	for _, h := range tr.hooks {
		if err := h.Exited(ctx, req, res); err != nil {
			tr.logger.Warn("exited hook failed", "hook", h.Name(), "error", err)
		}
	}
	return res
}

func (tr *TaskRunner) stopHooks() {
	ctx, cancel := context.WithTimeout(context.Background(), hookTimeout)
	defer cancel()
	for _, h := range tr.hooks {
		if err := h.Stop(ctx, tr.req); err != nil {
			tr.logger.Warn("stop hook failed", "hook", h.Name(), "error", err)
		}
	}
}

func (tr *TaskRunner) isKilled() bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.killed
}

// Kill stops the task for good: it records ev first (the reason, e.g.
// "Sibling Task Failed"; may be nil), then "Killing", sends the task's
// kill signal and waits up to its kill timeout before the driver force
// kills it. It returns when the task is dead or ctx ends. Killing a dead
// task does nothing.
func (tr *TaskRunner) Kill(ctx context.Context, ev *structs.TaskEvent) error {
	select {
	case <-tr.waitCh:
		return nil
	default:
	}
	tr.mu.Lock()
	already := tr.killed
	tr.killed = true
	id := tr.taskID
	tr.mu.Unlock()

	if !already {
		if ev != nil {
			tr.EmitEvent(ev)
		}
		if id != "" {
			tr.waitShutdownDelay(ctx)
			// The attempt may have ended (or a new one started) meanwhile.
			tr.mu.Lock()
			id = tr.taskID
			tr.mu.Unlock()
		}
		tr.EmitEvent(EventKilling(tr.killTimeout(), ""))
		tr.killCancel()
		if id != "" {
			tr.stopTask(id)
		}
	}
	select {
	case <-tr.waitCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kill task %q: %w", tr.cfg.Task.Name, ctx.Err())
	}
}

func (tr *TaskRunner) killTimeout() time.Duration {
	if tr.cfg.Task.KillTimeout > 0 {
		return tr.cfg.Task.KillTimeout
	}
	return DefaultKillTimeout
}

func (tr *TaskRunner) stopTask(id string) {
	err := tr.cfg.Driver.StopTask(id, tr.killTimeout(), tr.cfg.Task.KillSignal)
	if err != nil && !errors.Is(err, plugins.ErrTaskNotFound) {
		tr.logger.Error("failed to stop task", "task_id", id, "error", err)
	}
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Cancel marks a task that was never started as killed, recording ev (if
// any): Run then ends it at once, dead and not failed, without starting
// it. The alloc runner cancels tasks whose turn never came (a main task
// behind a failed prestart task, a poststop task of a destroyed
// allocation); a task that may be running is stopped with Kill instead.
func (tr *TaskRunner) Cancel(ev *structs.TaskEvent) {
	tr.mu.Lock()
	already := tr.killed
	tr.killed = true
	tr.mu.Unlock()
	if already {
		return
	}
	tr.killCancel()
	if ev != nil {
		tr.EmitEvent(ev)
	}
}

// Lifecycle is the task's lifecycle block; nil for a main task.
func (tr *TaskRunner) Lifecycle() *structs.TaskLifecycle { return tr.cfg.Task.Lifecycle }
