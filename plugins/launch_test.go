// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
)

// servePluginEnv makes the test binary a plugin process serving fakeDriver,
// so Launch and Reattach are tested against a real subprocess.
const servePluginEnv = "DROVER_TEST_SERVE_FAKE_DRIVER"

// shortLivedAgentEnv makes the test binary an "agent" that launches the
// fake plugin, prints its reattach config and exits without killing it.
const shortLivedAgentEnv = "DROVER_TEST_SHORT_LIVED_AGENT"

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(servePluginEnv) == "1":
		Serve(newFakeDriver())
		os.Exit(0)
	case os.Getenv(shortLivedAgentEnv) == "1":
		os.Exit(runShortLivedAgent())
	}
	os.Exit(m.Run())
}

func runShortLivedAgent() int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Launch(ctx, "fake", fakePluginCmd(), hclog.NewNullLogger())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, err := MarshalReattachConfig(d.ReattachConfig())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		d.Kill()
		return 1
	}
	os.Stdout.Write(b)
	return 0
}

func fakePluginCmd() *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{servePluginEnv + "=1"}
	return cmd
}

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Output: t.Output(), Level: hclog.Debug})
}

func TestLaunchReattachKill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	first, err := Launch(ctx, "fake", fakePluginCmd(), testLogger(t))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(first.Kill)
	if _, err := first.StartTask(testTaskConfig("t1")); err != nil {
		t.Fatalf("StartTask through launched plugin: %v", err)
	}

	// The agent saves the reattach config and "restarts": a new client
	// reaches the same plugin process through the decoded config.
	rc := first.ReattachConfig()
	b, err := MarshalReattachConfig(rc)
	if err != nil {
		t.Fatalf("MarshalReattachConfig: %v", err)
	}
	rc2, err := UnmarshalReattachConfig(b)
	if err != nil {
		t.Fatalf("UnmarshalReattachConfig: %v", err)
	}
	if rc2.Pid != rc.Pid || rc2.Addr.String() != rc.Addr.String() || rc2.Protocol != rc.Protocol {
		t.Fatalf("reattach config round trip: got %+v, want %+v", rc2, rc)
	}
	second, err := Reattach(ctx, "fake", rc2, testLogger(t))
	if err != nil {
		t.Fatalf("Reattach: %v", err)
	}
	if got := second.Name(); got != "fake" {
		t.Errorf("reattached Name = %q", got)
	}
	fp, err := second.Fingerprint(ctx)
	if err != nil || fp.Health != HealthHealthy {
		t.Fatalf("Fingerprint through reattached plugin = %+v, %v", fp, err)
	}

	second.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(rc.Pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("plugin pid %d still alive after Kill", rc.Pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !second.Exited() {
		t.Error("Exited() = false after Kill")
	}
	if _, err := Reattach(ctx, "fake", rc2, testLogger(t)); err == nil {
		t.Error("Reattach to a killed plugin succeeded")
	}
}

func TestLaunchWrongName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Launch(ctx, "raw_exec", fakePluginCmd(), testLogger(t))
	if err == nil {
		d.Kill()
		t.Fatal("Launch accepted a plugin serving another driver")
	}
}

func TestUnmarshalReattachConfigErrors(t *testing.T) {
	for _, in := range []string{`{`, `{"Network":"udp","Address":"x"}`, `{"Network":"tcp","Address":"nope"}`} {
		if _, err := UnmarshalReattachConfig([]byte(in)); err == nil {
			t.Errorf("UnmarshalReattachConfig(%s) succeeded", in)
		}
	}
}

// The agent dies (exits without Kill); the plugin must live on, and a new
// agent reattaches to it.
func TestPluginOutlivesAgent(t *testing.T) {
	agent := exec.Command(os.Args[0])
	agent.Env = []string{shortLivedAgentEnv + "=1"}
	agent.Stderr = t.Output()
	out, err := agent.Output()
	if err != nil {
		t.Fatalf("short-lived agent: %v", err)
	}
	rc, err := UnmarshalReattachConfig(out)
	if err != nil {
		t.Fatalf("agent output %q: %v", out, err)
	}
	t.Cleanup(func() { syscall.Kill(rc.Pid, syscall.SIGKILL) })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Reattach(ctx, "fake", rc, testLogger(t))
	if err != nil {
		t.Fatalf("Reattach after agent exit: %v", err)
	}
	if _, err := d.StartTask(testTaskConfig("t1")); err != nil {
		t.Fatalf("StartTask through orphaned plugin: %v", err)
	}
	d.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(rc.Pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("plugin pid %d still alive after Kill", rc.Pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
