// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package exec

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/plugins"
)

func TestExecInsideTask(t *testing.T) {
	d := newDriver(t)
	cfg := taskConfig(t, "t1", "sleep", "60")
	cfg.Env["GREETING"] = "hello"
	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "local", "marker"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, d, cfg)

	tests := []struct {
		name     string
		cmd      []string
		tty      bool
		stdin    string
		check    func(out string) bool
		wantCode int
	}{
		{"echo", []string{"echo", "hi"}, false, "", func(o string) bool { return o == "hi\n" }, 0},
		{"exit code", []string{"sh", "-c", "exit 6"}, false, "", func(o string) bool { return o == "" }, 6},
		// The chroot: the task dir's local/ is at /local, and the host's
		// files outside the chroot are not there.
		{"ls / shows the chroot", []string{"ls", "/"}, false, "", func(o string) bool {
			return strings.Contains(o, "local\n") && strings.Contains(o, "alloc\n") && !strings.Contains(o, "work\n")
		}, 0},
		{"task files", []string{"cat", "/local/marker"}, false, "", func(o string) bool { return o == "x" }, 0},
		{"env and user", []string{"sh", "-c", `echo "$GREETING $(id -un)"`}, false, "", func(o string) bool { return o == "hello nobody\n" }, 0},
		// The task's PID namespace: sleep is PID 1 there.
		{"pid namespace", []string{"cat", "/proc/1/comm"}, false, "", func(o string) bool { return o == "sleep\n" }, 0},
		{"stdin", []string{"cat"}, false, "in", func(o string) bool { return o == "in" }, 0},
		{"tty", []string{"sh", "-c", "test -t 0 && echo tty"}, true, "", func(o string) bool { return o == "tty\r\n" }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			var stdin io.Reader
			if tt.stdin != "" {
				stdin = strings.NewReader(tt.stdin)
			}
			code, err := d.ExecTask(context.Background(), "t1", tt.cmd, tt.tty, stdin, &out, &errOut, nil)
			if err != nil {
				t.Fatalf("ExecTask: %v", err)
			}
			if code != tt.wantCode || !tt.check(out.String()) {
				t.Errorf("ExecTask = %d, stdout %q, stderr %q", code, out.String(), errOut.String())
			}
		})
	}

	if _, err := d.ExecTask(context.Background(), "t1", []string{"no-such-command"}, false, nil, nil, nil, nil); err == nil {
		t.Error("ExecTask of a missing command succeeded")
	}
	if _, err := d.ExecTask(context.Background(), "nope", []string{"ls"}, false, nil, nil, nil, nil); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("ExecTask(nope) = %v, want ErrTaskNotFound", err)
	}
}

func TestSignalAndStats(t *testing.T) {
	d := newDriver(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `trap 'echo got-usr1' USR1; echo ready; while :; do sleep 0.05; done`)
	start(t, d, cfg)
	eventually(t, "ready", func() bool { return readFile(cfg.StdoutPath+".0") == "ready\n" })

	if err := d.SignalTask("t1", "USR1"); err != nil {
		t.Fatalf("SignalTask: %v", err)
	}
	eventually(t, "trap output", func() bool { return strings.Contains(readFile(cfg.StdoutPath+".0"), "got-usr1") })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := d.TaskStats(ctx, "t1", 100*time.Millisecond)
	if err != nil {
		t.Fatalf("TaskStats: %v", err)
	}
	for range 2 {
		select {
		case u := <-ch:
			mem := u.ResourceUsage.MemoryStats
			if mem.Usage == 0 || u.Timestamp == 0 || u.ResourceUsage.CpuStats == nil {
				t.Errorf("sample = %+v %+v", mem, u.ResourceUsage.CpuStats)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no stats sample")
		}
	}
	if _, err := d.TaskStats(ctx, "nope", time.Second); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("TaskStats(nope) = %v", err)
	}
	caps, _ := d.Capabilities()
	if caps.FSIsolation != plugins.FSIsolationChroot || !caps.Exec {
		t.Errorf("Capabilities = %+v", caps)
	}
}
