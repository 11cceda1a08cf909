// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/plugins"
)

func TestExecInContainer(t *testing.T) {
	d := newDriver(t)
	cfg := taskConfig(t, "t1", "sleep", "1000")
	cfg.Env["GREETING"] = "hello"
	start(t, d, cfg)

	tests := []struct {
		name     string
		cmd      []string
		tty      bool
		stdin    string
		wantOut  string
		wantErr  string
		wantCode int
	}{
		{"echo", []string{"echo", "hi"}, false, "", "hi\n", "", 0},
		{"exit code and stderr", []string{"sh", "-c", "echo oops >&2; exit 5"}, false, "", "", "oops\n", 5},
		{"env", []string{"sh", "-c", "echo $GREETING"}, false, "", "hello\n", "", 0},
		{"stdin", []string{"cat"}, false, "abc", "abc", "", 0},
		{"tty", []string{"sh", "-c", "test -t 0 && echo tty"}, true, "", "tty\r\n", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			var stdin io.Reader
			if tt.stdin != "" {
				stdin = strings.NewReader(tt.stdin)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code, err := d.ExecTask(ctx, "t1", tt.cmd, tt.tty, stdin, &out, &errOut, nil)
			if err != nil {
				t.Fatalf("ExecTask: %v", err)
			}
			if code != tt.wantCode || out.String() != tt.wantOut || errOut.String() != tt.wantErr {
				t.Errorf("ExecTask = %d, %q, %q; want %d, %q, %q", code, out.String(), errOut.String(), tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
	if _, err := d.ExecTask(context.Background(), "nope", []string{"ls"}, false, nil, nil, nil, nil); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("ExecTask(nope) = %v, want ErrTaskNotFound", err)
	}
}

func TestSignalAndStatsInContainer(t *testing.T) {
	d := launchPlugin(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.1; done`)
	start(t, d, cfg)
	eventually(t, "ready", func() bool { return readFile(cfg.StdoutPath+".0") == "ready\n" })

	if err := d.SignalTask("t1", "USR1"); err != nil {
		t.Fatalf("SignalTask: %v", err)
	}
	eventually(t, "trap output", func() bool { return strings.Contains(readFile(cfg.StdoutPath+".0"), "got-usr1") })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := d.TaskStats(ctx, "t1", 200*time.Millisecond)
	if err != nil {
		t.Fatalf("TaskStats: %v", err)
	}
	for range 2 {
		select {
		case u := <-ch:
			if u == nil {
				t.Fatal("stats stream closed")
			}
			mem := u.ResourceUsage.MemoryStats
			if mem.Usage == 0 || mem.MaxUsage == 0 || u.Timestamp == 0 {
				t.Errorf("sample memory = %+v", mem)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("no stats sample")
		}
	}

	var out bytes.Buffer
	code, err := d.ExecTask(context.Background(), "t1", []string{"sh", "-c", "echo hi; exit 2"}, false, nil, &out, io.Discard, nil)
	if err != nil || code != 2 || out.String() != "hi\n" {
		t.Errorf("ExecTask over the plugin = %d, %v, %q", code, err, out.String())
	}
	caps, err := d.Capabilities()
	if err != nil || caps.FSIsolation != plugins.FSIsolationImage {
		t.Errorf("Capabilities = %+v, %v", caps, err)
	}
}
