// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
)

// killHard is kill -9 of the agent process alone: its plugins and tasks,
// in process groups of their own, are left alone.
func (a *agent) killHard() {
	_ = a.cmd.Process.Kill()
	<-a.done
}

// childrenWithArgs returns the PIDs of ppid's children whose command line
// contains every one of args.
func childrenWithArgs(ppid int, args ...string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(fields) < 2 || fields[1] != strconv.Itoa(ppid) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		line := strings.ReplaceAll(string(cmdline), "\x00", " ")
		ok := true
		for _, a := range args {
			ok = ok && strings.Contains(line, a)
		}
		if ok {
			out = append(out, pid)
		}
	}
	return out
}

// shellsOf returns the PIDs of the allocation's long-lived processes: the
// task shells (whose command line holds their script), not the short
// sleeps they run.
func shellsOf(allocID string) []int {
	var out []int
	for _, pid := range processesOf(allocID) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(cmdline, []byte("while")) {
			out = append(out, pid)
		}
	}
	return out
}

func pidAlive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	return fields[0] != "Z" && fields[0] != "X"
}

// tickerTask prints a numbered line every 100 ms, so a gap in its log
// shows as a missing number.
func tickerTask(name, driver string) *nomad.Task {
	return nomad.NewTask(name, driver).
		SetConfig("command", "/bin/sh").
		SetConfig("args", []string{"-c", `i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done`}).
		Require(&nomad.Resources{CPU: ptr(20), MemoryMB: ptr(32)})
}

// tickGaps reads a ticker's log and returns the missing numbers and the
// last number seen.
func tickGaps(t *testing.T, path string) (missing []int, last int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	defer f.Close()
	last = -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "tick "))
		if err != nil {
			t.Fatalf("log %s: unexpected line %q", path, sc.Text())
		}
		for m := last + 1; m < n; m++ {
			missing = append(missing, m)
		}
		last = n
	}
	return missing, last
}

type survivalTask struct {
	alloc, task, driver string
	pids                []int
	restarts            uint64
	started             int
}

// TestAgentKill9TasksSurvive is issue 6: kill -9 of a (non-dev) agent and
// a restart leave every task running under the same PID, unrestarted, with
// its log uninterrupted; a task killed while the agent was down is
// reported with its real exit code; the servers keep the allocations
// running throughout.
func TestAgentKill9TasksSurvive(t *testing.T) {
	requireRoot(t) // exec tasks need namespaces and cgroups
	// A production-style (non-dev) agent: state on disk, raw_exec and
	// exec enabled.
	confPath, addr, dataDir := writeAgentConf(t, "survival", "", rawExecPlugin)
	a := startAgent(t, addr, dataDir, "-config", confPath)
	plugins := childrenWithArgs(a.cmd.Process.Pid, "plugin", "driver")
	var taskPIDs []int
	var a2 *agent
	t.Cleanup(func() {
		// Tasks and plugins outlive the agent by design: end them here.
		if a2 != nil {
			a2.stop()
		}
		a.stop()
		for _, pid := range taskPIDs {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
		for _, pid := range plugins {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if len(plugins) == 0 {
		t.Fatal("agent launched no driver plugins")
	}

	api, err := nomad.NewClient(&nomad.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	job := nomad.NewServiceJob("survivor", "survivor", "global", 50)
	job.Datacenters = []string{"dc1"}
	for _, g := range []struct{ name, driver string }{{"raw", "raw_exec"}, {"isolated", "exec"}} {
		tg := nomad.NewTaskGroup(g.name, 2)
		tg.AddTask(tickerTask("ticker", g.driver))
		job.AddTaskGroup(tg)
	}
	victim := nomad.NewBatchJob("victim", "victim", "global", 50)
	victim.Datacenters = []string{"dc1"}
	vg := nomad.NewTaskGroup("v", 1)
	vg.RestartPolicy = &nomad.RestartPolicy{Attempts: ptr(0), Mode: ptr("fail")}
	// No replacement either: one would outlive the test.
	vg.ReschedulePolicy = &nomad.ReschedulePolicy{Attempts: ptr(0), Unlimited: ptr(false)}
	vg.AddTask(nomad.NewTask("victim", "raw_exec").SetConfig("command", "/bin/sh").
		SetConfig("args", []string{"-c", `trap "exit 7" TERM; while :; do sleep 0.1; done`}).
		Require(&nomad.Resources{CPU: ptr(20), MemoryMB: ptr(16)}))
	victim.AddTaskGroup(vg)
	for _, j := range []*nomad.Job{job, victim} {
		if _, _, err := api.Jobs().Register(j, nil); err != nil {
			t.Fatalf("register %s: %v", *j.ID, err)
		}
	}

	var before []*survivalTask
	var victimAlloc string
	a.waitFor(60*time.Second, "5 allocations running with their processes", func() (bool, error) {
		before = nil
		for _, jobID := range []string{"survivor", "victim"} {
			stubs, _, err := api.Jobs().Allocations(jobID, false, nil)
			if err != nil {
				return false, nil
			}
			for _, s := range stubs {
				if s.ClientStatus == "failed" {
					al, _, _ := api.Allocations().Info(s.ID, nil)
					return false, fmt.Errorf("allocation %s of %s failed: %+v", s.ID, jobID, al.TaskStates)
				}
				if s.ClientStatus != "running" {
					return false, nil
				}
				for name, ts := range s.TaskStates {
					st := &survivalTask{alloc: s.ID, task: name, driver: map[string]string{"raw": "raw_exec", "isolated": "exec", "v": "raw_exec"}[s.TaskGroup],
						pids: shellsOf(s.ID), restarts: ts.Restarts}
					for _, ev := range ts.Events {
						if ev.Type == "Started" {
							st.started++
						}
					}
					if len(st.pids) == 0 {
						return false, nil
					}
					if jobID == "victim" {
						victimAlloc = s.ID
					}
					before = append(before, st)
				}
			}
		}
		return len(before) == 5, nil
	})
	for _, st := range before {
		taskPIDs = append(taskPIDs, st.pids...)
	}
	logPath := func(st *survivalTask) string {
		return filepath.Join(dataDir, "client", "alloc", st.alloc, "alloc", "logs", st.task+".stdout.0")
	}

	// kill -9: the tasks live on and keep logging.
	a.killHard()
	downAt := time.Now()
	for _, st := range before {
		for _, pid := range st.pids {
			if !pidAlive(pid) {
				t.Fatalf("%s task %s pid %d died with the agent", st.driver, st.alloc, pid)
			}
		}
	}
	var victimPID int
	for _, st := range before {
		if st.alloc == victimAlloc {
			victimPID = st.pids[0]
			continue
		}
		_, last := tickGaps(t, logPath(st))
		a.waitFor(10*time.Second, "logs growing while the agent is down", func() (bool, error) {
			_, now := tickGaps(t, logPath(st))
			return now >= last+5, nil
		})
	}
	if err := syscall.Kill(victimPID, syscall.SIGTERM); err != nil {
		t.Fatalf("kill victim: %v", err)
	}
	a.waitFor(10*time.Second, "victim exit while the agent is down", func() (bool, error) {
		return !pidAlive(victimPID), nil
	})

	// Restart with the same config.
	a2 = startAgent(t, addr, dataDir, "-config", confPath)
	t.Logf("agent down for %v", time.Since(downAt).Round(time.Millisecond))
	if fresh := childrenWithArgs(a2.cmd.Process.Pid, "plugin", "driver"); len(fresh) != 0 {
		t.Errorf("restarted agent launched new driver plugins %v instead of reattaching to %v\n%s", fresh, plugins, a2.logs.String())
		plugins = append(plugins, fresh...)
	}
	for _, want := range []string{"reattached to driver plugin: driver=raw_exec", "reattached to driver plugin: driver=exec", "task recovered"} {
		a2.waitFor(10*time.Second, "restarted agent logs "+strconv.Quote(want), func() (bool, error) {
			return strings.Contains(a2.logs.String(), want), nil
		})
	}
	a2.waitFor(30*time.Second, "victim reported failed with its exit code", func() (bool, error) {
		al, _, err := api.Allocations().Info(victimAlloc, nil)
		if err != nil || al.ClientStatus != "failed" {
			return false, nil
		}
		for _, ev := range al.TaskStates["victim"].Events {
			if ev.Type == "Terminated" {
				if ev.ExitCode != 7 {
					return false, fmt.Errorf("victim exit code %d, want 7", ev.ExitCode)
				}
				return true, nil
			}
		}
		return false, fmt.Errorf("victim failed without a Terminated event: %+v", al.TaskStates["victim"].Events)
	})
	// Give a wrongly restarted task time to show, then check nothing did.
	time.Sleep(2 * time.Second)
	for _, st := range before {
		if st.alloc == victimAlloc {
			continue
		}
		al, _, err := api.Allocations().Info(st.alloc, nil)
		if err != nil {
			t.Fatal(err)
		}
		ts := al.TaskStates[st.task]
		started := 0
		for _, ev := range ts.Events {
			if ev.Type == "Started" {
				started++
			}
		}
		if al.ClientStatus != "running" || ts.State != "running" || ts.Restarts != st.restarts || started != st.started {
			var types []string
			for _, ev := range ts.Events {
				types = append(types, ev.Type)
			}
			t.Errorf("%s alloc %s: client status %s, task %s, restarts %d (was %d), Started events %d (was %d); events %v",
				st.driver, st.alloc, al.ClientStatus, ts.State, ts.Restarts, st.restarts, started, st.started, types)
		}
		if now := shellsOf(st.alloc); !slices.Equal(now, st.pids) {
			t.Errorf("%s alloc %s: pids %v, were %v", st.driver, st.alloc, now, st.pids)
		}
		missing, last := tickGaps(t, logPath(st))
		if len(missing) > 0 {
			t.Errorf("%s alloc %s: log misses ticks %v", st.driver, st.alloc, missing)
		}
		if last < 20 {
			t.Errorf("%s alloc %s: log ends at tick %d", st.driver, st.alloc, last)
		}
	}
	if t.Failed() {
		t.Logf("restarted agent output:\n%s", a2.logs.String())
		return
	}

	// Stopping the job through the restarted agent stops the recovered
	// tasks: they are supervised again.
	if _, _, err := api.Jobs().Deregister("survivor", false, nil); err != nil {
		t.Fatal(err)
	}
	a2.waitFor(30*time.Second, "recovered tasks stopped", func() (bool, error) {
		for _, pid := range taskPIDs {
			if pidAlive(pid) {
				return false, nil
			}
		}
		return true, nil
	})
}
