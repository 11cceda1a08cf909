// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package allocrunner

import (
	"context"
	"time"

	"github.com/droverhq/drover/structs"
)

// role is where a task runs in its group's lifecycle (the `lifecycle`
// block): prestart tasks first, main tasks once every ephemeral prestart
// task completed and every prestart sidecar runs, poststart tasks once
// every main task runs, poststop tasks once all the others are dead.
type role int

const (
	roleMain role = iota
	rolePrestart
	rolePrestartSidecar
	rolePoststart
	rolePoststartSidecar
	rolePoststop
)

func roleOf(t *structs.Task) role {
	l := t.Lifecycle
	if l == nil {
		return roleMain
	}
	switch l.Hook {
	case structs.TaskLifecycleHookPrestart:
		if l.Sidecar {
			return rolePrestartSidecar
		}
		return rolePrestart
	case structs.TaskLifecycleHookPoststart:
		if l.Sidecar {
			return rolePoststartSidecar
		}
		return rolePoststart
	case structs.TaskLifecycleHookPoststop:
		return rolePoststop
	}
	return roleMain
}

func (r role) sidecar() bool { return r == rolePrestartSidecar || r == rolePoststartSidecar }

// started reports whether a task ran at least once.
func started(st *structs.TaskState) bool {
	return st.State == structs.TaskStateRunning || !st.StartedAt.IsZero()
}

// advance starts every task whose turn has come. Tasks that an earlier
// agent already ran (restored running or dead) are picked up at once.
func (ar *AllocRunner) advance() {
	states := ar.TaskStates()
	prestartDone, mainsStarted, othersDead := true, true, true
	for _, name := range ar.taskOrder {
		st := states[name]
		switch ar.roles[name] {
		case rolePrestart:
			prestartDone = prestartDone && st.State == structs.TaskStateDead && !st.Failed
		case rolePrestartSidecar:
			prestartDone = prestartDone && started(st)
		case roleMain:
			mainsStarted = mainsStarted && started(st)
		}
		if ar.roles[name] != rolePoststop && st.State != structs.TaskStateDead {
			othersDead = false
		}
	}
	ar.mu.Lock()
	stopping, hard := ar.killing, ar.hardKill
	ar.mu.Unlock()
	for _, name := range ar.taskOrder {
		var turn bool
		switch ar.roles[name] {
		case rolePrestart, rolePrestartSidecar:
			turn = true
		case roleMain:
			turn = prestartDone
		case rolePoststart, rolePoststartSidecar:
			turn = prestartDone && mainsStarted
		case rolePoststop:
			turn = othersDead && !hard
		}
		if stopping && ar.roles[name] != rolePoststop {
			// A stopping allocation starts nothing new; the kill path
			// cancels what never started.
			turn = false
		}
		if turn || states[name].State != structs.TaskStatePending {
			ar.launch(name)
		}
	}
}

// launch runs a task's runner once.
func (ar *AllocRunner) launch(name string) {
	ar.mu.Lock()
	if ar.launched[name] {
		ar.mu.Unlock()
		return
	}
	ar.launched[name] = true
	ar.mu.Unlock()
	go ar.tasks[name].Run()
}

func (ar *AllocRunner) isLaunched(name string) bool {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return ar.launched[name]
}

// stopTask ends one task with ev as the reason: a started one is killed
// (and waited for), one that never started is cancelled.
func (ar *AllocRunner) stopTask(ctx context.Context, name string, ev *structs.TaskEvent) {
	tr := ar.tasks[name]
	if !ar.isLaunched(name) {
		tr.Cancel(copyEvent(ev))
		ar.launch(name)
	}
	_ = tr.Kill(ctx, copyEvent(ev))
}

// stopTasks stops the named tasks in parallel and waits for them.
func (ar *AllocRunner) stopTasks(names []string, ev *structs.TaskEvent) {
	done := make(chan struct{}, len(names))
	for _, name := range names {
		go func() {
			ar.stopTask(context.Background(), name, ev)
			done <- struct{}{}
		}()
	}
	for range names {
		<-done
	}
}

// shutdown stops the allocation the way Nomad does: wait the group's
// shutdown_delay, stop the leader, then the other main and ephemeral
// tasks, then the sidecars; poststop tasks then run (advance starts them
// once the others are dead). A hard kill (Destroy) cuts the delay short
// and cancels poststop tasks too.
func (ar *AllocRunner) shutdown() {
	if d := ar.group.ShutdownDelay; d > 0 && !ar.shutdownDelaySkipped() {
		ar.logger.Debug("waiting for group shutdown delay", "delay", d)
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-ar.hardKillCh:
			timer.Stop()
		case <-ar.skipDelayCh:
			timer.Stop()
		}
	}
	var leaders, others, sidecars []string
	for _, name := range ar.taskOrder {
		switch r := ar.roles[name]; {
		case r == rolePoststop:
		case ar.tasks[name].IsLeader():
			leaders = append(leaders, name)
		case r.sidecar():
			sidecars = append(sidecars, name)
		default:
			others = append(others, name)
		}
	}
	for _, stage := range [][]string{leaders, others, sidecars} {
		ar.stopTasks(stage, nil)
	}
	ar.notify()
}

// hardKillAll stops every task at once, poststop tasks included.
func (ar *AllocRunner) hardKillAll(ev *structs.TaskEvent) {
	ar.mu.Lock()
	first := !ar.hardKill
	ar.hardKill, ar.killing = true, true
	ar.mu.Unlock()
	if !first {
		return
	}
	close(ar.hardKillCh)
	for _, name := range ar.taskOrder {
		go ar.stopTask(context.Background(), name, ev)
	}
}

// noShutdownDelay reports whether the servers ask to stop a without the
// group's and tasks' shutdown_delay (`alloc stop -no-shutdown-delay`).
func noShutdownDelay(a *structs.Allocation) bool {
	d := a.DesiredTransition.NoShutdownDelay
	return d != nil && *d
}

// skipShutdownDelay has the group and every task skip their shutdown
// delays, and cuts short those being waited.
func (ar *AllocRunner) skipShutdownDelay() {
	ar.skipDelayOnce.Do(func() {
		close(ar.skipDelayCh)
		for _, tr := range ar.tasks {
			tr.SkipShutdownDelay()
		}
	})
}

func (ar *AllocRunner) shutdownDelaySkipped() bool {
	select {
	case <-ar.skipDelayCh:
		return true
	default:
		return false
	}
}
