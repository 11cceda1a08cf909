// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package execinit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCandidates(t *testing.T) {
	for _, tt := range []struct {
		command string
		env     []string
		want    string
	}{
		{"/bin/sleep", nil, "/bin/sleep"},
		{"local/run.sh", nil, "/local/local/run.sh /local/run.sh"},
		{"app", []string{"PATH=/opt/bin:relative:/usr/bin"}, "/local/app /app /opt/bin/app /usr/bin/app"},
		{"app", []string{"HOME=/"}, "/local/app /app /usr/local/sbin/app /usr/local/bin/app /usr/sbin/app /usr/bin/app /sbin/app /bin/app"},
	} {
		if got := strings.Join(candidates(tt.command, tt.env), " "); got != tt.want {
			t.Errorf("candidates(%q, %v) = %s, want %s", tt.command, tt.env, got, tt.want)
		}
	}
}

func TestMountPoint(t *testing.T) {
	root := t.TempDir()
	got, err := mountPoint(root, "/run/resolvconf", true)
	if err != nil || got != filepath.Join(root, "run", "resolvconf") {
		t.Fatalf("mountPoint = %q, %v", got, err)
	}
	if fi, err := os.Stat(got); err != nil || !fi.IsDir() {
		t.Errorf("mount point directory not made: %v", err)
	}
	file, err := mountPoint(root, "etc/hosts", false)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("mount point file not made: %v", err)
	}
	// A symlink the task planted must not redirect a mount to the host.
	if err := os.Symlink("/", filepath.Join(root, "usr")); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/usr", "/usr/lib"} {
		if _, err := mountPoint(root, target, true); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("mountPoint(%s) through a symlink = %v", target, err)
		}
	}
	if _, err := mountPoint(root, "/", true); err == nil {
		t.Error("mountPoint accepted the root itself")
	}
	if got, err := mountPoint(root, "/../../x", true); err != nil || got != filepath.Join(root, "x") {
		t.Errorf("mountPoint(/../../x) = %q, %v: want it kept inside the root", got, err)
	}
}
