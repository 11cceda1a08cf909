// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

func testAlloc(id string) *structs.Allocation {
	return &structs.Allocation{
		ID: id, TaskGroup: "web", AllocModifyIndex: 7,
		Job: &structs.Job{ID: "job1", Type: structs.JobTypeService, TaskGroups: []*structs.TaskGroup{{
			Name:  "web",
			Tasks: []*structs.Task{{Name: "srv", Driver: "raw_exec", Config: map[string]any{"command": "/bin/sleep", "args": []any{"60"}}}},
		}}},
	}
}

func open(t *testing.T, path string) (*DB, *Snapshot, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	db, snap, err := Open(path, Options{FlushInterval: time.Hour, Logger: hclog.New(&hclog.LoggerOptions{Output: &logs})})
	if err != nil {
		t.Fatal(err)
	}
	return db, snap, &logs
}

func syncNow(t *testing.T, db *DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, snap, _ := open(t, path)
	if len(snap.Allocs) != 0 || len(snap.Drivers) != 0 {
		t.Fatalf("new file not empty: %+v", snap)
	}
	started := time.Now().Round(0).UTC()
	db.PutAlloc(testAlloc("a1"))
	db.PutTaskState("a1", "srv", &structs.TaskState{State: structs.TaskStateRunning, Restarts: 2, StartedAt: started,
		Events: []*structs.TaskEvent{{Type: structs.TaskStarted, Details: map[string]string{"k": "v"}}}})
	db.PutTaskHandle("a1", "srv", &plugins.TaskHandle{Version: 1, Config: &plugins.TaskConfig{ID: "a1/srv/x", Env: map[string]string{"A": "1"}}, State: []byte(`{"PID":42}`)})
	db.PutDriver("raw_exec", []byte(`{"Pid":9}`))
	// Superseded and late writes: only the newest value counts, and a
	// deleted allocation stays deleted.
	db.PutAlloc(testAlloc("gone"))
	db.PutTaskState("gone", "srv", &structs.TaskState{State: structs.TaskStateRunning})
	syncNow(t, db)
	db.DeleteAlloc("gone")
	db.PutTaskState("gone", "srv", &structs.TaskState{State: structs.TaskStateDead})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, snap, _ = open(t, path)
	defer db.Close()
	if len(snap.Allocs) != 1 {
		t.Fatalf("allocs = %v, want only a1", snap.Allocs)
	}
	ar := snap.Allocs["a1"]
	if ar.Alloc.Job == nil || ar.Alloc.Job.TaskGroups[0].Tasks[0].Config["command"] != "/bin/sleep" || ar.Alloc.AllocModifyIndex != 7 {
		t.Fatalf("alloc not restored with its job: %+v", ar.Alloc)
	}
	tr := ar.Tasks["srv"]
	if tr == nil || tr.State.Restarts != 2 || !tr.State.StartedAt.Equal(started) || tr.State.Events[0].Details["k"] != "v" {
		t.Fatalf("task state = %+v", tr)
	}
	if tr.Handle == nil || tr.Handle.Config.ID != "a1/srv/x" || string(tr.Handle.State) != `{"PID":42}` || tr.Handle.Config.Env["A"] != "1" {
		t.Fatalf("handle = %+v", tr.Handle)
	}
	if string(snap.Drivers["raw_exec"]) != `{"Pid":9}` {
		t.Fatalf("drivers = %q", snap.Drivers)
	}

	// Removing a handle and a driver.
	db.PutTaskHandle("a1", "srv", nil)
	db.PutDriver("raw_exec", nil)
	syncNow(t, db)
	db.Close()
	db, snap, _ = open(t, path)
	defer db.Close()
	if snap.Allocs["a1"].Tasks["srv"].Handle != nil || len(snap.Drivers) != 0 {
		t.Fatalf("handle or driver not removed: %+v %v", snap.Allocs["a1"].Tasks["srv"], snap.Drivers)
	}
}

// TestBatching shows writes reach the file only on a commit, and that the
// ticker commits them without anyone asking.
func TestBatching(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, _, err := Open(path, Options{FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 100 {
		db.PutTaskState("a1", "srv", &structs.TaskState{Restarts: uint64(i)})
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		db.mu.Lock()
		n := len(db.pending)
		db.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pending writes never committed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDamagedFiles(t *testing.T) {
	// A good file to damage.
	good := filepath.Join(t.TempDir(), "good.db")
	db, _, _ := open(t, good)
	for _, id := range []string{"a1", "a2", "a3"} {
		db.PutAlloc(testAlloc(id))
		db.PutTaskState(id, "srv", &structs.TaskState{State: structs.TaskStateRunning, Events: []*structs.TaskEvent{{Type: strings.Repeat("x", 5000)}}})
	}
	db.Close()
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		data []byte
	}{
		{"garbage", bytes.Repeat([]byte("not a bolt file "), 4096)},
		{"short garbage", []byte("oops")},
		{"truncated", goodBytes[:len(goodBytes)/2]},
		{"truncated to one page", goodBytes[:4096]},
		{"zeroed meta pages", append(make([]byte, 8192), goodBytes[8192:]...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.db")
			if err := os.WriteFile(path, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			db, snap, logs := open(t, path)
			defer db.Close()
			if len(snap.Allocs) != 0 {
				t.Fatalf("damaged file restored %d allocs", len(snap.Allocs))
			}
			aside, _ := filepath.Glob(filepath.Join(dir, "state.db.corrupt-*"))
			if len(aside) != 1 {
				t.Fatalf("damaged file not moved aside: %v", aside)
			}
			moved, _ := os.ReadFile(aside[0])
			if !bytes.Equal(moved, c.data) {
				t.Fatal("moved-aside file differs from the damaged one")
			}
			if !strings.Contains(logs.String(), path) || !strings.Contains(logs.String(), "corrupted") {
				t.Fatalf("log does not name the file: %s", logs.String())
			}
			// The fresh store works.
			db.PutAlloc(testAlloc("new"))
			syncNow(t, db)
		})
	}
}

func TestLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, _, _ := open(t, path)
	defer db.Close()
	_, _, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second open: err = %v, want a lock error", err)
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 0 {
		t.Fatalf("a locked file was moved aside: %v", aside)
	}
}
