// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package artifact

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/droverhq/drover/structs"
)

type entry struct {
	name, body, link string
	typ              byte // tar type; zip uses the same letters
}

func makeTar(t *testing.T, gz bool, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w *tar.Writer
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = tar.NewWriter(zw)
	} else {
		w = tar.NewWriter(&buf)
	}
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o755, Linkname: e.link, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := w.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := w.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func makeZip(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		fh := &zip.FileHeader{Name: e.name}
		body := e.body
		switch e.typ {
		case tar.TypeSymlink:
			fh.SetMode(fs.ModeSymlink | 0o777)
			body = e.link
		case tar.TypeDir:
			fh.SetMode(fs.ModeDir | 0o755)
		default:
			fh.SetMode(0o644)
		}
		f, err := w.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sandbox returns a task dir inside a parent dir, and the parent, so tests
// can check that nothing appeared beside the task dir.
func sandbox(t *testing.T) (taskDir, parent string) {
	parent = t.TempDir()
	taskDir = filepath.Join(parent, "task")
	if err := os.MkdirAll(filepath.Join(taskDir, "local"), 0o755); err != nil {
		t.Fatal(err)
	}
	return taskDir, parent
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFetchHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Token") != "secret" {
			http.Error(w, "no token", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte("hello from http"))
	}))
	defer srv.Close()
	taskDir, _ := sandbox(t)
	a := &structs.TaskArtifact{GetterSource: srv.URL + "/files/hello.txt", GetterHeaders: map[string]string{"X-Token": "secret"}}
	if err := (&Fetcher{}).Fetch(context.Background(), a, taskDir); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(taskDir, "local", "hello.txt")); got != "hello from http" {
		t.Fatalf("content %q", got)
	}
	a.GetterHeaders = nil
	err := (&Fetcher{}).Fetch(context.Background(), a, taskDir)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("want a 403 error, got %v", err)
	}
}

func TestFetchLocalAndChecksum(t *testing.T) {
	srcDir := t.TempDir()
	src := filepath.Join(srcDir, "app.bin")
	if err := os.WriteFile(src, []byte("binary"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("binary"))
	good := "sha256:" + hex.EncodeToString(sum[:])
	bad := "sha256:" + strings.Repeat("0", 64)
	cases := []struct {
		name    string
		a       structs.TaskArtifact
		path    string // expected file, relative to the task dir
		wantErr string
	}{
		{"absolute path", structs.TaskArtifact{GetterSource: src}, "local/app.bin", ""},
		{"file url", structs.TaskArtifact{GetterSource: "file://" + src, RelativeDest: "local/bin"}, "local/bin/app.bin", ""},
		{"checksum ok", structs.TaskArtifact{GetterSource: src, GetterOptions: map[string]string{"checksum": good}}, "local/app.bin", ""},
		{"checksum md5 mismatch", structs.TaskArtifact{GetterSource: src, GetterOptions: map[string]string{"checksum": "md5:" + strings.Repeat("a", 32)}}, "", "checksum mismatch"},
		{"checksum mismatch", structs.TaskArtifact{GetterSource: src, GetterOptions: map[string]string{"checksum": bad}}, "", "checksum mismatch"},
		{"checksum bad type", structs.TaskArtifact{GetterSource: src, GetterOptions: map[string]string{"checksum": "crc:00"}}, "", "not supported"},
		{"mode file", structs.TaskArtifact{GetterSource: src, GetterMode: "file", RelativeDest: "local/renamed"}, "local/renamed", ""},
		{"mode dir needs archive", structs.TaskArtifact{GetterSource: src, GetterMode: "dir"}, "", "needs an archive"},
		{"absolute dest rooted in task dir", structs.TaskArtifact{GetterSource: src, RelativeDest: "/local/abs"}, "local/abs/app.bin", ""},
		{"escaping dest", structs.TaskArtifact{GetterSource: src, RelativeDest: "../../etc"}, "", "escapes the task directory"},
		{"unknown option", structs.TaskArtifact{GetterSource: src, GetterOptions: map[string]string{"aws_access_key_id": "x"}}, "", "not supported"},
		{"unsupported scheme", structs.TaskArtifact{GetterSource: "git::https://example.com/r.git"}, "", "not supported"},
		{"missing file", structs.TaskArtifact{GetterSource: filepath.Join(srcDir, "nope")}, "", "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			taskDir, parent := sandbox(t)
			err := (&Fetcher{}).Fetch(context.Background(), &c.a, taskDir)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				assertOnlyTaskDir(t, parent)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, filepath.Join(taskDir, c.path)); got != "binary" {
				t.Fatalf("content %q", got)
			}
		})
	}
}

// assertOnlyTaskDir checks that the parent of the task dir holds nothing
// else and that no temporary download files are left in the task dir.
func assertOnlyTaskDir(t *testing.T, parent string) {
	t.Helper()
	ents, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "task" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("written outside the task dir: %v", names)
	}
	tmps, _ := filepath.Glob(filepath.Join(parent, "task", ".artifact-*"))
	if len(tmps) != 0 {
		t.Fatalf("temporary files left: %v", tmps)
	}
}

func TestFetchArchives(t *testing.T) {
	files := []entry{
		{name: "bin/", typ: tar.TypeDir},
		{name: "bin/app", body: "app", typ: tar.TypeReg},
		{name: "link", link: "bin/app", typ: tar.TypeSymlink},
		{name: "README", body: "readme", typ: tar.TypeReg},
	}
	cases := []struct {
		name string
		file string
		data []byte
		opts map[string]string
		mode string
	}{
		{"tar", "pkg.tar", makeTar(t, false, files), nil, ""},
		{"tar.gz", "pkg.tar.gz", makeTar(t, true, files), nil, ""},
		{"tgz dir mode", "pkg.tgz", makeTar(t, true, files), nil, "dir"},
		{"zip", "pkg.zip", makeZip(t, files), nil, ""},
		{"archive option overrides name", "download", makeTar(t, true, files), map[string]string{"archive": "tgz"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), c.file)
			if err := os.WriteFile(src, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			taskDir, _ := sandbox(t)
			a := &structs.TaskArtifact{GetterSource: src, RelativeDest: "local/pkg", GetterOptions: c.opts, GetterMode: c.mode}
			if err := (&Fetcher{}).Fetch(context.Background(), a, taskDir); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(taskDir, "local", "pkg")
			if got := readFile(t, filepath.Join(dir, "bin", "app")); got != "app" {
				t.Fatalf("bin/app = %q", got)
			}
			if got := readFile(t, filepath.Join(dir, "link")); got != "app" {
				t.Fatalf("link = %q", got)
			}
			if got := readFile(t, filepath.Join(dir, "README")); got != "readme" {
				t.Fatalf("README = %q", got)
			}
		})
	}

	t.Run("archive false keeps the file", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "pkg.tar")
		if err := os.WriteFile(src, makeTar(t, false, files), 0o644); err != nil {
			t.Fatal(err)
		}
		taskDir, _ := sandbox(t)
		a := &structs.TaskArtifact{GetterSource: src, GetterOptions: map[string]string{"archive": "false"}}
		if err := (&Fetcher{}).Fetch(context.Background(), a, taskDir); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(taskDir, "local", "pkg.tar")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestHostileArchivesRefused(t *testing.T) {
	cases := []struct {
		name    string
		entries []entry
		entry   string // the entry the error must name
	}{
		{"dot dot", []entry{{name: "../evil", body: "x", typ: tar.TypeReg}}, "../evil"},
		{"nested dot dot", []entry{{name: "a/../../evil", body: "x", typ: tar.TypeReg}}, "a/../../evil"},
		{"absolute", []entry{{name: "/tmp/evil", body: "x", typ: tar.TypeReg}}, "/tmp/evil"},
		{"symlink absolute", []entry{{name: "l", link: "/etc", typ: tar.TypeSymlink}}, "l"},
		{"symlink outside", []entry{{name: "d/l", link: "../../..", typ: tar.TypeSymlink}}, "d/l"},
		{"symlink climbing after a name", []entry{
			{name: "a", link: ".", typ: tar.TypeSymlink},
			{name: "l", link: "a/../x", typ: tar.TypeSymlink},
		}, "l"},
		{"symlink then write through it", []entry{
			{name: "a", link: ".", typ: tar.TypeSymlink},
			{name: "a/l", link: "../evil", typ: tar.TypeSymlink},
		}, "a/l"},
		{"hard link outside", []entry{{name: "h", link: "../../evil", typ: tar.TypeLink}}, "h"},
		{"hard link absolute", []entry{{name: "h", link: "/etc/passwd", typ: tar.TypeLink}}, "h"},
	}
	for _, c := range cases {
		for _, format := range []string{"tar.gz", "zip"} {
			if format == "zip" && c.entries[len(c.entries)-1].typ == tar.TypeLink {
				continue // zip has no hard links
			}
			t.Run(c.name+"/"+format, func(t *testing.T) {
				var data []byte
				if format == "zip" {
					data = makeZip(t, c.entries)
				} else {
					data = makeTar(t, true, c.entries)
				}
				src := filepath.Join(t.TempDir(), "evil."+format)
				if err := os.WriteFile(src, data, 0o644); err != nil {
					t.Fatal(err)
				}
				taskDir, parent := sandbox(t)
				a := &structs.TaskArtifact{GetterSource: src}
				err := (&Fetcher{}).Fetch(context.Background(), a, taskDir)
				if err == nil || !strings.Contains(err.Error(), "\""+c.entry+"\"") {
					t.Fatalf("error %v, want one naming %q", err, c.entry)
				}
				assertOnlyTaskDir(t, parent)
				if _, err := os.Lstat(filepath.Join(taskDir, "evil")); err == nil {
					t.Fatal("evil written into the task dir root")
				}
			})
		}
	}
}

// A symlink the task left in its directory must not let an artifact write
// outside.
func TestFetchDoesNotFollowEscapingSymlink(t *testing.T) {
	taskDir, parent := sandbox(t)
	outside := filepath.Join(parent, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(taskDir, "local", "out")); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &structs.TaskArtifact{GetterSource: src, RelativeDest: "local/out"}
	if err := (&Fetcher{}).Fetch(context.Background(), a, taskDir); err == nil {
		t.Fatal("fetch through an escaping symlink succeeded")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("written outside: %v", ents)
	}
}
