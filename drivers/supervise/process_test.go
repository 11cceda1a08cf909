// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package supervise

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "supervise", Output: t.Output(), Level: hclog.Debug})
}

// shell starts `sh -c script` in a fresh directory with logs under it.
func shell(t *testing.T, script string, env ...string) (*Process, string) {
	t.Helper()
	dir := t.TempDir()
	p, err := Start(Spec{
		Path: "/bin/sh",
		Args: []string{"-c", script},
		Env:  env,
		Dir:  dir,
		Logs: LogSpec{
			StdoutPath: filepath.Join(dir, "logs", "task.stdout"),
			StderrPath: filepath.Join(dir, "logs", "task.stderr"),
		},
	}, testLogger(t))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		p.Kill()
		p.Close()
	})
	return p, dir
}

func wait(t *testing.T, p *Process) *plugins.ExitResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := p.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return res
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func TestExitResults(t *testing.T) {
	tests := []struct {
		script string
		want   plugins.ExitResult
	}{
		{"exit 0", plugins.ExitResult{}},
		{"exit 3", plugins.ExitResult{ExitCode: 3}},
		{"kill -TERM $$", plugins.ExitResult{ExitCode: 143, Signal: 15}},
		{"kill -KILL $$", plugins.ExitResult{ExitCode: 137, Signal: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			p, _ := shell(t, tt.script)
			if got := wait(t, p); *got != tt.want {
				t.Errorf("exit = %+v, want %+v", *got, tt.want)
			}
			res, at := p.Exit()
			if res == nil || at.Before(p.StartedAt()) {
				t.Errorf("Exit() = %+v at %v, started %v", res, at, p.StartedAt())
			}
		})
	}
}

func TestOutputAndEnv(t *testing.T) {
	p, dir := shell(t, `echo "out $FOO"; echo err >&2; pwd; env | grep -c . >&2`, "FOO=bar", "PATH=/usr/bin:/bin")
	if res := wait(t, p); !res.Successful() {
		t.Fatalf("exit = %+v", res)
	}
	logs := filepath.Join(dir, "logs")
	if got, want := readFile(filepath.Join(logs, "task.stdout.0")), "out bar\n"+dir+"\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	// Only the given variables (plus PWD, which sh sets itself).
	if got := readFile(filepath.Join(logs, "task.stderr.0")); got != "err\n3\n" {
		t.Errorf("stderr = %q, want err and a count of 3 variables", got)
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Start(Spec{Path: filepath.Join(dir, "missing")}, testLogger(t)); err == nil {
		t.Error("started a missing executable")
	}
	if _, err := Start(Spec{Path: "/bin/true", User: "no-such-user-drover"}, testLogger(t)); err == nil {
		t.Error("started as a missing user")
	}
	notFIFO := filepath.Join(dir, "task.stdout")
	if err := os.WriteFile(FIFOPath(notFIFO), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Spec{Path: "/bin/true", Logs: LogSpec{StdoutPath: notFIFO}}, testLogger(t)); err == nil {
		t.Error("started with a regular file where the pipe goes")
	}
}

func TestStopGraceful(t *testing.T) {
	p, _ := shell(t, "exec sleep 60")
	start := time.Now()
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Stop took %v for a task that honours SIGTERM", took)
	}
	if got := wait(t, p); got.Signal != int(syscall.SIGTERM) {
		t.Errorf("exit = %+v, want SIGTERM", got)
	}
}

func TestStopEscalatesToKill(t *testing.T) {
	p, dir := shell(t, `trap '' TERM; echo ready > ready; while :; do sleep 0.05; done`)
	eventually(t, "trap installed", func() bool { return readFile(filepath.Join(dir, "ready")) != "" })
	start := time.Now()
	if err := p.Stop(syscall.SIGTERM, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("Stop returned after %v, before the timeout", took)
	}
	if got := wait(t, p); got.Signal != int(syscall.SIGKILL) {
		t.Errorf("exit = %+v, want SIGKILL", got)
	}
}

func gone(pid int) bool {
	_, zombie, err := processStat(pid)
	return err != nil || zombie
}

func TestStopKillsProcessGroup(t *testing.T) {
	p, dir := shell(t, `sleep 60 & echo $! > child; wait`)
	var child int
	eventually(t, "child pid", func() bool {
		child, _ = strconv.Atoi(strings.TrimSpace(readFile(filepath.Join(dir, "child"))))
		return child > 0
	})
	if gone(child) {
		t.Fatal("child not running before stop")
	}
	if err := p.Stop(syscall.SIGINT, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, "child to be gone", func() bool { return gone(child) })
}

func TestStopAfterExitKillsLeftovers(t *testing.T) {
	p, dir := shell(t, `sleep 60 & echo $! > child`)
	wait(t, p)
	child, _ := strconv.Atoi(strings.TrimSpace(readFile(filepath.Join(dir, "child"))))
	if child == 0 || gone(child) {
		t.Fatalf("leftover child %d not running", child)
	}
	if err := p.Stop(syscall.SIGTERM, time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, "leftover child to be gone", func() bool { return gone(child) })
}

func TestWaitContext(t *testing.T) {
	p, _ := shell(t, "exec sleep 60")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Wait(ctx); err != context.DeadlineExceeded {
		t.Errorf("Wait = %v, want deadline exceeded", err)
	}
}

func TestRecover(t *testing.T) {
	p, dir := shell(t, `echo early; while [ ! -e go ]; do sleep 0.02; done; echo late`)
	stdout := filepath.Join(dir, "logs", "task.stdout")
	eventually(t, "early output", func() bool { return readFile(stdout+".0") == "early\n" })

	// The plugin "dies": its ends of the pipes close. The task must not
	// notice, and a new plugin picks up its output.
	p.Close()
	r, err := Recover(p.State(), LogSpec{StdoutPath: stdout, StderrPath: filepath.Join(dir, "logs", "task.stderr")},
		p.StartedAt(), testLogger(t))
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, p); !got.Successful() {
		t.Errorf("task exit = %+v, want success (no SIGPIPE)", got)
	}
	if got := wait(t, r); !got.Successful() {
		t.Errorf("recovered exit = %+v, want reported as success", got)
	}
	eventually(t, "late output", func() bool { return readFile(stdout+".0") == "early\nlate\n" })
}

func TestRecoverStop(t *testing.T) {
	p, dir := shell(t, `trap '' TERM; echo ready > ready; while :; do sleep 0.05; done`)
	eventually(t, "trap installed", func() bool { return readFile(filepath.Join(dir, "ready")) != "" })
	r, err := Recover(p.State(), LogSpec{}, p.StartedAt(), testLogger(t))
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if err := r.Stop(syscall.SIGTERM, 200*time.Millisecond); err != nil {
		t.Fatalf("Stop recovered: %v", err)
	}
	if got := wait(t, p); got.Signal != int(syscall.SIGKILL) {
		t.Errorf("exit = %+v, want SIGKILL", got)
	}
}

func TestRecoverRejects(t *testing.T) {
	p, _ := shell(t, "exec sleep 60")
	st := p.State()
	if st.StartTime == 0 {
		t.Fatal("no start time recorded")
	}
	reused := State{PID: st.PID, StartTime: st.StartTime + 1}
	if _, err := Recover(reused, LogSpec{}, time.Now(), testLogger(t)); err == nil {
		t.Error("recovered a PID whose start time does not match")
	}
	p.Kill()
	wait(t, p)
	if _, err := Recover(st, LogSpec{}, time.Now(), testLogger(t)); err == nil {
		t.Error("recovered an exited process")
	}
	if _, err := Recover(State{}, LogSpec{}, time.Now(), testLogger(t)); err == nil {
		t.Error("recovered pid 0")
	}
}
