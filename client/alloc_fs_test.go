// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
)

// testAllocDir lays out an allocation directory with the symlinks a
// hostile task could leave: out of the directory (absolute, relative),
// and harmless ones inside it.
func testAllocDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "alloc-1")
	for _, d := range []string{"alloc/logs", "web/local", "web/secrets"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"alloc/logs/web.stdout.0": "line one\nline two\n",
		"web/local/config.txt":    "0123456789",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"web/local/etc":       "/etc",
		"web/local/up":        "../../..",
		"web/local/passwd":    "../../../../../../../../etc/passwd",
		"web/local/cfg":       "config.txt",
		"web/local/logs":      "../../alloc/logs",
		"web/local/self":      filepath.Join(dir, "web/local/config.txt"),
		"web/local/loop":      "loop",
		"web/local/via-etc":   "etc/hostname",
		"web/local/dangling":  "missing/file",
		"web/local/dotdotout": "missing/../../../../..",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAllocFSResolve(t *testing.T) {
	f := NewAllocFS(testAllocDir(t))
	tests := []struct {
		path    string
		want    string
		wantErr error
	}{
		{"/", ".", nil},
		{"", ".", nil},
		{"alloc/logs", "alloc/logs", nil},
		{"/web/local/config.txt", "web/local/config.txt", nil},
		{"web/local/../local/./config.txt", "web/local/config.txt", nil},
		{"web/local/cfg", "web/local/config.txt", nil},
		{"web/local/logs/web.stdout.0", "alloc/logs/web.stdout.0", nil},
		{"web/local/self", "web/local/config.txt", nil},
		{"/etc/passwd", "etc/passwd", nil}, // the allocation's etc, not the host's
		{"..", "", ErrPathEscapes},
		{"../../etc/passwd", "", ErrPathEscapes},
		{"/../etc/passwd", "", ErrPathEscapes},
		{"alloc/../../x", "", ErrPathEscapes},
		{"web/local/etc", "", ErrPathEscapes},
		{"web/local/etc/passwd", "", ErrPathEscapes},
		{"web/local/up", "", ErrPathEscapes},
		{"web/local/up/x", "", ErrPathEscapes},
		{"web/local/passwd", "", ErrPathEscapes},
		{"web/local/via-etc", "", ErrPathEscapes},
		{"web/local/loop", "", errTooManyLinks},
		{"web/local/dangling", "web/local/missing/file", nil},
		{"web/local/dotdotout", "", fs.ErrNotExist},
		{"bad\x00path", "", ErrBadFSRequest},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := f.Resolve(tt.path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve(%q) = %q, %v; want error %v", tt.path, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
			}
		})
	}
}

// answer prepares and writes one request, returning the body.
func answer(t *testing.T, f *AllocFS, method string, req *structs.ClientFSRequest) (string, error) {
	t.Helper()
	ans, err := f.Prepare(method, req)
	if err != nil {
		return "", err
	}
	defer ans.Close()
	var buf bytes.Buffer
	if err := ans.Write(context.Background(), &buf, func() {}); err != nil {
		t.Fatalf("write answer: %v", err)
	}
	return buf.String(), nil
}

func TestAllocFSPrepare(t *testing.T) {
	f := NewAllocFS(testAllocDir(t))
	tests := []struct {
		name     string
		method   string
		req      structs.ClientFSRequest
		want     string
		contains []string
		wantErr  error
	}{
		{"cat", structs.ClientStreamFSCat, structs.ClientFSRequest{Path: "/web/local/config.txt"}, "0123456789", nil, nil},
		{"cat via symlink", structs.ClientStreamFSCat, structs.ClientFSRequest{Path: "web/local/cfg"}, "0123456789", nil, nil},
		{"readat", structs.ClientStreamFSReadAt, structs.ClientFSRequest{Path: "web/local/config.txt", Offset: 2, Limit: 3}, "234", nil, nil},
		{"readat no limit", structs.ClientStreamFSReadAt, structs.ClientFSRequest{Path: "web/local/config.txt", Offset: 7}, "789", nil, nil},
		{"readat past end", structs.ClientStreamFSReadAt, structs.ClientFSRequest{Path: "web/local/config.txt", Offset: 70, Limit: 3}, "", nil, nil},
		{"list", structs.ClientStreamFSList, structs.ClientFSRequest{Path: "/"}, "", []string{`"Name":"alloc","IsDir":true`, `"Name":"web"`}, nil},
		{"list shows links unfollowed", structs.ClientStreamFSList, structs.ClientFSRequest{Path: "web/local"}, "", []string{`"Name":"etc","IsDir":false`, `"FileMode":"Lrwxrwxrwx"`}, nil},
		{"stat file", structs.ClientStreamFSStat, structs.ClientFSRequest{Path: "web/local/config.txt"}, "", []string{`"Name":"config.txt"`, `"Size":10`, `"ContentType":"text/plain; charset=utf-8"`}, nil},
		{"stat root", structs.ClientStreamFSStat, structs.ClientFSRequest{Path: "/"}, "", []string{`"Name":"/","IsDir":true`}, nil},
		{"cat a directory", structs.ClientStreamFSCat, structs.ClientFSRequest{Path: "alloc"}, "", nil, ErrIsDirectory},
		{"cat missing", structs.ClientStreamFSCat, structs.ClientFSRequest{Path: "nope"}, "", nil, fs.ErrNotExist},
		{"cat host passwd", structs.ClientStreamFSCat, structs.ClientFSRequest{Path: "../../../../etc/passwd"}, "", nil, ErrPathEscapes},
		{"cat through link to /etc", structs.ClientStreamFSCat, structs.ClientFSRequest{Path: "web/local/etc/passwd"}, "", nil, ErrPathEscapes},
		{"list link to /etc", structs.ClientStreamFSList, structs.ClientFSRequest{Path: "web/local/etc"}, "", nil, ErrPathEscapes},
		{"stat link out", structs.ClientStreamFSStat, structs.ClientFSRequest{Path: "web/local/up"}, "", nil, ErrPathEscapes},
		{"bad origin", structs.ClientStreamFSStream, structs.ClientFSRequest{Path: "web/local/config.txt", Origin: "middle"}, "", nil, ErrBadFSRequest},
		{"unknown method", "FileSystem.Nope", structs.ClientFSRequest{Path: "web/local/config.txt"}, "", nil, ErrBadFSRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := answer(t, f, tt.method, &tt.req)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.contains == nil && got != tt.want {
				t.Fatalf("body %q, want %q", got, tt.want)
			}
			for _, c := range tt.contains {
				if !strings.Contains(got, c) {
					t.Fatalf("body %s lacks %s", got, c)
				}
			}
		})
	}
}

// syncWriter collects a stream's output for a test that reads it while it
// is written.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// frames decodes the frames written so far.
func (w *syncWriter) frames(t *testing.T) []StreamFrame {
	w.mu.Lock()
	defer w.mu.Unlock()
	dec := json.NewDecoder(bytes.NewReader(w.buf.Bytes()))
	var out []StreamFrame
	for dec.More() {
		var f StreamFrame
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("bad frame in %q: %v", w.buf.String(), err)
		}
		out = append(out, f)
	}
	return out
}

func waitFrames(t *testing.T, w *syncWriter, cond func([]StreamFrame) bool) []StreamFrame {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fr := w.frames(t)
		if cond(fr) {
			return fr
		}
		if time.Now().After(deadline) {
			t.Fatalf("frames %+v never met the condition", fr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func streamData(frames []StreamFrame) string {
	var b strings.Builder
	for _, f := range frames {
		b.Write(f.Data)
	}
	return b.String()
}

func TestAllocFSStream(t *testing.T) {
	old := FSStreamPollInterval
	FSStreamPollInterval = 10 * time.Millisecond
	t.Cleanup(func() { FSStreamPollInterval = old })
	dir := testAllocDir(t)
	f := NewAllocFS(dir)

	t.Run("from the end without follow", func(t *testing.T) {
		got, err := answer(t, f, structs.ClientStreamFSStream, &structs.ClientFSRequest{Path: "web/local/config.txt", Origin: "end", Offset: 4})
		if err != nil {
			t.Fatal(err)
		}
		var fr StreamFrame
		if err := json.Unmarshal([]byte(got), &fr); err != nil || string(fr.Data) != "6789" || fr.Offset != 6 || fr.File != "web/local/config.txt" {
			t.Fatalf("frame %s: %+v %v", got, fr, err)
		}
	})

	t.Run("follow appends, truncation and deletion", func(t *testing.T) {
		path := filepath.Join(dir, "alloc/logs/web.stdout.0")
		ans, err := f.Prepare(structs.ClientStreamFSStream, &structs.ClientFSRequest{Path: "alloc/logs/web.stdout.0", Origin: "start", Follow: true})
		if err != nil {
			t.Fatal(err)
		}
		defer ans.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := &syncWriter{}
		done := make(chan error, 1)
		go func() { done <- ans.Write(ctx, w, func() {}) }()
		waitFrames(t, w, func(fr []StreamFrame) bool { return streamData(fr) == "line one\nline two\n" })

		fh, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fh.WriteString("line three\n")
		fh.Close()
		waitFrames(t, w, func(fr []StreamFrame) bool { return strings.HasSuffix(streamData(fr), "line three\n") })

		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		waitFrames(t, w, func(fr []StreamFrame) bool { return fr[len(fr)-1].FileEvent == FileEventTruncated })
		if err := os.WriteFile(path, []byte("again\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		waitFrames(t, w, func(fr []StreamFrame) bool { return strings.HasSuffix(streamData(fr), "again\n") })

		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		fr := waitFrames(t, w, func(fr []StreamFrame) bool { return fr[len(fr)-1].FileEvent == FileEventDeleted })
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("stream ended with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("stream did not end at deletion: %+v", fr)
		}
	})
}
