// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/droverhq/drover/plugins"
)

func startTask(t *testing.T, d *driver, id, config string) (*plugins.TaskHandle, string) {
	t.Helper()
	stdout := filepath.Join(t.TempDir(), "greet.stdout")
	h, err := d.StartTask(&plugins.TaskConfig{ID: id, Name: "greet", StdoutPath: stdout, DriverConfig: []byte(config)})
	if err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	return h, stdout + ".0"
}

func TestGreetingAndExit(t *testing.T) {
	for _, tc := range []struct {
		name, plugin, task, want string
	}{
		{"defaults", "", "", "Hello, world!\n"},
		{"configured", `{"greeting":"Bonjour"}`, `{"name":"Drover"}`, "Bonjour, Drover!\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver()
			if err := d.SetConfig([]byte(tc.plugin)); err != nil {
				t.Fatal(err)
			}
			_, log := startTask(t, d, "t1", tc.task)
			res, err := d.WaitTask(context.Background(), "t1")
			if err != nil || !res.Successful() {
				t.Fatalf("WaitTask = %+v, %v", res, err)
			}
			if b, _ := os.ReadFile(log); string(b) != tc.want {
				t.Errorf("log = %q, want %q", b, tc.want)
			}
			if st, _ := d.InspectTask("t1"); st.State != plugins.TaskStateExited {
				t.Errorf("InspectTask state = %s", st.State)
			}
			if err := d.DestroyTask("t1", false); err != nil {
				t.Errorf("DestroyTask of exited task: %v", err)
			}
			if _, err := d.InspectTask("t1"); !errors.Is(err, plugins.ErrTaskNotFound) {
				t.Errorf("InspectTask after destroy: %v", err)
			}
		})
	}
}

func TestBadConfigRejected(t *testing.T) {
	d := newDriver()
	if err := d.SetConfig([]byte(`{"greting":"x"}`)); err == nil {
		t.Error("SetConfig accepted an unknown key")
	}
	for _, cfg := range []string{`{"nam":"x"}`, `{"duration":"soon"}`, `{"duration":"-1s"}`} {
		if _, err := d.StartTask(&plugins.TaskConfig{ID: "t", StdoutPath: filepath.Join(t.TempDir(), "o"), DriverConfig: []byte(cfg)}); err == nil {
			t.Errorf("StartTask accepted config %s", cfg)
		}
	}
}

func TestStopAndRecover(t *testing.T) {
	d := newDriver()
	h, _ := startTask(t, d, "long", `{"duration":"1h"}`)
	if err := d.DestroyTask("long", false); err == nil {
		t.Error("DestroyTask without force removed a running task")
	}
	// A new plugin process recovers the task from its handle: still
	// running, with its original start time.
	d2 := newDriver()
	if err := d2.RecoverTask(h); err != nil {
		t.Fatalf("RecoverTask: %v", err)
	}
	st, err := d2.InspectTask("long")
	if err != nil || st.State != plugins.TaskStateRunning {
		t.Fatalf("recovered task = %+v, %v", st, err)
	}
	orig, _ := d.InspectTask("long")
	if !st.StartedAt.Equal(orig.StartedAt) {
		t.Errorf("recovered StartedAt %v, want %v", st.StartedAt, orig.StartedAt)
	}
	if err := d.StopTask("long", time.Second, ""); err != nil {
		t.Fatal(err)
	}
	res, err := d.WaitTask(context.Background(), "long")
	if err != nil || res.Signal != 15 {
		t.Errorf("WaitTask after stop = %+v, %v", res, err)
	}
	if err := d2.DestroyTask("long", true); err != nil {
		t.Errorf("forced DestroyTask: %v", err)
	}
	// A task whose time ran out while no plugin watched ends at once.
	short, _ := startTask(t, d, "short", `{"duration":"1ms"}`)
	d3 := newDriver()
	if err := d3.RecoverTask(short); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if res, err := d3.WaitTask(ctx, "short"); err != nil || !res.Successful() {
		t.Errorf("WaitTask of recovered finished task = %+v, %v", res, err)
	}
}
