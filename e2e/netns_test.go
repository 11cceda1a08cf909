// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The multi-host harness: every host is a network namespace with its own
// address on a private bridge, running one `drover agent` process. Tests
// may kill, pause, cut off or partition any host. The only addresses used
// are those of the namespaces this harness creates (and loopback).

// netCluster is a set of hosts on one bridge.
type netCluster struct {
	t      *testing.T
	id     string // short random tag for interface and namespace names
	bridge string
	prefix string // "10.88.N."
	hosts  []*netHost
}

// netHost is one namespace and the agent running in it.
type netHost struct {
	c       *netCluster
	name    string // namespace name
	ip      string
	vethOut string // the root-namespace end, on the bridge
	dataDir string
	cmd     *exec.Cmd
	logs    *syncBuffer
	done    chan struct{}
}

// requireRoot fails (never skips) when the harness cannot run: CI is root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("multi-host e2e tests need root (network namespaces); run them as root, as CI does")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("multi-host e2e tests need the ip command: apt-get install -y iproute2")
	}
}

func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newNetCluster creates the bridge; hosts come with addHost.
func newNetCluster(t *testing.T) *netCluster {
	t.Helper()
	requireRoot(t)
	c := &netCluster{t: t, id: fmt.Sprintf("%04x", rand.IntN(1<<16))}
	c.bridge = "drvb" + c.id
	c.prefix = fmt.Sprintf("10.88.%d.", 1+rand.IntN(250))
	mustRun(t, "ip", "link", "add", c.bridge, "type", "bridge")
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", c.bridge).Run() })
	mustRun(t, "ip", "addr", "add", c.prefix+"1/24", "dev", c.bridge)
	mustRun(t, "ip", "link", "set", c.bridge, "up")
	return c
}

// addHost creates a namespace with an address on the bridge.
func (c *netCluster) addHost() *netHost {
	t := c.t
	i := len(c.hosts) + 1
	h := &netHost{
		c:       c,
		name:    fmt.Sprintf("drv%s-%d", c.id, i),
		ip:      fmt.Sprintf("%s%d", c.prefix, 10+i),
		vethOut: fmt.Sprintf("drv%so%d", c.id, i),
		dataDir: t.TempDir(),
		logs:    &syncBuffer{},
	}
	in := fmt.Sprintf("drv%si%d", c.id, i)
	mustRun(t, "ip", "netns", "add", h.name)
	t.Cleanup(func() {
		// Driver plugins and tasks outlive their agent by design: end
		// everything still running in the namespace before deleting it.
		killNamespace(h.name)
		_ = exec.Command("ip", "netns", "del", h.name).Run()
		_ = exec.Command("ip", "link", "del", h.vethOut).Run()
	})
	mustRun(t, "ip", "link", "add", h.vethOut, "type", "veth", "peer", "name", in)
	mustRun(t, "ip", "link", "set", in, "netns", h.name)
	mustRun(t, "ip", "link", "set", h.vethOut, "master", c.bridge)
	mustRun(t, "ip", "link", "set", h.vethOut, "up")
	mustRun(t, "ip", "netns", "exec", h.name, "ip", "link", "set", "lo", "up")
	mustRun(t, "ip", "netns", "exec", h.name, "ip", "addr", "add", h.ip+"/24", "dev", in)
	mustRun(t, "ip", "netns", "exec", h.name, "ip", "link", "set", in, "up")
	c.hosts = append(c.hosts, h)
	return h
}

// killNamespace SIGKILLs every process in the namespace and waits until
// none is left.
func killNamespace(name string) {
	for i := 0; i < 50; i++ {
		out, _ := exec.Command("ip", "netns", "pids", name).Output()
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			return
		}
		for _, p := range pids {
			var pid int
			if _, err := fmt.Sscan(p, &pid); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// start runs `drover agent -config <conf>` in the host's namespace. conf is
// the agent configuration body; data_dir, bind_addr and log_level are set
// here.
func (h *netHost) start(conf string) {
	t := h.c.t
	t.Helper()
	path := filepath.Join(h.dataDir, "agent.hcl")
	full := fmt.Sprintf("name = %q\ndata_dir = %q\nbind_addr = %q\nlog_level = \"DEBUG\"\n%s\n",
		h.name, filepath.Join(h.dataDir, "data"), h.ip, conf)
	if err := os.WriteFile(path, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
	h.done = make(chan struct{})
	h.cmd = exec.Command("ip", "netns", "exec", h.name, droverBin, "agent", "-config", path)
	h.cmd.Stdout = h.logs
	h.cmd.Stderr = h.logs
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := h.done
	go func() {
		_ = h.cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		h.kill()
		if t.Failed() {
			t.Logf("agent %s (%s) output:\n%s", h.name, h.ip, h.logs.String())
		}
	})
}

// kill ends the agent with SIGKILL (and whatever it started).
func (h *netHost) kill() {
	if h.cmd == nil || h.cmd.Process == nil {
		return
	}
	select {
	case <-h.done:
	default:
		_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGCONT)
		_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
		<-h.done
	}
}

// pause stops the agent's processes (SIGSTOP); resume continues them.
func (h *netHost) pause()  { _ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGSTOP) }
func (h *netHost) resume() { _ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGCONT) }

// cutOff takes the host off the network; heal puts it back. (The tests use
// partitions today; these stay for whole-host network loss.)
//
//lint:ignore U1000 part of the harness's failure vocabulary
func (h *netHost) cutOff() { mustRun(h.c.t, "ip", "link", "set", h.vethOut, "down") }

//lint:ignore U1000 see cutOff
func (h *netHost) heal() { mustRun(h.c.t, "ip", "link", "set", h.vethOut, "up") }

// partition drops all traffic between h and each of others, both ways, with
// blackhole routes inside the namespaces; unpartition removes them.
func (h *netHost) partition(others ...*netHost) {
	for _, o := range others {
		mustRun(h.c.t, "ip", "netns", "exec", h.name, "ip", "route", "add", "blackhole", o.ip+"/32")
		mustRun(h.c.t, "ip", "netns", "exec", o.name, "ip", "route", "add", "blackhole", h.ip+"/32")
	}
}

func (h *netHost) unpartition(others ...*netHost) {
	for _, o := range others {
		mustRun(h.c.t, "ip", "netns", "exec", h.name, "ip", "route", "del", "blackhole", o.ip+"/32")
		mustRun(h.c.t, "ip", "netns", "exec", o.name, "ip", "route", "del", "blackhole", h.ip+"/32")
	}
}

// addr is the host's HTTP API address.
func (h *netHost) addr() string { return "http://" + h.ip + ":4646" }

// waitHTTP waits until the host's HTTP API answers path with 200.
func (h *netHost) waitHTTP(d time.Duration, path string) {
	h.c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(h.addr() + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			h.c.t.Fatalf("%s: %s did not answer in %v (last error %v)\n%s", h.name, path, d, err, h.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// newRand returns a seeded random source for reproducible chaos runs.
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(seed>>1)))
}
