// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/droverhq/drover/client/allocrunner"
	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// ErrUnknownAlloc is returned by the allocation operations for an
// allocation this client does not run.
var ErrUnknownAlloc = errors.New("unknown allocation")

// ErrUnknownTask is returned by the allocation operations for a task the
// allocation does not have.
var ErrUnknownTask = errors.New("unknown task")

// ErrRestartCompletedTask is returned by RestartAlloc with allTasks for
// an allocation with a task that already ran to its end (an ephemeral
// prestart or poststart task, or a finished main task): Nomad runs such
// tasks again, but a Drover task runner ends for good once its task is
// dead, so the restart is refused rather than done in part.
var ErrRestartCompletedTask = errors.New("restarting all tasks is not supported for an allocation with a completed task")

// SignalAlloc sends sig to one task of an allocation this client runs,
// or, with task "", to every task that is running. As in Nomad, naming a
// task that is not running is an error, while "all tasks" skips the ones
// that are not.
func (c *Client) SignalAlloc(ctx context.Context, allocID, task, sig string) error {
	c.mu.Lock()
	ar, ok := c.allocs[allocID]
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("signal allocation %q: %w", allocID, ErrUnknownAlloc)
	}
	if task != "" {
		tr := ar.TaskRunner(task)
		if tr == nil {
			return fmt.Errorf("signal allocation %q: %w %q", allocID, ErrUnknownTask, task)
		}
		return tr.Signal(ctx, sig)
	}
	states := ar.TaskStates()
	names := make([]string, 0, len(states))
	for name, st := range states {
		if st.State == structs.TaskStateRunning {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		err := ar.TaskRunner(name).Signal(ctx, sig)
		// A task that exited since its state was read is no failure.
		if err != nil && !errors.Is(err, taskrunner.ErrTaskNotRunning) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("signal allocation %q: %w", allocID, err)
	}
	return nil
}

// RestartAlloc restarts, in place, one task of an allocation this client
// runs, or with task "" every task that is running (`alloc restart`): as
// in Nomad, tasks that are not running (completed lifecycle tasks,
// poststop tasks that have not started) are left alone. The restarts do
// not count against the restart policy. Naming a task that is not running
// is an error. allTasks (`alloc restart -all-tasks`) asks, as in Nomad,
// to run every task again, completed ones included: while every task that
// started is still running that is the same as task "", otherwise it is
// refused with ErrRestartCompletedTask (see there).
func (c *Client) RestartAlloc(ctx context.Context, allocID, task string, allTasks bool) error {
	ar, ok := c.runnerOf(allocID)
	if !ok {
		return fmt.Errorf("restart allocation %q: %w", allocID, ErrUnknownAlloc)
	}
	if allTasks {
		if done := completedTasks(ar); len(done) > 0 {
			return fmt.Errorf("restart allocation %q: %w (%s): restart the running tasks without -all-tasks, or stop the allocation to have it replaced",
				allocID, ErrRestartCompletedTask, strings.Join(done, ", "))
		}
	}
	if task != "" {
		tr := ar.TaskRunner(task)
		if tr == nil {
			return fmt.Errorf("restart allocation %q: %w %q", allocID, ErrUnknownTask, task)
		}
		return tr.Restart(ctx, taskrunner.ReasonUserRequested)
	}
	names := runningTasks(ar.TaskStates())
	if len(names) == 0 {
		return fmt.Errorf("restart allocation %q: no task is running: %w", allocID, taskrunner.ErrTaskNotRunning)
	}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			err := ar.TaskRunner(name).Restart(ctx, taskrunner.ReasonUserRequested)
			// A task that exited since its state was read is no failure.
			if err != nil && !errors.Is(err, taskrunner.ErrTaskNotRunning) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("restart allocation %q: %w", allocID, err)
	}
	return nil
}

// AllocResourceUsage is an allocation's resource usage, with the JSON
// shape of Nomad's api.AllocResourceUsage: the sum over its running
// tasks, each task's own, and when it was measured (Unix nanoseconds).
type AllocResourceUsage struct {
	ResourceUsage *plugins.ResourceUsage
	Tasks         map[string]*plugins.TaskResourceUsage
	Timestamp     int64
}

// AllocStats measures the resource usage of an allocation's running tasks
// through their drivers. Tasks that are not running, or whose driver
// reports no usage, are left out, as in Nomad.
func (c *Client) AllocStats(ctx context.Context, allocID string) (*AllocResourceUsage, error) {
	ar, ok := c.runnerOf(allocID)
	if !ok {
		return nil, fmt.Errorf("stats of allocation %q: %w", allocID, ErrUnknownAlloc)
	}
	names := runningTasks(ar.TaskStates())
	samples := make([]*plugins.TaskResourceUsage, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			u, err := ar.TaskRunner(name).Stats(ctx)
			if err != nil {
				c.logger.Debug("no resource usage for task", "alloc_id", allocID, "task", name, "error", err)
				return
			}
			samples[i] = u
		})
	}
	wg.Wait()
	out := &AllocResourceUsage{
		ResourceUsage: &plugins.ResourceUsage{MemoryStats: &plugins.MemoryStats{}, CpuStats: &plugins.CpuStats{}},
		Tasks:         map[string]*plugins.TaskResourceUsage{},
		Timestamp:     time.Now().UnixNano(),
	}
	for i, u := range samples {
		if u == nil {
			continue
		}
		out.Tasks[names[i]] = u
		addUsage(out.ResourceUsage, u.ResourceUsage)
		out.Timestamp = max(out.Timestamp, u.Timestamp)
	}
	return out, nil
}

// addUsage adds one task's usage to the allocation's sum.
func addUsage(sum, u *plugins.ResourceUsage) {
	if u == nil {
		return
	}
	if m := u.MemoryStats; m != nil {
		s := sum.MemoryStats
		s.RSS += m.RSS
		s.Cache += m.Cache
		s.Swap += m.Swap
		s.Usage += m.Usage
		s.MaxUsage += m.MaxUsage
		s.KernelUsage += m.KernelUsage
		s.KernelMaxUsage += m.KernelMaxUsage
		s.Measured = mergeMeasured(s.Measured, m.Measured)
	}
	if cs := u.CpuStats; cs != nil {
		s := sum.CpuStats
		s.SystemMode += cs.SystemMode
		s.UserMode += cs.UserMode
		s.TotalTicks += cs.TotalTicks
		s.ThrottledPeriods += cs.ThrottledPeriods
		s.ThrottledTime += cs.ThrottledTime
		s.Percent += cs.Percent
		s.Measured = mergeMeasured(s.Measured, cs.Measured)
	}
}

func mergeMeasured(have, more []string) []string {
	for _, m := range more {
		if !slices.Contains(have, m) {
			have = append(have, m)
		}
	}
	return have
}

// completedTasks lists, sorted, the tasks of ar that are dead, with their
// lifecycle hook ("task t0 (prestart)"). Poststop tasks are not counted:
// they run only once the allocation stops.
func completedTasks(ar *allocrunner.AllocRunner) []string {
	var out []string
	for name, st := range ar.TaskStates() {
		if st.State != structs.TaskStateDead {
			continue
		}
		kind := "main"
		if l := ar.TaskRunner(name).Lifecycle(); l != nil {
			if l.Hook == structs.TaskLifecycleHookPoststop {
				continue
			}
			kind = l.Hook
		}
		out = append(out, fmt.Sprintf("task %q (%s) completed", name, kind))
	}
	sort.Strings(out)
	return out
}

// runningTasks lists, sorted, the tasks whose state is running.
func runningTasks(states map[string]*structs.TaskState) []string {
	names := make([]string, 0, len(states))
	for name, st := range states {
		if st.State == structs.TaskStateRunning {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// runnerOf returns the runner of an allocation this client runs.
func (c *Client) runnerOf(allocID string) (*allocrunner.AllocRunner, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ar, ok := c.allocs[allocID]
	return ar, ok
}
