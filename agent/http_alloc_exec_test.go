// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/client"
	"github.com/droverhq/drover/drivers/execio"
	"github.com/droverhq/drover/plugins"
)

// fakeExecFSClient stands in for the agent's client: it runs allocation
// allocID, whose directory is dir and whose only task, "web", runs
// commands as real processes on this machine (with a real terminal when
// asked), the way raw_exec does.
type fakeExecFSClient struct {
	allocID string
	dir     string
}

func (f *fakeExecFSClient) AllocDir(allocID string) (string, bool) {
	return f.dir, allocID == f.allocID
}

func (f *fakeExecFSClient) ExecAlloc(ctx context.Context, allocID, task string, cmd []string, tty bool,
	stdin io.Reader, stdout, stderr io.Writer, resize <-chan plugins.TerminalSize) (int, error) {
	switch {
	case allocID != f.allocID:
		return 0, fmt.Errorf("exec in allocation %q: %w", allocID, client.ErrUnknownAlloc)
	case task != "web":
		return 0, fmt.Errorf("exec in allocation %q: %w %q", allocID, client.ErrUnknownTask, task)
	}
	c := exec.Command(cmd[0], cmd[1:]...)
	c.Dir = f.dir
	return execio.Run(ctx, c, tty, stdin, stdout, stderr, resize)
}

func TestAllocExecLocal(t *testing.T) {
	fake := &fakeExecFSClient{allocID: "a1", dir: t.TempDir()}
	nc := fakeClientAPI(t, fake)
	tests := []struct {
		name      string
		alloc     string
		task      string
		cmd       []string
		stdin     string
		wantCode  int
		wantOut   string
		wantErr   string
		wantError string
	}{
		{"echo", "a1", "web", []string{"/bin/sh", "-c", "echo hello; echo oops >&2"}, "", 0, "hello\n", "oops\n", ""},
		{"exit code 3", "a1", "web", []string{"/bin/sh", "-c", "exit 3"}, "", 3, "", "", ""},
		{"stdin to the command", "a1", "web", []string{"/bin/cat"}, "some input", 0, "some input", "", ""},
		{"unknown task", "a1", "db", []string{"/bin/true"}, "", 0, "", "", `unknown task "db"`},
		{"command not found", "a1", "web", []string{"/nonexistent/cmd"}, "", 0, "", "", "exec failed"},
		{"unknown allocation", "a2", "web", []string{"/bin/true"}, "", 0, "", "", "404"},
		{"empty command", "a1", "web", []string{""}, "", 0, "", "", "command is empty"},
		{"no task", "a1", "", []string{"/bin/true"}, "", 0, "", "", "missing task name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out, errOut bytes.Buffer
			code, err := nc.Allocations().Exec(ctx, &nomad.Allocation{ID: tt.alloc}, tt.task, false, tt.cmd,
				strings.NewReader(tt.stdin), &out, &errOut, nil, nil)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("Exec error %v, want it to contain %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if code != tt.wantCode || out.String() != tt.wantOut || errOut.String() != tt.wantErr {
				t.Fatalf("Exec = %d, stdout %q, stderr %q; want %d, %q, %q", code, out.String(), errOut.String(),
					tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer a test may read while exec writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAllocExecTTY runs an interactive shell on a terminal: it sees a
// terminal, gets the size the caller sets, reads typed lines, and its
// exit code comes back.
func TestAllocExecTTY(t *testing.T) {
	fake := &fakeExecFSClient{allocID: "a1", dir: t.TempDir()}
	nc := fakeClientAPI(t, fake)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	sizes := make(chan nomad.TerminalSize, 1)
	sizes <- nomad.TerminalSize{Height: 33, Width: 101}
	out := &lockedBuffer{}
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := nc.Allocations().Exec(ctx, &nomad.Allocation{ID: "a1"}, "web", true,
			[]string{"/bin/sh", "-c", `test -t 0 && test -t 1 && echo is-a-tty; while read line; do [ "$line" = quit ] && exit 4; stty size; done`},
			stdinR, out, io.Discard, sizes, nil)
		done <- result{code, err}
	}()
	// The size may land after the first lines are read: keep asking.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "33 101") {
		if time.Now().After(deadline) {
			t.Fatalf("terminal size never applied; output %q", out.String())
		}
		if _, err := stdinW.Write([]byte("\n")); err != nil {
			t.Fatalf("write stdin: %v (output %q)", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := stdinW.Write([]byte("quit\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.code != 4 {
			t.Fatalf("Exec = %d, %v; output %q", r.code, r.err, out.String())
		}
	case <-ctx.Done():
		t.Fatalf("exec did not end; output %q", out.String())
	}
	if !strings.Contains(out.String(), "is-a-tty") {
		t.Fatalf("the command had no terminal: %q", out.String())
	}
}

func TestAllocExecUnknownAllocOnServer(t *testing.T) {
	_, base := testServerAgent(t)
	nc := officialClient(t, base)
	_, err := nc.Allocations().Exec(context.Background(), &nomad.Allocation{ID: "0b5e0c39-3e4c-4c8e-9c4e-3a7a7e1f1d00"},
		"web", false, []string{"/bin/true"}, strings.NewReader(""), io.Discard, io.Discard, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Exec in an unknown allocation: %v", err)
	}
}
