// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/client"
)

// testFSAllocDir lays out an allocation directory with a symlink out of
// it, as a hostile task could leave.
func testFSAllocDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "alloc", "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "web", "local"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "web", "local", "data.txt"), []byte("hello, world\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(dir, "web", "local", "etc")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestAllocFSLocal(t *testing.T) {
	fake := &fakeExecFSClient{allocID: "a1", dir: testFSAllocDir(t)}
	nc := fakeClientAPI(t, fake)
	fs := nc.AllocFS()
	alloc := &nomad.Allocation{ID: "a1"}

	entries, _, err := fs.List(alloc, "/", nil)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
		if !e.IsDir || !strings.HasPrefix(e.FileMode, "d") {
			t.Errorf("entry %+v is not a directory", e)
		}
	}
	if strings.Join(names, ",") != "alloc,web" {
		t.Fatalf("List / = %v", names)
	}

	st, _, err := fs.Stat(alloc, "web/local/data.txt", nil)
	if err != nil || st.Name != "data.txt" || st.Size != 13 || st.IsDir || st.ModTime.IsZero() ||
		!strings.HasPrefix(st.ContentType, "text/plain") {
		t.Fatalf("Stat = %+v, %v", st, err)
	}

	read := func(r io.ReadCloser, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read(fs.Cat(alloc, "/web/local/data.txt", nil)); got != "hello, world\n" {
		t.Fatalf("Cat = %q", got)
	}
	if got := read(fs.ReadAt(alloc, "web/local/data.txt", 7, 5, nil)); got != "world" {
		t.Fatalf("ReadAt = %q", got)
	}

	refused := []struct {
		name string
		call func() error
	}{
		{"cat ../", func() error { _, err := fs.Cat(alloc, "../../../../etc/passwd", nil); return err }},
		{"list ..", func() error { _, _, err := fs.List(alloc, "..", nil); return err }},
		{"cat through symlink to /etc", func() error { _, err := fs.Cat(alloc, "web/local/etc/passwd", nil); return err }},
		{"list symlink to /etc", func() error { _, _, err := fs.List(alloc, "web/local/etc", nil); return err }},
		{"stat absolute .. path", func() error { _, _, err := fs.Stat(alloc, "/../etc/passwd", nil); return err }},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "escapes the allocation directory") {
				t.Fatalf("escape not refused with 400: %v", err)
			}
		})
	}
	// An absolute path names the allocation's own directories.
	if _, err := fs.Cat(alloc, "/etc/passwd", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Cat /etc/passwd reached something: %v", err)
	}
	if _, err := fs.Cat(alloc, "/web", nil); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("Cat of a directory: %v", err)
	}
	if _, _, err := fs.List(&nomad.Allocation{ID: "a2"}, "/", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("List of an unknown allocation: %v", err)
	}
}

func TestAllocFSStreamFollow(t *testing.T) {
	oldPoll, oldBeat := client.FSStreamPollInterval, client.FSStreamHeartbeatInterval
	client.FSStreamPollInterval, client.FSStreamHeartbeatInterval = 10*time.Millisecond, 50*time.Millisecond
	t.Cleanup(func() { client.FSStreamPollInterval, client.FSStreamHeartbeatInterval = oldPoll, oldBeat })
	dir := testFSAllocDir(t)
	fake := &fakeExecFSClient{allocID: "a1", dir: dir}
	nc := fakeClientAPI(t, fake)

	cancel := make(chan struct{})
	defer close(cancel)
	frames, errCh := nc.AllocFS().Stream(&nomad.Allocation{ID: "a1"}, "web/local/data.txt", nomad.OriginStart, 7, cancel, nil)
	next := func() *nomad.StreamFrame {
		t.Helper()
		select {
		case f := <-frames:
			return f
		case err := <-errCh:
			t.Fatalf("stream: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no frame")
		}
		return nil
	}
	if f := next(); string(f.Data) != "world\n" || f.Offset != 7 || f.File != "web/local/data.txt" {
		t.Fatalf("first frame %+v", f)
	}
	fh, err := os.OpenFile(filepath.Join(dir, "web", "local", "data.txt"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fh.WriteString("appended\n")
	fh.Close()
	if f := next(); string(f.Data) != "appended\n" || f.Offset != 13 {
		t.Fatalf("followed frame %+v", f)
	}

	_, errCh = nc.AllocFS().Stream(&nomad.Allocation{ID: "a1"}, "web/local/etc/hostname", nomad.OriginStart, 0, cancel, nil)
	if err := <-errCh; err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("stream through a symlink out: %v", err)
	}
}
