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
	"strconv"
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
	code := m.Run()
	reapOrphanedPlugins()
	return code, nil
}

// reapOrphanedPlugins kills the driver plugin processes this test run left
// behind. A non-dev agent's plugins outlive it by design (a restarted
// agent reattaches to them), so the tests that stop or kill such agents
// leave them orphaned. Only orphans of droverBin started after this test
// process are touched: a developer's own agents are left alone.
func reapOrphanedPlugins() {
	self, ok := procStat(os.Getpid())
	if !ok {
		return
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, ok := procStat(pid)
		if !ok || st.ppid != 1 || st.start < self.start {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		if len(args) >= 3 && args[0] == droverBin && args[1] == "plugin" && args[2] == "driver" {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// stat is what reapOrphanedPlugins reads of /proc/PID/stat.
type stat struct {
	ppid  int
	start uint64 // clock ticks after boot
}

func procStat(pid int) (stat, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return stat{}, false
	}
	s := string(b)
	// Fields after "(comm)": state ppid ... starttime is the 20th.
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 20 {
		return stat{}, false
	}
	ppid, err1 := strconv.Atoi(fields[1])
	start, err2 := strconv.ParseUint(fields[19], 10, 64)
	if err1 != nil || err2 != nil {
		return stat{}, false
	}
	return stat{ppid: ppid, start: start}, true
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

// agentConf is a one-node agent, server and client in one process. Its
// verbs: the node name, data_dir, the http, rpc and serf ports, extra
// lines for the client block, and the plugin settings (top-level lines).
const agentConf = `
name      = %q
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
%s
}
%s
`

// rawExecPlugin enables raw_exec, the driver most e2e jobs use.
const rawExecPlugin = `plugin "raw_exec" {
  config {
    enabled = true
  }
}`

// writeAgentConf writes agentConf on three free ports into a temporary
// directory and returns the file's path, the agent's HTTP address and its
// data_dir.
func writeAgentConf(t *testing.T, name, client, plugins string) (confPath, addr, dataDir string) {
	t.Helper()
	ports := freePorts(t, 3)
	dir := t.TempDir()
	dataDir = filepath.Join(dir, "data")
	conf := fmt.Sprintf(agentConf, name, dataDir, ports[0], ports[1], ports[2], client, plugins)
	confPath = filepath.Join(dir, "agent.hcl")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return confPath, fmt.Sprintf("http://127.0.0.1:%d", ports[0]), dataDir
}

// startDevAgent runs `drover agent -dev` with agentConf on free ports and
// waits until its HTTP API has a leader and a ready node.
func startDevAgent(t *testing.T) *agent {
	t.Helper()
	return startDevAgentWithClient(t, "")
}

// startDevAgentWithClient is startDevAgent with extra lines in the agent's
// client block.
func startDevAgentWithClient(t *testing.T, client string) *agent {
	t.Helper()
	confPath, addr, dataDir := writeAgentConf(t, "e2e", client, rawExecPlugin)
	a := startAgent(t, addr, dataDir, "-dev", "-config", confPath)
	t.Cleanup(a.stop)
	return a
}

// startAgent runs `drover agent args...` and waits until addr reports a
// ready node. The caller stops it: a non-dev agent leaves its plugins
// running, and tests that kill or restart it order their own cleanup.
func startAgent(t *testing.T, addr, dataDir string, args ...string) *agent {
	t.Helper()
	a := &agent{t: t, addr: addr, dataDir: dataDir, logs: &syncBuffer{}, done: make(chan struct{})}
	a.cmd = exec.Command(droverBin, append([]string{"agent"}, args...)...)
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
	a.waitFor(60*time.Second, "agent ready", func() (bool, error) {
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
