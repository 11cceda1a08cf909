// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad/api"
)

// serverProc is the server under test: its own process, so its resident
// memory is its own.
type serverProc struct {
	cmd      *exec.Cmd
	dir      string
	logPath  string
	httpAddr string
	rpcAddr  string
	exited   chan struct{}
}

// serverOptions says which server to start.
type serverOptions struct {
	// mode "binary" runs `drover agent -server` (raft on disk in a
	// temporary data_dir, as operators run it); "embedded" re-executes
	// this harness as a dev-mode, server-only agent (raft in memory)
	// that can write CPU and heap profiles.
	mode       string
	drover     string
	cpuProfile string
	// cpuProfileFor is how long a binary server is profiled.
	cpuProfileFor time.Duration
	memProfile    string
	schedulers    int
	// memLimit, when set, is the server process's GOMEMLIMIT (the Go
	// runtime's soft memory limit), e.g. "3GiB"; the harness keeps its own.
	memLimit string
}

// startServer starts the server on free loopback ports and waits until it
// has a leader.
func startServer(ctx context.Context, opts serverOptions) (*serverProc, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "drover-bench-")
	if err != nil {
		return nil, fmt.Errorf("server data dir: %w", err)
	}
	p := &serverProc{
		dir:      dir,
		logPath:  filepath.Join(dir, "server.log"),
		httpAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		rpcAddr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		exited:   make(chan struct{}),
	}
	switch opts.mode {
	case "binary":
		if _, err := os.Stat(opts.drover); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("drover binary %s: %w (run make build)", opts.drover, err)
		}
		conf := filepath.Join(dir, "agent.hcl")
		schedulers := ""
		if opts.schedulers > 0 {
			schedulers = fmt.Sprintf("  num_schedulers = %d\n", opts.schedulers)
		}
		// enable_debug serves /debug/pprof/, which -cpuprofile reads.
		body := fmt.Sprintf("data_dir = %q\nbind_addr = \"127.0.0.1\"\nlog_level = \"WARN\"\nname = \"bench-server\"\nenable_debug = true\n"+
			"ports {\n  http = %d\n  rpc = %d\n  serf = %d\n}\nserver {\n  enabled = true\n  bootstrap_expect = 1\n%s}\n",
			filepath.Join(dir, "data"), ports[0], ports[1], ports[2], schedulers)
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("write agent config: %w", err)
		}
		p.cmd = exec.Command(opts.drover, "agent", "-config", conf)
	case "embedded":
		self, err := os.Executable()
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("find own executable: %w", err)
		}
		p.cmd = exec.Command(self, "-serve",
			"-serve-http", strconv.Itoa(ports[0]), "-serve-rpc", strconv.Itoa(ports[1]),
			"-serve-dir", filepath.Join(dir, "data"), "-serve-schedulers", strconv.Itoa(opts.schedulers),
			"-cpuprofile", opts.cpuProfile, "-memprofile", opts.memProfile)
	default:
		os.RemoveAll(dir)
		return nil, fmt.Errorf("unknown -server mode %q: binary or embedded", opts.mode)
	}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("server log: %w", err)
	}
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if opts.memLimit != "" {
		p.cmd.Env = append(os.Environ(), "GOMEMLIMIT="+opts.memLimit)
	}
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start server: %w", err)
	}
	go func() {
		_ = p.cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	if err := p.waitForLeader(ctx, 60*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *serverProc) api() (*api.Client, error) {
	return api.NewClient(&api.Config{Address: "http://" + p.httpAddr})
}

func (p *serverProc) waitForLeader(ctx context.Context, d time.Duration) error {
	client, err := p.api()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(d)
	for {
		leader, err := client.Status().Leader()
		if err == nil && leader != "" {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("server exited during start-up: %s", p.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server has no leader after %s (last error: %v): %s", d, err, p.logTail())
		}
	}
}

// memory returns the server's resident memory now and at its peak, in MB.
func (p *serverProc) memory() (rss, peak float64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read server memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak, sc.Err()
}

// profileHeap writes the binary server's heap profile (live objects as of
// its last garbage collection, and what it allocated since it started) to
// path, through its /debug/pprof/heap endpoint.
func (p *serverProc) profileHeap(ctx context.Context, path string) error {
	return p.fetchProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/heap?gc=1", p.httpAddr), path)
}

// fetchProfile writes what url answers to path.
func (p *serverProc) fetchProfile(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// profileCPU records the binary server's CPU profile for d through its
// /debug/pprof/profile endpoint and writes it to path. It runs beside the
// scenario; the embedded server profiles itself instead.
func (p *serverProc) profileCPU(ctx context.Context, path string, d time.Duration, log hclog.Logger) {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.httpAddr, int(d.Seconds()))
	if err := p.fetchProfile(ctx, url, path); err != nil {
		log.Error("CPU profile", "error", err)
		return
	}
	log.Info("CPU profile written", "path", path, "seconds", d.Seconds())
}

// stop interrupts the server (which then writes its profiles), kills it if
// it does not exit within a minute, and removes its data directory.
func (p *serverProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	os.RemoveAll(p.dir)
}

// logTail is the end of the server's log, for error messages.
func (p *serverProc) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// freePorts finds n loopback TCP ports nobody listens on.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
