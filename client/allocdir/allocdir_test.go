// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package allocdir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLayout(t *testing.T) {
	root := t.TempDir()
	d := New(root, "a1")
	if err := d.Build(); err != nil {
		t.Fatal(err)
	}
	td := d.TaskDir("web")
	if err := td.Build(); err != nil {
		t.Fatal(err)
	}
	// Building twice must be harmless (agent restart).
	if err := d.Build(); err != nil {
		t.Fatal(err)
	}
	if err := td.Build(); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		rel  string
		perm os.FileMode
	}{
		{"alloc", 0o755},
		{"alloc/logs", 0o755},
		{"alloc/data", 0o777},
		{"alloc/tmp", 0o777},
		{"web/local", 0o777},
		{"web/tmp", 0o777},
		{"web/secrets", 0o700},
	}
	for _, c := range cases {
		t.Run(c.rel, func(t *testing.T) {
			fi, err := os.Stat(filepath.Join(root, "a1", c.rel))
			if err != nil {
				t.Fatal(err)
			}
			if !fi.IsDir() {
				t.Fatalf("%s is not a directory", c.rel)
			}
			if got := fi.Mode().Perm(); got != c.perm {
				t.Fatalf("%s mode = %v, want %v", c.rel, got, c.perm)
			}
		})
	}
	if got, want := d.LogPath("web", "stdout"), filepath.Join(root, "a1", "alloc", "logs", "web.stdout"); got != want {
		t.Fatalf("LogPath = %q, want %q", got, want)
	}
	if err := d.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
		t.Fatalf("alloc dir still there after Destroy: %v", err)
	}
}
