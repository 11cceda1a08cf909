// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
)

// pidSleeper is a service job whose task writes its PID to the allocation
// directory and sleeps; the group allows no policy restart, so a user
// restart that counted against the policy would fail the task.
func pidSleeper(id string) *nomad.Job {
	job := nomad.NewServiceJob(id, id, "global", 50)
	job.Datacenters = []string{"dc1"}
	task := nomad.NewTask("t", "raw_exec").
		SetConfig("command", "/bin/sh").
		SetConfig("args", []string{"-c", `echo $$ > "$NOMAD_ALLOC_DIR/pid"; exec sleep 300`})
	task.KillTimeout = ptr(2 * time.Second)
	tg := nomad.NewTaskGroup("g", 1).AddTask(task)
	tg.RestartPolicy = &nomad.RestartPolicy{Attempts: ptr(0), Interval: ptr(time.Hour), Delay: ptr(time.Second), Mode: ptr("fail")}
	job.AddTaskGroup(tg)
	return job
}

func waitUntilErr(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %v", d, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runningAlloc waits for the job's one running allocation and its task's
// PID, read from the file the task wrote under the client's data dir.
func runningAlloc(t *testing.T, nc *nomad.Client, job, allocRoot, notPID string) (*nomad.Allocation, string) {
	t.Helper()
	var alloc *nomad.Allocation
	var pid string
	waitUntilErr(t, 60*time.Second, "a running allocation of "+job, func() error {
		stubs, _, err := nc.Jobs().Allocations(job, false, nil)
		if err != nil {
			return err
		}
		for _, s := range stubs {
			if s.ClientStatus == "failed" {
				return fmt.Errorf("allocation %s failed: %+v", s.ID, s.TaskStates)
			}
			if s.ClientStatus != "running" || s.DesiredStatus != "run" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(allocRoot, s.ID, "alloc", "pid"))
			if err != nil || strings.TrimSpace(string(b)) == "" || strings.TrimSpace(string(b)) == notPID {
				return fmt.Errorf("no new pid yet (%v)", err)
			}
			if ts := s.TaskStates["t"]; ts == nil || ts.State != "running" {
				return fmt.Errorf("task not running yet")
			}
			if alloc, _, err = nc.Allocations().Info(s.ID, nil); err != nil {
				return err
			}
			pid = strings.TrimSpace(string(b))
			return nil
		}
		return fmt.Errorf("no running allocation among %d", len(stubs))
	})
	return alloc, pid
}

// checkRestarts drives restarts, stats and stop of an allocation through
// nc, the official client pointed at addr.
func checkAllocOps(t *testing.T, nc *nomad.Client, allocRoot, nodeID string) {
	t.Helper()
	if _, _, err := nc.Jobs().Register(pidSleeper("sleeper"), nil); err != nil {
		t.Fatal(err)
	}
	alloc, pid := runningAlloc(t, nc, "sleeper", allocRoot, "")

	// Restarts: the same allocation, a new process, no policy attempt.
	for i, restart := range []func() error{
		func() error { return nc.Allocations().Restart(alloc, "t", nil) },
		func() error { return nc.Allocations().RestartAllTasks(alloc, nil) }, //nolint:staticcheck // Nomad's call must keep working.
	} {
		if err := restart(); err != nil {
			t.Fatalf("restart %d: %v", i+1, err)
		}
		var again *nomad.Allocation
		again, pid = runningAlloc(t, nc, "sleeper", allocRoot, pid)
		if again.ID != alloc.ID {
			t.Fatalf("restart %d replaced allocation %s with %s", i+1, alloc.ID, again.ID)
		}
		// The client reports task states in batches: wait for the servers
		// to have the restart.
		waitUntilErr(t, 30*time.Second, fmt.Sprintf("restart %d in the task state", i+1), func() error {
			a, _, err := nc.Allocations().Info(alloc.ID, nil)
			if err != nil {
				return err
			}
			ts := a.TaskStates["t"]
			signaled := 0
			for _, ev := range ts.Events {
				if ev.Type == "Restart Signaled" {
					signaled++
				}
			}
			if ts.Failed || ts.State != "running" || ts.Restarts != uint64(i+1) || signaled != i+1 || a.ClientStatus != "running" {
				return fmt.Errorf("alloc %s, task %s failed=%v restarts=%d, %d Restart Signaled events",
					a.ClientStatus, ts.State, ts.Failed, ts.Restarts, signaled)
			}
			return nil
		})
	}
	if err := nc.Allocations().Restart(alloc, "nope", nil); err == nil {
		t.Fatal("restart of an unknown task succeeded")
	}

	// Stats of the running task, and of the host.
	waitUntilErr(t, 10*time.Second, "allocation stats", func() error {
		u, err := nc.Allocations().Stats(alloc, nil)
		if err != nil {
			return err
		}
		tu := u.Tasks["t"]
		if tu == nil || tu.ResourceUsage == nil || tu.ResourceUsage.MemoryStats == nil || tu.ResourceUsage.MemoryStats.RSS == 0 {
			return fmt.Errorf("no task memory in %+v", u)
		}
		if u.ResourceUsage.MemoryStats.RSS == 0 || u.Timestamp == 0 {
			return fmt.Errorf("no allocation totals in %+v", u.ResourceUsage)
		}
		return nil
	})
	hs, err := nc.Nodes().Stats(nodeID, nil)
	if err != nil {
		t.Fatalf("host stats: %v", err)
	}
	if hs.Memory == nil || hs.Memory.Total == 0 || hs.Memory.Used == 0 || len(hs.CPU) == 0 || hs.Uptime == 0 ||
		hs.AllocDirStats == nil || hs.AllocDirStats.Size == 0 {
		t.Fatalf("host stats %+v", hs)
	}

	// Stop: the allocation is stopped and a replacement placed.
	resp, err := nc.Allocations().Stop(alloc, nil)
	if err != nil || resp.EvalID == "" {
		t.Fatalf("stop: %+v, %v", resp, err)
	}
	replacement, _ := runningAlloc(t, nc, "sleeper", allocRoot, pid)
	if replacement.ID == alloc.ID || replacement.PreviousAllocation != alloc.ID {
		t.Fatalf("replacement %s (previous %q) of %s", replacement.ID, replacement.PreviousAllocation, alloc.ID)
	}
	waitUntilErr(t, 30*time.Second, "the stopped allocation to end", func() error {
		old, _, err := nc.Allocations().Info(alloc.ID, nil)
		if err != nil {
			return err
		}
		if old.DesiredStatus != "stop" || old.ClientStatus != "complete" {
			return fmt.Errorf("old allocation %s/%s", old.DesiredStatus, old.ClientStatus)
		}
		return nil
	})
	if _, _, err := nc.Jobs().Deregister("sleeper", true, nil); err != nil {
		t.Fatal(err)
	}
}

func TestAllocOpsLocal(t *testing.T) {
	a := startDevAgent(t)
	nc, err := nomad.NewClient(&nomad.Config{Address: a.addr})
	if err != nil {
		t.Fatal(err)
	}
	nodes, _, err := nc.Nodes().List(nil)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes %v: %v", nodes, err)
	}
	checkAllocOps(t, nc, filepath.Join(a.dataDir, "client", "alloc"), nodes[0].ID)

	// The CLI's -self finds this node and shows its host stats.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, code := a.cli(ctx, "node", "status", "-self", "-stats")
	if code != 0 || !strings.Contains(out, "Host Resource Utilization") || !strings.Contains(out, "CPU Stats") {
		t.Fatalf("node status -self -stats exited %d:\n%s", code, out)
	}
}

// TestDispatchPayloadFile dispatches a job with a payload and checks the
// task found it in local/<file> before it started.
func TestDispatchPayloadFile(t *testing.T) {
	a := startDevAgent(t)
	nc, err := nomad.NewClient(&nomad.Config{Address: a.addr})
	if err != nil {
		t.Fatal(err)
	}
	job := nomad.NewBatchJob("render", "render", "global", 50)
	job.Datacenters = []string{"dc1"}
	job.ParameterizedJob = &nomad.ParameterizedJobConfig{Payload: "required"}
	task := nomad.NewTask("t", "raw_exec").
		SetConfig("command", "/bin/sh").
		SetConfig("args", []string{"-c", `cp "$NOMAD_TASK_DIR/conf/in.txt" "$NOMAD_ALLOC_DIR/seen"`})
	task.DispatchPayload = &nomad.DispatchPayloadConfig{File: "conf/in.txt"}
	job.AddTaskGroup(nomad.NewTaskGroup("g", 1).AddTask(task))
	if _, _, err := nc.Jobs().Register(job, nil); err != nil {
		t.Fatalf("register parameterized job with dispatch_payload: %v", err)
	}
	resp, _, err := nc.Jobs().Dispatch("render", nil, []byte("payload body\n"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	allocRoot := filepath.Join(a.dataDir, "client", "alloc")
	waitUntilErr(t, 60*time.Second, "the dispatched task to complete", func() error {
		stubs, _, err := nc.Jobs().Allocations(resp.DispatchedJobID, false, nil)
		if err != nil {
			return err
		}
		if len(stubs) != 1 || stubs[0].ClientStatus != "complete" {
			return fmt.Errorf("allocations %d, status %v", len(stubs), stubs)
		}
		b, err := os.ReadFile(filepath.Join(allocRoot, stubs[0].ID, "alloc", "seen"))
		if err != nil || string(b) != "payload body\n" {
			return fmt.Errorf("task saw %q (%v)", b, err)
		}
		return nil
	})
}

// TestAllocOpsRelayed runs the same operations against a server-only agent,
// which relays them to a client-only agent over its connection.
func TestAllocOpsRelayed(t *testing.T) {
	ports := freePorts(t, 5)
	dir := t.TempDir()
	write := func(name, conf string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	srvConf := write("server.hcl", fmt.Sprintf(`
name      = "relay-server"
data_dir  = %q
bind_addr = "127.0.0.1"
ports {
  http = %d
  rpc  = %d
  serf = %d
}
server {
  enabled          = true
  bootstrap_expect = 1
}
`, filepath.Join(dir, "server"), ports[0], ports[1], ports[2]))
	cliData := filepath.Join(dir, "client")
	cliConf := write("client.hcl", fmt.Sprintf(`
name      = "relay-client"
data_dir  = %q
bind_addr = "127.0.0.1"
ports {
  http = %d
  rpc  = %d
}
client {
  enabled = true
  servers = ["127.0.0.1:%d"]
}
plugin "raw_exec" {
  config {
    enabled = true
  }
}
`, cliData, ports[3], ports[4], ports[1]))

	srv := startProcessAgent(t, srvConf, fmt.Sprintf("http://127.0.0.1:%d", ports[0]))
	cli := startProcessAgent(t, cliConf, fmt.Sprintf("http://127.0.0.1:%d", ports[3]))
	_ = cli
	nc, err := nomad.NewClient(&nomad.Config{Address: srv.addr})
	if err != nil {
		t.Fatal(err)
	}
	var nodeID string
	waitUntilErr(t, 60*time.Second, "the client's node to be ready", func() error {
		nodes, _, err := nc.Nodes().List(nil)
		if err != nil {
			return err
		}
		if len(nodes) != 1 || nodes[0].Status != "ready" {
			return fmt.Errorf("nodes %v", nodes)
		}
		nodeID = nodes[0].ID
		return nil
	})
	checkAllocOps(t, nc, filepath.Join(cliData, "client", "alloc"), nodeID)
}

// startProcessAgent runs `drover agent -config conf` (not -dev) and waits
// for its HTTP API. Outside -dev an agent leaves its driver plugins running
// on exit, so the cleanup kills those after the agent, and the tests stop
// their jobs first.
func startProcessAgent(t *testing.T, conf, addr string) *agent {
	t.Helper()
	a := &agent{t: t, addr: addr, logs: &syncBuffer{}, done: make(chan struct{})}
	a.cmd = exec.Command(droverBin, "agent", "-config", conf)
	a.cmd.Stdout, a.cmd.Stderr = a.logs, a.logs
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = a.cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() {
		plugins := childrenWithArgs(a.cmd.Process.Pid, "plugin", "driver")
		a.stop()
		for _, pid := range plugins {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	a.waitFor(60*time.Second, "agent HTTP API", func() (bool, error) {
		select {
		case <-a.done:
			return false, fmt.Errorf("agent exited early")
		default:
		}
		resp, err := nomadHealth(addr)
		return err == nil && resp, nil
	})
	return a
}

func nomadHealth(addr string) (bool, error) {
	nc, err := nomad.NewClient(&nomad.Config{Address: addr})
	if err != nil {
		return false, err
	}
	_, err = nc.Agent().Self()
	return err == nil, nil
}

// TestAllocOpsSystemStop stops a system job's allocation with
// ?no_shutdown_delay=true: as in Nomad it is stopped and a new one placed
// on the same node, and the stop skips the group's and the task's hour of
// shutdown_delay.
func TestAllocOpsSystemStop(t *testing.T) {
	a := startDevAgent(t)
	nc, err := nomad.NewClient(&nomad.Config{Address: a.addr})
	if err != nil {
		t.Fatal(err)
	}
	allocRoot := filepath.Join(a.dataDir, "client", "alloc")
	job := pidSleeper("sys")
	job.Type = ptr("system")
	job.TaskGroups[0].Count = nil
	job.TaskGroups[0].ShutdownDelay = ptr(time.Hour)
	job.TaskGroups[0].Tasks[0].ShutdownDelay = time.Hour
	if _, _, err := nc.Jobs().Register(job, nil); err != nil {
		t.Fatal(err)
	}
	alloc, pid := runningAlloc(t, nc, "sys", allocRoot, "")

	asked := time.Now()
	resp, err := nc.Allocations().Stop(alloc, &nomad.QueryOptions{Params: map[string]string{"no_shutdown_delay": "true"}})
	if err != nil || resp.EvalID == "" {
		t.Fatalf("stop: %+v, %v", resp, err)
	}
	replacement, newPID := runningAlloc(t, nc, "sys", allocRoot, pid)
	if replacement.ID == alloc.ID || replacement.PreviousAllocation != alloc.ID || replacement.NodeID != alloc.NodeID {
		t.Fatalf("replacement %s on %s (previous %q) of %s on %s",
			replacement.ID, replacement.NodeID, replacement.PreviousAllocation, alloc.ID, alloc.NodeID)
	}
	if newPID == pid {
		t.Fatalf("replacement runs the old process %s", pid)
	}
	waitUntilErr(t, 30*time.Second, "the stopped allocation to end", func() error {
		old, _, err := nc.Allocations().Info(alloc.ID, nil)
		if err != nil {
			return err
		}
		if old.DesiredStatus != "stop" || old.ClientStatus != "complete" {
			return fmt.Errorf("old allocation %s/%s", old.DesiredStatus, old.ClientStatus)
		}
		for _, ev := range old.TaskStates["t"].Events {
			if ev.Type == "Waiting for shutdown delay" {
				return fmt.Errorf("the task waited its shutdown delay")
			}
		}
		return nil
	})
	if waited := time.Since(asked); waited > time.Minute {
		t.Fatalf("stop took %v", waited)
	}
	if n, _ := strconv.Atoi(pid); syscall.Kill(n, 0) == nil {
		t.Fatalf("old task process %s still running", pid)
	}
	// One allocation runs on the node, the replacement.
	stubs, _, err := nc.Jobs().Allocations("sys", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, s := range stubs {
		if s.DesiredStatus == "run" {
			live++
		}
	}
	if live != 1 {
		t.Fatalf("%d allocations to run, want 1", live)
	}
	// The replacement would wait out its hour of shutdown_delay: end its
	// process once the job is gone, so nothing outlives the test.
	if _, _, err := nc.Jobs().Deregister("sys", true, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(newPID); n > 0 {
		_ = syscall.Kill(n, syscall.SIGKILL)
	}
}
