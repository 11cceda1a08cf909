// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package logstream

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func writeLogs(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func collect(t *testing.T, ls *stream, origin string, offset int64) string {
	t.Helper()
	var sb strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := ls.run(ctx, origin, offset, func(data []byte, file string, off int64) error {
		sb.Write(data)
		return nil
	}, func() error { return nil }, func() {})
	if err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

func TestLogStreamAcrossRotatedFiles(t *testing.T) {
	dir := t.TempDir()
	writeLogs(t, dir, map[string]string{
		"web.stdout.0":     "first\n",
		"web.stdout.1":     "second\n",
		"web.stdout.10":    "tenth\n", // numeric order, not lexical
		"web.stderr.0":     "other stream\n",
		".web.stdout.fifo": "",
	})
	ls := &stream{dir: dir, base: "web.stdout", done: func() bool { return true }}
	tests := []struct {
		origin string
		offset int64
		want   string
	}{
		{"start", 0, "first\nsecond\ntenth\n"},
		{"start", 3, "st\nsecond\ntenth\n"},
		{"start", 6, "second\ntenth\n"},
		{"start", 1000, ""},
		{"end", 0, ""},
		{"end", 6, "tenth\n"},
		{"end", 9, "nd\ntenth\n"},
		{"end", 1000, "first\nsecond\ntenth\n"},
	}
	for _, tt := range tests {
		if got := collect(t, ls, tt.origin, tt.offset); got != tt.want {
			t.Errorf("origin=%s offset=%d: got %q, want %q", tt.origin, tt.offset, got, tt.want)
		}
	}
}

func TestLogStreamFollowsUntilDone(t *testing.T) {
	dir := t.TempDir()
	writeLogs(t, dir, map[string]string{"t.stdout.0": "a"})
	var finished atomic.Bool
	ls := &stream{dir: dir, base: "t.stdout", follow: true, done: finished.Load}
	go func() {
		time.Sleep(100 * time.Millisecond)
		f, _ := os.OpenFile(filepath.Join(dir, "t.stdout.0"), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("b")
		f.Close()
		time.Sleep(100 * time.Millisecond)
		writeLogs(t, dir, map[string]string{"t.stdout.1": "c"}) // rotation
		time.Sleep(300 * time.Millisecond)
		finished.Store(true)
	}()
	if got := collect(t, ls, "start", 0); got != "abc" {
		t.Fatalf("followed %q, want %q", got, "abc")
	}
}

func TestLogStreamNoFiles(t *testing.T) {
	ls := &stream{dir: filepath.Join(t.TempDir(), "missing"), base: "t.stdout", done: func() bool { return true }}
	if got := collect(t, ls, "end", 10); got != "" {
		t.Fatalf("got %q", got)
	}
}

func TestStreamFramesAndValidation(t *testing.T) {
	alloc := t.TempDir()
	logs := filepath.Join(alloc, "alloc", "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	writeLogs(t, logs, map[string]string{"web.stderr.0": "oops\n"})
	var out strings.Builder
	req := &Request{AllocID: "a", Task: "web", Type: "stderr", Origin: "start"}
	if err := Stream(context.Background(), alloc, req, &out, func() {}, func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	if out.String() != `{"Data":"b29wcwo=","File":"alloc/logs/web.stderr.0"}` {
		t.Fatalf("frames: %s", out.String())
	}
	out.Reset()
	req.Plain = true
	if err := Stream(context.Background(), alloc, req, &out, func() {}, func() bool { return true }); err != nil || out.String() != "oops\n" {
		t.Fatalf("plain: %q %v", out.String(), err)
	}
	for _, bad := range []Request{
		{Task: "", Type: "stdout", Origin: "start"},
		{Task: "../x", Type: "stdout", Origin: "start"},
		{Task: "web", Type: "stdin", Origin: "start"},
		{Task: "web", Type: "stdout", Origin: "middle"},
		{Task: "web", Type: "stdout", Origin: "end", Offset: -1},
	} {
		if err := Stream(context.Background(), alloc, &bad, &out, func() {}, func() bool { return true }); err == nil {
			t.Errorf("request %+v accepted", bad)
		}
	}
}
