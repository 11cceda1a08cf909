// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// restartRig runs successive clients ("agent restarts") on one data dir
// against one fake control plane.
type restartRig struct {
	t       *testing.T
	dataDir string
	servers *clienttest.Servers
}

func newRestartRig(t *testing.T) *restartRig {
	return &restartRig{t: t, dataDir: t.TempDir(), servers: clienttest.NewServers(time.Minute)}
}

// start runs a client with driver; tasks survive its Shutdown.
func (r *restartRig) start(driver *clienttest.Driver) *testClient {
	r.t.Helper()
	c, err := New(&Config{
		DataDir:                   r.dataDir,
		NodeName:                  "restart-node",
		Drivers:                   map[string]plugins.Driver{clienttest.DriverName: driver},
		DevMode:                   true,
		StatusBatchInterval:       20 * time.Millisecond,
		DriverFingerprintInterval: time.Hour,
		AllocsMaxWait:             time.Second,
	}, r.servers, hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr}))
	if err != nil {
		r.t.Fatal(err)
	}
	go c.Run(context.Background())
	r.t.Cleanup(c.Shutdown)
	select {
	case <-c.Registered():
	case <-time.After(waitLong):
		r.t.Fatal("client did not register")
	}
	return &testClient{Client: c, servers: r.servers, driver: driver}
}

func (r *restartRig) place(nodeID, jobType string, configs ...map[string]any) *structs.Allocation {
	a := clienttest.Alloc(jobType, configs...)
	a.NodeID = nodeID
	r.servers.AddAlloc(a)
	return a
}

func countEvents(st *structs.TaskState, typ string) int {
	n := 0
	for _, ev := range st.Events {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// waitTask waits until the client reports a task state that cond accepts.
func waitTask(t *testing.T, tc *testClient, allocID, task string, cond func(*structs.TaskState) error) *structs.TaskState {
	t.Helper()
	var st *structs.TaskState
	clienttest.WaitFor(t, waitLong, func() error {
		u := tc.servers.ClientUpdate(allocID)
		if u == nil || u.TaskStates[task] == nil {
			return errors.New("no task state reported yet")
		}
		st = u.TaskStates[task]
		return cond(st)
	})
	return st
}

func TestShutdownLeavesTasksRunning(t *testing.T) {
	r := newRestartRig(t)
	driver := clienttest.NewDriver()
	tc := r.start(driver)
	a := r.place(tc.NodeID(), structs.JobTypeService, map[string]any{})
	tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
	tc.Shutdown()
	if n := driver.Live(); n != 1 {
		t.Fatalf("%d tasks live after shutdown, want 1", n)
	}
	if len(driver.Stops()) != 0 {
		t.Fatalf("shutdown stopped tasks: %+v", driver.Stops())
	}
}

// TestRestoreRecoversRunningTask: a restarted client recovers the task
// through the driver instead of starting it again, and still supervises
// it (a stop from the servers kills it).
func TestRestoreRecoversRunningTask(t *testing.T) {
	r := newRestartRig(t)
	driver := clienttest.NewDriver() // the plugin process outlives the agent
	tc := r.start(driver)
	a := r.place(tc.NodeID(), structs.JobTypeService, map[string]any{})
	tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
	tc.Shutdown()

	tc2 := r.start(driver)
	clienttest.WaitFor(t, waitLong, func() error {
		st, ok := tc2.TaskState(a.ID, "t0")
		if !ok || st.State != structs.TaskStateRunning {
			return fmt.Errorf("task state %+v", st)
		}
		return nil
	})
	if n := len(driver.Started()); n != 1 {
		t.Fatalf("driver started %d tasks, want 1 (recovered, not restarted)", n)
	}
	st, _ := tc2.TaskState(a.ID, "t0")
	if st.Restarts != 0 || countEvents(st, structs.TaskStarted) != 1 || countEvents(st, structs.TaskReceived) != 1 {
		t.Fatalf("task restarted or events repeated: restarts=%d events=%+v", st.Restarts, st.Events)
	}

	r.servers.StopAlloc(a.ID)
	tc2.waitReported(t, a.ID, structs.AllocClientStatusComplete)
	if n := driver.Live(); n != 0 {
		t.Fatalf("%d tasks live after stop", n)
	}
}

// TestRestoreTaskExitedWhileDown: a task that ended while the agent was
// down reports its real exit, and the restart policy applies.
func TestRestoreTaskExitedWhileDown(t *testing.T) {
	cases := []struct {
		name       string
		jobType    string
		exitCode   int
		wantStatus string
		restarts   uint64
	}{
		{"batch success completes", structs.JobTypeBatch, 0, structs.AllocClientStatusComplete, 0},
		{"service failure restarts", structs.JobTypeService, 3, structs.AllocClientStatusRunning, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRestartRig(t)
			driver := clienttest.NewDriver()
			tc := r.start(driver)
			a := r.place(tc.NodeID(), c.jobType, map[string]any{"run_for": "400ms", "exit_code": c.exitCode})
			tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
			tc.Shutdown()
			id := driver.Started()[0].ID
			clienttest.WaitFor(t, waitLong, func() error {
				st, err := driver.InspectTask(id)
				if err != nil || st.State != plugins.TaskStateExited {
					return fmt.Errorf("task not exited: %+v %v", st, err)
				}
				return nil
			})

			tc2 := r.start(driver)
			st := waitTask(t, tc2, a.ID, "t0", func(st *structs.TaskState) error {
				if countEvents(st, structs.TaskTerminated) == 0 || st.Restarts != c.restarts {
					return fmt.Errorf("restarts=%d events=%d", st.Restarts, len(st.Events))
				}
				return nil
			})
			var term *structs.TaskEvent
			for _, ev := range st.Events {
				if ev.Type == structs.TaskTerminated {
					term = ev
				}
			}
			if term.ExitCode != c.exitCode {
				t.Fatalf("exit code %d, want %d", term.ExitCode, c.exitCode)
			}
			tc2.waitReported(t, a.ID, c.wantStatus)
		})
	}
}

// TestRestoreRecoveryFails: when the driver cannot find the task (plugin
// and task gone), the task gets "failed to recover task" and the restart
// policy starts it again.
func TestRestoreRecoveryFails(t *testing.T) {
	r := newRestartRig(t)
	tc := r.start(clienttest.NewDriver())
	a := r.place(tc.NodeID(), structs.JobTypeService, map[string]any{})
	tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
	tc.Shutdown()

	fresh := clienttest.NewDriver() // knows nothing of the old task
	tc2 := r.start(fresh)
	st := waitTask(t, tc2, a.ID, "t0", func(st *structs.TaskState) error {
		if st.State != structs.TaskStateRunning || st.Restarts != 1 {
			return fmt.Errorf("state %s restarts %d", st.State, st.Restarts)
		}
		return nil
	})
	var found bool
	for _, ev := range st.Events {
		if ev.Type == taskrunner.TaskRestoreFailed {
			found = true
			if ev.Details["restore_error"] == "" {
				t.Fatalf("restore event without error: %+v", ev)
			}
		}
	}
	if !found {
		t.Fatalf("no %q event: %+v", taskrunner.TaskRestoreFailed, st.Events)
	}
	if n := len(fresh.Started()); n != 1 {
		t.Fatalf("fresh driver started %d tasks, want 1", n)
	}
}

// TestRestoreDamagedState: a garbage state file is moved aside, the client
// starts, and an allocation it had been running is reported failed rather
// than started a second time next to its unsupervised tasks. A new
// allocation runs as usual.
func TestRestoreDamagedState(t *testing.T) {
	r := newRestartRig(t)
	driver := clienttest.NewDriver()
	tc := r.start(driver)
	a := r.place(tc.NodeID(), structs.JobTypeService, map[string]any{})
	tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
	tc.Shutdown()
	if err := os.WriteFile(StatePath(r.dataDir), []byte("garbage, not bbolt"), 0o600); err != nil {
		t.Fatal(err)
	}

	tc2 := r.start(driver)
	got := tc2.waitReported(t, a.ID, structs.AllocClientStatusFailed)
	if st := got.TaskStates["t0"]; st == nil || !st.Failed || countEvents(st, taskrunner.TaskRestoreFailed) != 1 {
		t.Fatalf("task state of lost alloc: %+v", got.TaskStates)
	}
	if n := len(driver.Started()); n != 1 {
		t.Fatalf("driver started %d tasks, want 1: the lost allocation must not start again", n)
	}
	if aside, _ := filepath.Glob(StatePath(r.dataDir) + ".corrupt-*"); len(aside) != 1 {
		t.Fatalf("state file not moved aside: %v", aside)
	}
	b := r.place(tc2.NodeID(), structs.JobTypeService, map[string]any{})
	tc2.waitReported(t, b.ID, structs.AllocClientStatusRunning)
}

// TestRestoreGarbageCollectedWhileDown: an allocation the servers forgot
// while the agent was down is recovered, then destroyed, and leaves no
// trace in the local state.
func TestRestoreGarbageCollectedWhileDown(t *testing.T) {
	r := newRestartRig(t)
	driver := clienttest.NewDriver()
	tc := r.start(driver)
	a := r.place(tc.NodeID(), structs.JobTypeService, map[string]any{})
	tc.waitReported(t, a.ID, structs.AllocClientStatusRunning)
	tc.Shutdown()
	r.servers.GCAlloc(a.ID)

	tc2 := r.start(driver)
	clienttest.WaitFor(t, waitLong, func() error {
		if n := driver.Live(); n != 0 {
			return fmt.Errorf("%d tasks live", n)
		}
		if _, ok := tc2.Alloc(a.ID); ok {
			return errors.New("alloc still known")
		}
		return nil
	})
	tc2.Shutdown()
	tc3 := r.start(driver)
	if n := len(tc3.Allocs()); n != 0 {
		t.Fatalf("%d allocs restored after GC", n)
	}
}
