// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
)

// helloPlugin configures the example third-party driver found in the
// plugin_dir (verb).
const helloPlugin = `plugin_dir = %q
plugin "hello" {
  config {
    greeting = "Bonjour"
  }
}`

// buildHelloDriver builds plugins/examples/hello-driver into dir.
func buildHelloDriver(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hello-driver")
	cmd := exec.Command("go", "build", "-o", bin, "./plugins/examples/hello-driver")
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build hello-driver: %v\n%s", err, out)
	}
	return bin
}

// TestThirdPartyDriverPlugin is issue 6: the example driver, dropped into
// plugin_dir, is launched, configured from its plugin block, runs a job
// with driver = "hello", and survives a kill -9 of the agent like a
// built-in driver (the restarted agent reattaches to the same process).
// Files in plugin_dir that are not driver plugins are skipped with a log
// line naming them, and all built-in drivers share one plugin process.
func TestThirdPartyDriverPlugin(t *testing.T) {
	pluginDir := filepath.Join(t.TempDir(), "driver-plugins")
	buildHelloDriver(t, pluginDir)
	junk := filepath.Join(pluginDir, "not-a-plugin.sh")
	if err := os.WriteFile(junk, []byte("#!/bin/sh\necho nope\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pluginDir, "README"), []byte("not executable\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	confPath, addr, dataDir := writeAgentConf(t, "plugins", "", fmt.Sprintf(helloPlugin, pluginDir))

	a := startAgent(t, addr, dataDir, "-config", confPath)
	builtins := childrenWithArgs(a.cmd.Process.Pid, " plugin driver ")
	hellos := childrenWithArgs(a.cmd.Process.Pid, "hello-driver")
	var a2 *agent
	t.Cleanup(func() {
		// A non-dev agent leaves its plugins running by design.
		if a2 != nil {
			a2.stop()
		}
		a.stop()
		for _, pid := range append(builtins, hellos...) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if len(builtins) != 1 {
		t.Errorf("built-in drivers run in %d plugin processes %v, want one", len(builtins), builtins)
	}
	if len(hellos) != 1 {
		t.Fatalf("agent runs %d hello-driver processes %v, want one\n%s", len(hellos), hellos, a.logs.String())
	}
	for _, want := range []string{"plugin_dir file is not a working driver plugin, skipping it", junk, "launched third-party driver plugin: driver=hello"} {
		if !strings.Contains(a.logs.String(), want) {
			t.Errorf("agent did not log %q", want)
		}
	}

	api, err := nomad.NewClient(&nomad.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	nodes, _, err := api.Nodes().List(nil)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes: %v, %v", nodes, err)
	}
	node, _, err := api.Nodes().Info(nodes[0].ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := node.Drivers["hello"]; d == nil || !d.Healthy || !d.Detected {
		t.Fatalf("node's hello driver = %+v, want detected and healthy", d)
	}

	job := nomad.NewBatchJob("greeter", "greeter", "global", 50)
	job.Datacenters = []string{"dc1"}
	tg := nomad.NewTaskGroup("g", 1)
	tg.RestartPolicy = &nomad.RestartPolicy{Attempts: ptr(0), Mode: ptr("fail")}
	tg.AddTask(nomad.NewTask("greet", "hello").
		SetConfig("name", "Drover").
		SetConfig("duration", "5s").
		Require(&nomad.Resources{CPU: ptr(20), MemoryMB: ptr(16)}))
	job.AddTaskGroup(tg)
	if _, _, err := api.Jobs().Register(job, nil); err != nil {
		t.Fatalf("register: %v", err)
	}
	var allocID string
	a.waitFor(30*time.Second, "greeter running", func() (bool, error) {
		stubs, _, err := api.Jobs().Allocations("greeter", false, nil)
		if err != nil || len(stubs) == 0 {
			return false, nil
		}
		if s := stubs[0].ClientStatus; s == "failed" || s == "complete" {
			return false, fmt.Errorf("allocation %s before the agent restart", s)
		}
		allocID = stubs[0].ID
		return stubs[0].ClientStatus == "running", nil
	})

	// kill -9 and restart: the task runs on under the same plugin process.
	a.killHard()
	a2 = startAgent(t, addr, dataDir, "-config", confPath)
	if fresh := childrenWithArgs(a2.cmd.Process.Pid, "hello-driver"); len(fresh) != 0 {
		hellos = append(hellos, fresh...)
		t.Errorf("restarted agent launched hello-driver %v instead of reattaching to %v", fresh, hellos)
	}
	if !strings.Contains(a2.logs.String(), "reattached to driver plugin: driver=hello") {
		t.Errorf("restarted agent did not reattach to the hello driver")
	}

	a2.waitFor(30*time.Second, "greeter complete", func() (bool, error) {
		al, _, err := api.Allocations().Info(allocID, nil)
		if err != nil {
			return false, nil
		}
		if al.ClientStatus == "failed" {
			return false, fmt.Errorf("allocation failed: %+v", al.TaskStates)
		}
		return al.ClientStatus == "complete", nil
	})
	al, _, err := api.Allocations().Info(allocID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ts := al.TaskStates["greet"]; ts == nil || ts.Restarts != 0 || ts.Failed {
		t.Errorf("greet task state = %+v, want one successful run", ts)
	}
	logPath := filepath.Join(dataDir, "client", "alloc", allocID, "alloc", "logs", "greet.stdout.0")
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "Bonjour, Drover!\n" {
		t.Errorf("greet log = %q, want one greeting", b)
	}
}
