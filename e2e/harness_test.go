// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// droverBin is the binary under test: $DROVER_TEST_BINARY (make test sets
// it), or one built into a temporary directory by TestMain.
var droverBin string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	droverBin = os.Getenv("DROVER_TEST_BINARY")
	if droverBin == "" {
		dir, err := os.MkdirTemp("", "drover-e2e-bin")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		droverBin = filepath.Join(dir, "drover")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Dir(filepath.Dir(file))
		cmd := exec.Command("go", "build", "-o", droverBin, "./cmd/drover")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("build drover: %v\n%s", err, out)
		}
	}
	return m.Run(), nil
}

// repoRoot is the repository's top directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var lns []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// agent is a running `drover agent` process.
type agent struct {
	t       *testing.T
	cmd     *exec.Cmd
	addr    string // http://127.0.0.1:port
	dataDir string
	logs    *syncBuffer
	done    chan struct{}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDevAgent runs `drover agent -dev -config FILE` on free ports and
// waits until its HTTP API has a leader and a ready node.
func startDevAgent(t *testing.T) *agent {
	t.Helper()
	ports := freePorts(t, 3)
	dir := t.TempDir()
	conf := fmt.Sprintf(`
name      = "e2e"
data_dir  = %q
bind_addr = "127.0.0.1"
log_level = "DEBUG"
ports {
  http = %d
  rpc  = %d
  serf = %d
}
server {
  enabled          = true
  bootstrap_expect = 1
}
client {
  enabled = true
}
plugin "raw_exec" {
  config {
    enabled = true
  }
}
`, filepath.Join(dir, "data"), ports[0], ports[1], ports[2])
	confPath := filepath.Join(dir, "agent.hcl")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &agent{t: t, addr: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), dataDir: filepath.Join(dir, "data"), logs: &syncBuffer{}, done: make(chan struct{})}
	a.cmd = exec.Command(droverBin, "agent", "-dev", "-config", confPath)
	a.cmd.Stdout = a.logs
	a.cmd.Stderr = a.logs
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = a.cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(a.stop)
	a.waitFor(30*time.Second, "agent ready", func() (bool, error) {
		select {
		case <-a.done:
			return false, fmt.Errorf("agent exited early")
		default:
		}
		resp, err := http.Get(a.addr + "/v1/nodes")
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp.StatusCode == 200 && strings.Contains(buf.String(), `"Status":"ready"`), nil
	})
	return a
}

// stop interrupts the agent and waits for it, then kills what is left of
// its process group.
func (a *agent) stop() {
	select {
	case <-a.done:
	default:
		_ = a.cmd.Process.Signal(os.Interrupt)
		select {
		case <-a.done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
			<-a.done
		}
	}
	if a.t.Failed() {
		a.t.Logf("agent output:\n%s", a.logs.String())
	}
}

// waitFor polls cond until it holds, fails, or d passes.
func (a *agent) waitFor(d time.Duration, what string, cond func() (bool, error)) {
	a.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, err := cond()
		if err != nil {
			a.t.Fatalf("waiting for %s: %v\nagent output:\n%s", what, err, a.logs.String())
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("timed out after %v waiting for %s\nagent output:\n%s", d, what, a.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cli runs the drover CLI against the agent and returns its output and exit
// code.
func (a *agent) cli(ctx context.Context, args ...string) (string, int) {
	a.t.Helper()
	cmd := exec.CommandContext(ctx, droverBin, args...)
	cmd.Env = append(os.Environ(), "DROVER_ADDR="+a.addr)
	cmd.Dir = repoRoot()
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			a.t.Fatalf("run drover %v: %v", args, err)
		}
	}
	return string(out), code
}
