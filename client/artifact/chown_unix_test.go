// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build unix

package artifact

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/droverhq/drover/structs"
)

func TestFetchChown(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("chown test needs root: run the client tests as root (as CI does)")
	}
	src := filepath.Join(t.TempDir(), "pkg.tar")
	if err := os.WriteFile(src, makeTar(t, false, []entry{{name: "a/b", body: "x", typ: tar.TypeReg}}), 0o644); err != nil {
		t.Fatal(err)
	}
	taskDir, _ := sandbox(t)
	f := &Fetcher{Owner: &Owner{UID: 4242, GID: 4343}}
	if err := f.Fetch(context.Background(), &structs.TaskArtifact{GetterSource: src, RelativeDest: "local/pkg", Chown: true}, taskDir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"local/pkg", "local/pkg/a", "local/pkg/a/b"} {
		fi, err := os.Lstat(filepath.Join(taskDir, p))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 4242 || st.Gid != 4343 {
			t.Fatalf("%s owned by %d:%d", p, st.Uid, st.Gid)
		}
	}
	if fi, _ := os.Lstat(filepath.Join(taskDir, "local")); fi.Sys().(*syscall.Stat_t).Uid == 4242 {
		t.Fatal("chown reached beyond the artifact")
	}
}
