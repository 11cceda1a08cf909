// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/client/allocdir"
	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/structs"
)

func TestPayloadHook(t *testing.T) {
	tests := []struct {
		name     string
		file     string // "" means no dispatch_payload block
		payload  string
		wantPath string
		wantErr  string
	}{
		{"written to local", "input.json", `{"a": 1}`, "input.json", ""},
		{"nested directory", "conf/in.txt", "hello", "conf/in.txt", ""},
		{"no block", "", "ignored", "", ""},
		{"no payload", "input.json", "", "", ""},
		{"escape", "../../escape", "x", "", "escapes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			alloc := clienttest.Alloc(structs.JobTypeBatch, map[string]any{})
			alloc.Job.Payload = []byte(tc.payload)
			task := alloc.Job.TaskGroups[0].Tasks[0]
			if tc.file != "" {
				task.DispatchPayload = &structs.DispatchPayloadConfig{File: tc.file}
			}
			ad := allocdir.New(t.TempDir(), alloc.ID)
			td := ad.TaskDir(task.Name)
			if err := ad.Build(); err != nil {
				t.Fatal(err)
			}
			if err := td.Build(); err != nil {
				t.Fatal(err)
			}
			req := &HookRequest{Alloc: alloc, Task: task, AllocDir: ad, TaskDir: td}
			err := (&payloadHook{}).Prestart(context.Background(), req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(td.LocalDir)
			if tc.wantPath == "" {
				if len(entries) != 0 {
					t.Fatalf("local/ has %d entries, want none", len(entries))
				}
				return
			}
			b, err := os.ReadFile(filepath.Join(td.LocalDir, tc.wantPath))
			if err != nil || string(b) != tc.payload {
				t.Fatalf("payload file %q (%v), want %q", b, err, tc.payload)
			}
		})
	}
}

// TestPayloadBeforeStart checks the default hooks write the payload before
// the driver starts the task.
func TestPayloadBeforeStart(t *testing.T) {
	alloc := clienttest.Alloc(structs.JobTypeBatch, map[string]any{"run_for": "1ms"})
	alloc.Job.Payload = []byte("dispatched")
	task := alloc.Job.TaskGroups[0].Tasks[0]
	task.DispatchPayload = &structs.DispatchPayloadConfig{File: "in.txt"}
	driver := clienttest.NewDriver()
	tr := New(Config{Alloc: alloc, Task: task, AllocDir: allocdir.New(t.TempDir(), alloc.ID), Driver: driver})
	go tr.Run()
	select {
	case <-tr.WaitCh():
	case <-time.After(5 * time.Second):
		t.Fatal("task runner did not finish")
	}
	started := driver.Started()
	if len(started) != 1 {
		t.Fatalf("%d starts", len(started))
	}
	b, err := os.ReadFile(filepath.Join(started[0].TaskDir, "local", "in.txt"))
	if err != nil || string(b) != "dispatched" {
		t.Fatalf("payload %q (%v)", b, err)
	}
}
