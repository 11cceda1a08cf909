// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package execio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/plugins"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdin    io.Reader
		tty      bool
		wantOut  string
		wantErr  string
		wantCode int
	}{
		{"echo", []string{"echo", "hi"}, nil, false, "hi\n", "", 0},
		{"exit code", []string{"sh", "-c", "echo oops >&2; exit 7"}, nil, false, "", "oops\n", 7},
		{"stdin", []string{"cat"}, strings.NewReader("abc"), false, "abc", "", 0},
		{"signal", []string{"sh", "-c", "kill -9 $$"}, nil, false, "", "", 137},
		{"tty", []string{"sh", "-c", "test -t 0 && echo tty"}, nil, true, "tty\r\n", "", 0},
		{"no tty", []string{"sh", "-c", "test -t 0 || echo notty"}, nil, false, "notty\n", "", 0},
		{"background child holds output", []string{"sh", "-c", "sleep 30 & echo started"}, nil, false, "started\n", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			cmd := exec.Command(tt.args[0], tt.args[1:]...)
			code, err := Run(context.Background(), cmd, tt.tty, tt.stdin, &out, &errOut, nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if code != tt.wantCode || out.String() != tt.wantOut || errOut.String() != tt.wantErr {
				t.Errorf("Run = %d, %q, %q; want %d, %q, %q", code, out.String(), errOut.String(), tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}

func TestRunTTYResize(t *testing.T) {
	resize := make(chan plugins.TerminalSize, 1)
	resize <- plugins.TerminalSize{Height: 33, Width: 77}
	var out bytes.Buffer
	// Poll until the resize has landed, then print the size.
	cmd := exec.Command("sh", "-c", `for i in $(seq 100); do s=$(stty size); [ "$s" = "33 77" ] && break; sleep 0.05; done; echo "$s"`)
	code, err := Run(context.Background(), cmd, true, nil, &out, nil, resize)
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v", code, err)
	}
	if got := strings.TrimSpace(out.String()); got != "33 77" {
		t.Errorf("stty size = %q, want 33 77", got)
	}
}

func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		_, err := Run(ctx, exec.Command("sleep", "60"), false, pr, io.Discard, io.Discard, nil)
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond) // let it start; the result does not depend on it
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run error = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
