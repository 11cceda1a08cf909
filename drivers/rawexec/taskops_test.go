// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package rawexec

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

func TestSignalTask(t *testing.T) {
	d := newDriver(t, true)
	cfg := taskConfig(t, "t1", "sh", "-c", `trap 'echo got-hup; exit 0' HUP; echo ready; while :; do sleep 0.02; done`)
	start(t, d, cfg)
	eventually(t, "ready", func() bool { return readFile(cfg.StdoutPath+".0") == "ready\n" })

	if err := d.SignalTask("t1", "SIGBOGUS"); err == nil || !strings.Contains(err.Error(), "unknown signal") {
		t.Errorf("SignalTask(SIGBOGUS) = %v, want unknown signal", err)
	}
	if err := d.SignalTask("nope", "HUP"); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("SignalTask(nope) = %v, want ErrTaskNotFound", err)
	}
	if err := d.SignalTask("t1", "HUP"); err != nil {
		t.Fatalf("SignalTask: %v", err)
	}
	if res := waitTask(t, d, "t1"); !res.Successful() {
		t.Errorf("exit = %+v, want success", res)
	}
	if got := readFile(cfg.StdoutPath + ".0"); got != "ready\ngot-hup\n" {
		t.Errorf("stdout = %q", got)
	}
}

func TestTaskStats(t *testing.T) {
	d := newDriver(t, true)
	// A busy child in the task's group, to see CPU and a second pid.
	cfg := taskConfig(t, "t1", "sh", "-c", `(while :; do :; done) & while [ ! -e stop ]; do sleep 0.02; done; kill $!`)
	start(t, d, cfg)
	st, err := d.InspectTask("t1")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := d.TaskStats(context.Background(), "nope", time.Second); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("TaskStats(nope) = %v, want ErrTaskNotFound", err)
	}
	ch, err := d.TaskStats(context.Background(), "t1", 100*time.Millisecond)
	if err != nil {
		t.Fatalf("TaskStats: %v", err)
	}
	deadline := time.After(20 * time.Second)
	for {
		var u *plugins.TaskResourceUsage
		select {
		case u = <-ch:
		case <-deadline:
			t.Fatal("no sample with two processes and CPU use")
		}
		if u == nil {
			t.Fatal("stream closed while the task runs")
		}
		// From the task's cgroup, RSS is anonymous memory only, which a
		// shell that has just started may not have yet: Usage counts.
		if mem := u.ResourceUsage.MemoryStats; mem.RSS == 0 && mem.Usage == 0 || u.Timestamp == 0 {
			t.Fatalf("sample = %+v", u.ResourceUsage.MemoryStats)
		}
		if _, ok := u.Pids[st.DriverAttributes["pid"]]; !ok {
			t.Fatalf("task pid %s not in %v", st.DriverAttributes["pid"], u.Pids)
		}
		if len(u.Pids) >= 2 && u.ResourceUsage.CpuStats.Percent > 10 {
			break
		}
	}

	touch(t, filepath.Join(cfg.TaskDir, "stop"))
	waitTask(t, d, "t1")
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("stream not closed after the task exited")
		}
	}
}

func TestExecTask(t *testing.T) {
	d := newDriver(t, true)
	cfg := taskConfig(t, "t1", "sleep", "60")
	cfg.Env["GREETING"] = "hello"
	start(t, d, cfg)

	tests := []struct {
		name     string
		cmd      []string
		tty      bool
		stdin    io.Reader
		wantOut  string
		wantCode int
	}{
		{"echo", []string{"echo", "hi"}, false, nil, "hi\n", 0},
		{"exit code", []string{"sh", "-c", "exit 4"}, false, nil, "", 4},
		{"task dir and env", []string{"sh", "-c", `echo "$(pwd) $GREETING"`}, false, nil, cfg.TaskDir + " hello\n", 0},
		{"stdin", []string{"cat"}, false, strings.NewReader("in"), "in", 0},
		{"tty", []string{"sh", "-c", "test -t 1 && echo tty"}, true, nil, "tty\r\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code, err := d.ExecTask(context.Background(), "t1", tt.cmd, tt.tty, tt.stdin, &out, io.Discard, nil)
			if err != nil {
				t.Fatalf("ExecTask: %v", err)
			}
			if code != tt.wantCode || out.String() != tt.wantOut {
				t.Errorf("ExecTask = %d, %q; want %d, %q", code, out.String(), tt.wantCode, tt.wantOut)
			}
		})
	}

	if _, err := d.ExecTask(context.Background(), "t1", []string{"no-such-command"}, false, nil, nil, nil, nil); err == nil ||
		!strings.Contains(err.Error(), "not found") {
		t.Errorf("ExecTask(no-such-command) = %v, want not found", err)
	}
	if _, err := d.ExecTask(context.Background(), "nope", []string{"echo"}, false, nil, nil, nil, nil); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("ExecTask(nope) = %v, want ErrTaskNotFound", err)
	}
}

// Through the plugin process: exec output and exit code, signals and a
// stats sample cross the real transport.
func TestTaskOperationsOverPlugin(t *testing.T) {
	d := launchPlugin(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `trap 'exit 3' TERM; while :; do sleep 0.02; done`)
	if _, err := d.StartTask(cfg); err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	t.Cleanup(func() { d.DestroyTask("t1", true) })

	caps, err := d.Capabilities()
	if err != nil || !caps.Exec || !caps.SendSignals || caps.FSIsolation != plugins.FSIsolationNone {
		t.Errorf("Capabilities = %+v, %v", caps, err)
	}

	var out, errOut bytes.Buffer
	code, err := d.ExecTask(context.Background(), "t1", []string{"sh", "-c", "echo hi; echo err >&2; exit 5"}, false, nil, &out, &errOut, nil)
	if err != nil || code != 5 || out.String() != "hi\n" || errOut.String() != "err\n" {
		t.Errorf("ExecTask = %d, %v, %q, %q", code, err, out.String(), errOut.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	ch, err := d.TaskStats(ctx, "t1", time.Second)
	if err != nil {
		t.Fatalf("TaskStats: %v", err)
	}
	select {
	case u := <-ch:
		if u == nil || u.ResourceUsage.MemoryStats.RSS == 0 {
			t.Errorf("sample = %+v", u)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no stats sample")
	}
	cancel()

	if err := d.SignalTask("t1", "SIGTERM"); err != nil {
		t.Fatalf("SignalTask: %v", err)
	}
	if res := waitTask(t, d, "t1"); res.ExitCode != 3 {
		t.Errorf("exit = %+v, want code 3", res)
	}
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}
