// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package supervise

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// logFiles returns the "<path>.N" files under dir, by name, with contents.
func logFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestLogWriterRotation(t *testing.T) {
	tests := []struct {
		name     string
		existing map[string]string // files present before the writer opens
		maxFiles int
		maxBytes int64
		writes   []string
		want     map[string]string
	}{
		{
			name: "fits in one file", maxFiles: 3, maxBytes: 10,
			writes: []string{"hello", "hello"},
			want:   map[string]string{"out.0": "hellohello"},
		},
		{
			name: "write split at the boundary", maxFiles: 3, maxBytes: 10,
			writes: []string{"0123456", "789abc"},
			want:   map[string]string{"out.0": "0123456789", "out.1": "abc"},
		},
		{
			name: "oldest files deleted", maxFiles: 3, maxBytes: 10,
			writes: []string{"0123456789abcdefghijklmnopqrstuvwxyz"},
			want:   map[string]string{"out.1": "abcdefghij", "out.2": "klmnopqrst", "out.3": "uvwxyz"},
		},
		{
			name: "exactly full file rotates on next write only", maxFiles: 3, maxBytes: 4,
			writes: []string{"abcd"},
			want:   map[string]string{"out.0": "abcd"},
		},
		{
			name:     "continues the highest existing index",
			existing: map[string]string{"out.2": "ab", "out.10": "xy", "out.9": "full"},
			maxFiles: 5, maxBytes: 4,
			writes: []string{"zw"},
			want:   map[string]string{"out.9": "full", "out.10": "xyzw"},
		},
		{
			name:     "full existing file moves to the next index",
			existing: map[string]string{"out.4": "full"},
			maxFiles: 2, maxBytes: 4,
			writes: []string{"new"},
			want:   map[string]string{"out.4": "full", "out.5": "new"},
		},
		{
			name:     "ignores files that are not log indexes",
			existing: map[string]string{"out.x": "?", "out.01": "?", "other.3": "?"},
			maxFiles: 2, maxBytes: 4,
			writes: []string{"a"},
			want:   map[string]string{"out.x": "?", "out.01": "?", "other.3": "?", "out.0": "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.existing {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w, err := NewLogWriter(filepath.Join(dir, "out"), tt.maxFiles, tt.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.writes {
				n, err := w.Write([]byte(s))
				if err != nil || n != len(s) {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := logFiles(t, dir); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("files = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLogWriterReopenContinues(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.stdout")
	for i, s := range []string{"abcdef", "ghij"} {
		w, err := NewLogWriter(path, 10, 4)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	want := map[string]string{"web.stdout.0": "abcd", "web.stdout.1": "efgh", "web.stdout.2": "ij"}
	if got := logFiles(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("files = %v, want %v", got, want)
	}
}

func TestLogWriterClosed(t *testing.T) {
	w, err := NewLogWriter(filepath.Join(t.TempDir(), "out"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if w.maxFiles != DefaultLogMaxFiles || w.maxBytes != DefaultLogMaxFileBytes {
		t.Errorf("defaults = %d files of %d bytes", w.maxFiles, w.maxBytes)
	}
	w.Close()
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
}
