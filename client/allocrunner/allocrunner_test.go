// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package allocrunner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

type harness struct {
	ar      *AllocRunner
	driver  *clienttest.Driver
	root    string
	mu      sync.Mutex
	updates []*structs.Allocation
}

func start(t *testing.T, alloc *structs.Allocation) *harness {
	t.Helper()
	h := &harness{driver: clienttest.NewDriver(), root: t.TempDir()}
	node := &structs.Node{ID: "node-1", Name: "n1", Datacenter: "dc1", Attributes: map[string]string{"kernel.name": "linux"}}
	ar, err := New(Config{
		Alloc:     alloc,
		AllocRoot: h.root,
		Node:      node,
		Drivers:   map[string]plugins.Driver{clienttest.DriverName: h.driver},
		HostEnv:   map[string]string{"PATH": "/usr/bin"},
		OnUpdate: func(a *structs.Allocation) {
			h.mu.Lock()
			h.updates = append(h.updates, a)
			h.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.ar = ar
	go ar.Run()
	t.Cleanup(func() {
		ar.Destroy()
		select {
		case <-ar.DestroyCh():
		case <-time.After(10 * time.Second):
			t.Error("alloc runner did not finish")
		}
	})
	return h
}

func (h *harness) waitStatus(t *testing.T, want string) {
	t.Helper()
	clienttest.WaitFor(t, 5*time.Second, func() error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.updates) == 0 {
			return fmt.Errorf("no updates")
		}
		if got := h.updates[len(h.updates)-1].ClientStatus; got != want {
			return fmt.Errorf("client status %q, want %q", got, want)
		}
		return nil
	})
}

func eventTypes(ts *structs.TaskState) []string {
	var out []string
	for _, e := range ts.Events {
		out = append(out, e.Type)
	}
	return out
}

func hasEvent(ts *structs.TaskState, typ string) *structs.TaskEvent {
	for _, e := range ts.Events {
		if e.Type == typ {
			return e
		}
	}
	return nil
}

func TestServiceRuns(t *testing.T) {
	h := start(t, clienttest.Alloc(structs.JobTypeService, map[string]any{}))
	h.waitStatus(t, structs.AllocClientStatusRunning)
	st := h.ar.TaskState("t0")
	if st.State != structs.TaskStateRunning || st.StartedAt.IsZero() {
		t.Fatalf("task state %+v", st)
	}
	want := []string{structs.TaskReceived, structs.TaskSetup, structs.TaskStarted}
	if got := eventTypes(st); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if e := st.Events[0]; e.DisplayMessage != "Task received by client" {
		t.Fatalf("display message %q", e.DisplayMessage)
	}
}

func TestBatchCompletes(t *testing.T) {
	h := start(t, clienttest.Alloc(structs.JobTypeBatch, map[string]any{"run_for": "20ms"}))
	h.waitStatus(t, structs.AllocClientStatusComplete)
	<-h.ar.WaitCh()
	st := h.ar.TaskState("t0")
	if st.State != structs.TaskStateDead || st.Failed || st.Restarts != 0 || st.FinishedAt.IsZero() {
		t.Fatalf("task state %+v", st)
	}
	term := hasEvent(st, structs.TaskTerminated)
	if term == nil || term.DisplayMessage != "Exit Code: 0" {
		t.Fatalf("terminated event %+v", term)
	}
	if h.driver.Live() != 0 {
		t.Fatalf("driver still holds %d tasks after completion", h.driver.Live())
	}
}

func TestServiceExitZeroRestarts(t *testing.T) {
	h := start(t, clienttest.Alloc(structs.JobTypeService, map[string]any{"run_for": "10ms"}))
	h.waitStatus(t, structs.AllocClientStatusFailed)
	st := h.ar.TaskState("t0")
	if st.Restarts != 2 || !st.Failed {
		t.Fatalf("restarts %d failed %v, want 2 restarts then failed", st.Restarts, st.Failed)
	}
}

func TestFailingTaskRestartsThenFails(t *testing.T) {
	cases := []struct {
		name string
		cfg  map[string]any
		ev   string
	}{
		{"exit code", map[string]any{"run_for": "5ms", "exit_code": 3}, structs.TaskTerminated},
		{"start error", map[string]any{"start_error": "no such binary"}, structs.TaskDriverFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := start(t, clienttest.Alloc(structs.JobTypeBatch, c.cfg))
			h.waitStatus(t, structs.AllocClientStatusFailed)
			st := h.ar.TaskState("t0")
			if st.Restarts != 2 || !st.Failed || st.State != structs.TaskStateDead {
				t.Fatalf("state %+v", st)
			}
			if n := len(h.driver.Started()); n != 3 {
				t.Fatalf("driver saw %d starts, want 3", n)
			}
			var restarting, failures int
			for _, e := range st.Events {
				switch e.Type {
				case structs.TaskRestarting:
					restarting++
					if e.RestartReason != "Restart within policy" || e.StartDelay < int64(10*time.Millisecond) {
						t.Errorf("restarting event %+v", e)
					}
				case c.ev:
					failures++
				}
			}
			if restarting != 2 || failures != 3 {
				t.Fatalf("%d restarting and %d %q events: %v", restarting, failures, c.ev, eventTypes(st))
			}
			last := st.Events[len(st.Events)-1]
			if last.Type != structs.TaskNotRestarting || !last.FailsTask ||
				last.DisplayMessage != `Exceeded allowed attempts 2 in interval 1m0s and mode is "fail"` {
				t.Fatalf("last event %+v", last)
			}
		})
	}
}

func TestStopOnDesiredStatus(t *testing.T) {
	alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{}, map[string]any{})
	alloc.Job.TaskGroups[0].Tasks[0].KillSignal = "SIGINT"
	h := start(t, alloc)
	h.waitStatus(t, structs.AllocClientStatusRunning)

	stopped := alloc.Copy()
	stopped.DesiredStatus = structs.AllocDesiredStatusStop
	h.ar.Update(stopped)
	h.waitStatus(t, structs.AllocClientStatusComplete)
	<-h.ar.WaitCh()
	for _, name := range []string{"t0", "t1"} {
		st := h.ar.TaskState(name)
		if st.Failed || st.State != structs.TaskStateDead {
			t.Fatalf("%s: %+v", name, st)
		}
		k := hasEvent(st, structs.TaskKilling)
		if k == nil || k.KillTimeout != time.Second || k.DisplayMessage != "Sent interrupt. Waiting 1s before force killing" {
			t.Fatalf("%s killing event %+v", name, k)
		}
		if hasEvent(st, structs.TaskKilled) == nil {
			t.Fatalf("%s: no Killed event: %v", name, eventTypes(st))
		}
	}
	signals := map[string]bool{}
	for _, s := range h.driver.Stops() {
		signals[s.Signal] = true
		if s.Timeout != time.Second {
			t.Fatalf("stop timeout %v", s.Timeout)
		}
	}
	if !signals["SIGINT"] || !signals[""] {
		t.Fatalf("stop signals %v, want the task's SIGINT and the default", signals)
	}
}

func TestKillTimeoutForcesKill(t *testing.T) {
	alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{"ignore_stop": true})
	alloc.Job.TaskGroups[0].Tasks[0].KillTimeout = 50 * time.Millisecond
	h := start(t, alloc)
	h.waitStatus(t, structs.AllocClientStatusRunning)
	stopped := alloc.Copy()
	stopped.DesiredStatus = structs.AllocDesiredStatusStop
	h.ar.Update(stopped)
	h.waitStatus(t, structs.AllocClientStatusComplete)
	term := hasEvent(h.ar.TaskState("t0"), structs.TaskTerminated)
	if term == nil || term.Signal != 9 || term.DisplayMessage != "Exit Code: 0, Signal: 9" {
		t.Fatalf("terminated event %+v", term)
	}
}

func TestSiblingFailureKillsOthers(t *testing.T) {
	alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{}, map[string]any{"start_error": "boom"})
	alloc.Job.TaskGroups[0].RestartPolicy = &structs.RestartPolicy{Mode: structs.RestartPolicyModeFail, Interval: time.Minute}
	h := start(t, alloc)
	h.waitStatus(t, structs.AllocClientStatusFailed)
	<-h.ar.WaitCh()
	st := h.ar.TaskState("t0")
	ev := hasEvent(st, structs.TaskSiblingFailed)
	if ev == nil || ev.DisplayMessage != `Task's sibling "t1" failed` {
		t.Fatalf("sibling event missing: %v", eventTypes(st))
	}
	if st.State != structs.TaskStateDead || st.Failed {
		t.Fatalf("sibling state %+v", st)
	}
}

func TestLeaderDeathKillsFollowers(t *testing.T) {
	alloc := clienttest.Alloc(structs.JobTypeBatch, map[string]any{"run_for": "20ms"}, map[string]any{})
	alloc.Job.TaskGroups[0].Tasks[0].Leader = true
	h := start(t, alloc)
	h.waitStatus(t, structs.AllocClientStatusComplete)
	<-h.ar.WaitCh()
	st := h.ar.TaskState("t1")
	if ev := hasEvent(st, structs.TaskLeaderDead); ev == nil || ev.DisplayMessage != "Leader Task in Group dead" {
		t.Fatalf("follower events %v", eventTypes(st))
	}
}

func TestMissingDriverFails(t *testing.T) {
	alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{})
	alloc.Job.TaskGroups[0].Tasks[0].Driver = "nope"
	h := start(t, alloc)
	h.waitStatus(t, structs.AllocClientStatusFailed)
	ev := hasEvent(h.ar.TaskState("t0"), structs.TaskDriverFailure)
	if ev == nil || ev.DriverError == "" {
		t.Fatalf("no driver failure event")
	}
}

func TestTaskConfigAndLayout(t *testing.T) {
	alloc := clienttest.Alloc(structs.JobTypeService, map[string]any{
		"args": []any{"${NOMAD_ALLOC_ID}", "${attr.kernel.name}", "${node.datacenter}"},
	})
	task := alloc.Job.TaskGroups[0].Tasks[0]
	task.Env = map[string]string{"GREETING": "hello ${NOMAD_TASK_NAME}"}
	task.LogConfig = &structs.LogConfig{MaxFiles: 3, MaxFileSizeMB: 2}
	task.User = "nobody"
	h := start(t, alloc)
	h.waitStatus(t, structs.AllocClientStatusRunning)

	cfg := h.driver.Started()[0]
	dir := filepath.Join(h.root, alloc.ID)
	checks := []struct{ name, got, want string }{
		{"alloc dir", cfg.AllocDir, dir},
		{"task dir", cfg.TaskDir, filepath.Join(dir, "t0")},
		{"stdout", cfg.StdoutPath, filepath.Join(dir, "alloc", "logs", "t0.stdout")},
		{"stderr", cfg.StderrPath, filepath.Join(dir, "alloc", "logs", "t0.stderr")},
		{"NOMAD_ALLOC_DIR", cfg.Env["NOMAD_ALLOC_DIR"], filepath.Join(dir, "alloc")},
		{"NOMAD_TASK_DIR", cfg.Env["NOMAD_TASK_DIR"], filepath.Join(dir, "t0", "local")},
		{"NOMAD_SECRETS_DIR", cfg.Env["NOMAD_SECRETS_DIR"], filepath.Join(dir, "t0", "secrets")},
		{"GREETING", cfg.Env["GREETING"], "hello t0"},
		{"PATH", cfg.Env["PATH"], "/usr/bin"},
		{"user", cfg.User, "nobody"},
		{"job name", cfg.JobName, alloc.Job.Name},
		{"alloc id", cfg.AllocID, alloc.ID},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if cfg.LogMaxFiles != 3 || cfg.LogMaxFileSizeMB != 2 || cfg.CPUMHz != 100 || cfg.MemoryMB != 32 {
		t.Errorf("limits %+v", cfg)
	}
	var dc struct{ Args []string }
	if err := json.Unmarshal(cfg.DriverConfig, &dc); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dc.Args) != fmt.Sprint([]string{alloc.ID, "linux", "dc1"}) {
		t.Errorf("interpolated args %v", dc.Args)
	}
	for _, rel := range []string{"alloc/logs", "alloc/data", "alloc/tmp", "t0/local", "t0/secrets", "t0/tmp"} {
		if fi, err := os.Stat(filepath.Join(dir, rel)); err != nil || !fi.IsDir() {
			t.Errorf("%s missing: %v", rel, err)
		}
	}
}

func TestDestroyRemovesDir(t *testing.T) {
	h := start(t, clienttest.Alloc(structs.JobTypeService, map[string]any{}))
	h.waitStatus(t, structs.AllocClientStatusRunning)
	dir := h.ar.AllocDir().Dir
	h.ar.Destroy()
	select {
	case <-h.ar.DestroyCh():
	case <-time.After(5 * time.Second):
		t.Fatal("destroy did not finish")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("alloc dir survived: %v", err)
	}
	if h.driver.Live() != 0 {
		t.Fatalf("driver still holds %d tasks", h.driver.Live())
	}
}
