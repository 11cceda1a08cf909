// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package allocrunner runs one allocation on a client: it builds the
// allocation directory, runs a task runner per task, applies the group's
// rules between tasks (a dead leader or a failed task takes its siblings
// down), derives the allocation's client status and reports every change.
package allocrunner

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/client/allocdir"
	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// Config is what an alloc runner needs.
type Config struct {
	Alloc *structs.Allocation
	// AllocRoot is the directory holding all allocation dirs
	// (<DataDir>/alloc).
	AllocRoot string
	Node      *structs.Node
	Drivers   map[string]plugins.Driver
	HostEnv   map[string]string
	// OnUpdate receives the allocation's client-side view (ID,
	// ClientStatus, ClientDescription, TaskStates) after each change. It
	// must not block for long.
	OnUpdate func(*structs.Allocation)
	// Store persists the allocation and its tasks for an agent restart;
	// nil keeps nothing.
	Store Store
	// Restore, if set, rebuilds a runner an earlier agent ran, from what it
	// saved, by task name: tasks are recovered, not started again.
	Restore map[string]*taskrunner.Restore
	Logger  hclog.Logger
}

// Store is the alloc runner's view of the client's local state.
type Store interface {
	taskrunner.Store
	PutAlloc(a *structs.Allocation)
	DeleteAlloc(allocID string)
}

// AllocRunner runs one allocation.
type AllocRunner struct {
	cfg      Config
	logger   hclog.Logger
	allocDir *allocdir.AllocDir

	notifyCh  chan struct{}
	waitCh    chan struct{}
	destroyCh chan struct{}

	group     *structs.TaskGroup
	tasks     map[string]*taskrunner.TaskRunner
	taskOrder []string
	roles     map[string]role
	// hardKillCh is closed when every task, poststop tasks included, is
	// being killed at once (Destroy).
	hardKillCh chan struct{}
	// detachCh is closed by Detach: Run stops supervising.
	detachCh   chan struct{}
	detachOnce sync.Once
	// skipDelayCh is closed when the servers ask to stop the allocation
	// without its shutdown delays (skipShutdownDelay).
	skipDelayCh   chan struct{}
	skipDelayOnce sync.Once

	mu            sync.Mutex
	alloc         *structs.Allocation
	status        string
	statusDesc    string
	launched      map[string]bool // task runners whose Run was called
	killing       bool            // the whole alloc is being stopped
	hardKill      bool            // ... without poststop tasks or delays
	siblingKilled bool            // a failed task or dead leader already took the rest down
	mainDead      bool            // sidecars were stopped after the main tasks died
	destroyOnce   sync.Once
}

// New prepares a runner for cfg.Alloc; Run starts it.
func New(cfg Config) (*AllocRunner, error) {
	a := cfg.Alloc
	if a == nil || a.Job == nil {
		return nil, fmt.Errorf("allocation without job")
	}
	tg := a.Job.LookupTaskGroup(a.TaskGroup)
	if tg == nil {
		return nil, fmt.Errorf("alloc %s: task group %q not in job %q", a.ID, a.TaskGroup, a.Job.ID)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	logger = logger.Named("alloc_runner").With("alloc_id", a.ID)
	ar := &AllocRunner{
		cfg:         cfg,
		logger:      logger,
		allocDir:    allocdir.New(cfg.AllocRoot, a.ID),
		notifyCh:    make(chan struct{}, 1),
		waitCh:      make(chan struct{}),
		destroyCh:   make(chan struct{}),
		alloc:       a,
		group:       tg,
		tasks:       make(map[string]*taskrunner.TaskRunner, len(tg.Tasks)),
		roles:       make(map[string]role, len(tg.Tasks)),
		launched:    make(map[string]bool, len(tg.Tasks)),
		hardKillCh:  make(chan struct{}),
		detachCh:    make(chan struct{}),
		skipDelayCh: make(chan struct{}),
		status:      structs.AllocClientStatusPending,
		statusDesc:  "No tasks have started",
	}
	for _, task := range tg.Tasks {
		ar.tasks[task.Name] = taskrunner.New(taskrunner.Config{
			Alloc:         a,
			Task:          task,
			AllocDir:      ar.allocDir,
			Node:          cfg.Node,
			Driver:        cfg.Drivers[task.Driver],
			HostEnv:       cfg.HostEnv,
			OnStateChange: ar.notify,
			Store:         storeOrNil(cfg.Store),
			Restore:       cfg.Restore[task.Name],
			Logger:        logger,
		})
		ar.taskOrder = append(ar.taskOrder, task.Name)
		ar.roles[task.Name] = roleOf(task)
	}
	if cfg.Store != nil && cfg.Restore == nil {
		cfg.Store.PutAlloc(a)
	}
	return ar, nil
}

// storeOrNil keeps a nil Store a nil interface for the task runners.
func storeOrNil(s Store) taskrunner.Store {
	if s == nil {
		return nil
	}
	return s
}

// ID is the allocation's ID.
func (ar *AllocRunner) ID() string { return ar.cfg.Alloc.ID }

// AllocDir is the allocation's directory.
func (ar *AllocRunner) AllocDir() *allocdir.AllocDir { return ar.allocDir }

// WaitCh is closed when every task is dead.
func (ar *AllocRunner) WaitCh() <-chan struct{} { return ar.waitCh }

// DestroyCh is closed when Destroy finished removing the allocation.
func (ar *AllocRunner) DestroyCh() <-chan struct{} { return ar.destroyCh }

func (ar *AllocRunner) notify() {
	select {
	case ar.notifyCh <- struct{}{}:
	default:
	}
}

// Run starts the tasks in their lifecycle order and supervises them until
// all are dead.
func (ar *AllocRunner) Run() {
	defer close(ar.waitCh)
	if err := ar.allocDir.Build(); err != nil {
		// Task runners would fail the same way; say it once, clearly.
		ar.logger.Error("failed to build alloc dir", "error", err)
		ev := taskrunner.EventSetupFailure(fmt.Errorf("build alloc dir: %w", err))
		ev.FailsTask = true
		ar.hardKillAll(ev)
	}
	if a := ar.Alloc(); a.TerminalStatus() {
		if noShutdownDelay(a) {
			ar.skipShutdownDelay()
		}
		ar.stop()
	}

	allDone := make(chan struct{})
	go func() {
		for _, name := range ar.taskOrder {
			select {
			case <-ar.tasks[name].WaitCh():
			case <-ar.detachCh:
				return
			}
		}
		close(allDone)
	}()

	ar.advance()
	ar.report()
	for {
		select {
		case <-ar.notifyCh:
			ar.enforceGroupRules()
			ar.advance()
			ar.report()
		case <-allDone:
			ar.report()
			ar.logger.Debug("all tasks dead", "client_status", ar.ClientStatus())
			return
		case <-ar.detachCh:
			return
		}
	}
}

// Update hands the runner a newer version of its allocation from the
// servers. A desired status of stop or evict kills the tasks.
func (ar *AllocRunner) Update(a *structs.Allocation) {
	ar.mu.Lock()
	ar.alloc = a
	ar.mu.Unlock()
	if ar.cfg.Store != nil {
		ar.cfg.Store.PutAlloc(a)
	}
	if a.TerminalStatus() {
		skip := noShutdownDelay(a)
		ar.logger.Info("stopping allocation", "desired_status", a.DesiredStatus, "no_shutdown_delay", skip)
		if skip {
			ar.skipShutdownDelay()
		}
		ar.stop()
	}
}

// Alloc returns the allocation as the servers last sent it, with the
// client's status and task states filled in.
func (ar *AllocRunner) Alloc() *structs.Allocation {
	ar.mu.Lock()
	a := ar.alloc.Copy()
	a.ClientStatus, a.ClientDescription = ar.status, ar.statusDesc
	ar.mu.Unlock()
	a.TaskStates = ar.TaskStates()
	return a
}

// ClientStatus is the allocation's current client status.
func (ar *AllocRunner) ClientStatus() string {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return ar.status
}

// TaskStates returns copies of every task's state.
func (ar *AllocRunner) TaskStates() map[string]*structs.TaskState {
	out := make(map[string]*structs.TaskState, len(ar.tasks))
	for name, tr := range ar.tasks {
		out[name] = tr.State()
	}
	return out
}

// TaskState returns one task's state, or nil for an unknown task.
func (ar *AllocRunner) TaskState(task string) *structs.TaskState {
	tr, ok := ar.tasks[task]
	if !ok {
		return nil
	}
	return tr.State()
}

// TaskRunner returns one task's runner, for operations a user asks of a
// running task (`alloc signal`); nil for an unknown task.
func (ar *AllocRunner) TaskRunner(task string) *taskrunner.TaskRunner { return ar.tasks[task] }

// Kill stops the allocation as a stop from the servers does (shutdown
// delay, then the tasks in lifecycle order, then the poststop tasks) and
// waits until every task is dead or ctx ends.
func (ar *AllocRunner) Kill(ctx context.Context) error {
	ar.stop()
	select {
	case <-ar.waitCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kill alloc %s: %w", ar.ID(), ctx.Err())
	}
}

// Detach lets go of every task without stopping it (see
// taskrunner.TaskRunner.Detach): the agent is shutting down and a later
// one recovers the tasks.
func (ar *AllocRunner) Detach() {
	for _, tr := range ar.tasks {
		tr.Detach()
	}
	ar.detachOnce.Do(func() { close(ar.detachCh) })
}

// Destroy kills the tasks and then removes the allocation directory, in the
// background; DestroyCh is closed when done. The client calls it when the
// servers garbage collected the allocation.
func (ar *AllocRunner) Destroy() {
	ar.destroyOnce.Do(func() {
		ar.hardKillAll(nil)
		go func() {
			defer close(ar.destroyCh)
			<-ar.waitCh
			if err := ar.allocDir.Destroy(); err != nil {
				ar.logger.Error("failed to remove alloc dir", "error", err)
			}
			if ar.cfg.Store != nil {
				ar.cfg.Store.DeleteAlloc(ar.ID())
			}
		}()
	})
}

// stop begins the orderly stop of the allocation, once.
func (ar *AllocRunner) stop() {
	ar.mu.Lock()
	if ar.killing {
		ar.mu.Unlock()
		return
	}
	ar.killing = true
	ar.mu.Unlock()
	go ar.shutdown()
}

// enforceGroupRules applies the rules between a group's tasks: when a task
// failed for good or the leader is dead, the others (but the poststop
// tasks, which run next) are killed; when every main task is dead, the
// sidecars and poststart tasks left are stopped too.
func (ar *AllocRunner) enforceGroupRules() {
	var reason *structs.TaskEvent
	mains, mainsDead := 0, 0
	for _, name := range ar.taskOrder {
		st := ar.tasks[name].State()
		if ar.roles[name] == roleMain {
			mains++
		}
		if st.State != structs.TaskStateDead {
			continue
		}
		if ar.roles[name] == roleMain {
			mainsDead++
		}
		if st.Failed {
			reason = taskrunner.EventSiblingFailed(name)
			break
		}
		if ar.tasks[name].IsLeader() && reason == nil {
			reason = taskrunner.EventLeaderDead()
		}
	}
	ar.mu.Lock()
	switch {
	case ar.killing:
		// The orderly stop (or hard kill) is already taking every task
		// down in its own order.
		reason = nil
	case reason != nil && !ar.siblingKilled:
		ar.siblingKilled = true
	case reason == nil && mains > 0 && mains == mainsDead && !ar.mainDead:
		ar.mainDead = true
		reason = taskrunner.EventMainDead()
	default:
		reason = nil
	}
	ar.mu.Unlock()
	if reason == nil {
		return
	}
	ar.logger.Info("killing remaining tasks", "reason", reason.Type)
	for _, name := range ar.taskOrder {
		if ar.roles[name] == rolePoststop || ar.tasks[name].State().State == structs.TaskStateDead {
			continue
		}
		go ar.stopTask(context.Background(), name, reason)
	}
}

// report recomputes the client status and hands the client-side view to
// OnUpdate.
func (ar *AllocRunner) report() {
	states := ar.TaskStates()
	status, desc := ClientStatus(states)
	ar.mu.Lock()
	ar.status, ar.statusDesc = status, desc
	ar.mu.Unlock()
	if ar.cfg.OnUpdate != nil {
		ar.cfg.OnUpdate(&structs.Allocation{
			ID:                ar.ID(),
			ClientStatus:      status,
			ClientDescription: desc,
			TaskStates:        states,
		})
	}
}

func copyEvent(ev *structs.TaskEvent) *structs.TaskEvent {
	if ev == nil {
		return nil
	}
	c := *ev
	c.Details = maps.Clone(ev.Details)
	return &c
}
