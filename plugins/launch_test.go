// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
)

// servePluginEnv makes the test binary a plugin process serving fakeDriver,
// so Launch and Reattach are tested against a real subprocess.
const servePluginEnv = "DROVER_TEST_SERVE_FAKE_DRIVER"

// serveTwoEnv makes the test binary one plugin process serving two
// drivers, "fake" and "other", as `drover plugin driver a,b` does.
const serveTwoEnv = "DROVER_TEST_SERVE_TWO_DRIVERS"

// shortLivedAgentEnv makes the test binary an "agent" that launches the
// fake plugin, prints its reattach config and exits without killing it.
const shortLivedAgentEnv = "DROVER_TEST_SHORT_LIVED_AGENT"

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(servePluginEnv) == "1":
		Serve(newFakeDriver())
		os.Exit(0)
	case os.Getenv(serveTwoEnv) == "1":
		if err := ServeDrivers(newFakeDriver(), newNamedFake("other")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
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

func twoDriversCmd() *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{serveTwoEnv + "=1"}
	return cmd
}

// Two drivers in one process keep their identities: each call reaches the
// driver it names, on launch and after a reattach, and Kill of either
// ends the shared process.
func TestLaunchDriversShareOneProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ds, err := LaunchDrivers(ctx, []string{"fake", "other"}, twoDriversCmd(), testLogger(t))
	if err != nil {
		t.Fatalf("LaunchDrivers: %v", err)
	}
	t.Cleanup(ds["fake"].Kill)
	rc := ds["fake"].ReattachConfig()
	if got := ds["other"].ReattachConfig(); got.Pid != rc.Pid {
		t.Fatalf("drivers run in pids %d and %d, want one process", rc.Pid, got.Pid)
	}
	reattached, err := Reattach(ctx, "other", rc, testLogger(t))
	if err != nil {
		t.Fatalf("Reattach other: %v", err)
	}
	for _, tc := range []struct {
		via  Driver
		want string
	}{{ds["fake"], "fake"}, {ds["other"], "other"}, {reattached, "other"}} {
		fp, err := tc.via.Fingerprint(ctx)
		if err != nil {
			t.Fatalf("Fingerprint of %s: %v", tc.want, err)
		}
		if fp.Attributes["driver."+tc.want] != "1" || len(fp.Attributes) != 1 {
			t.Errorf("Fingerprint through %s driver = %v: answered by the wrong driver", tc.want, fp.Attributes)
		}
		if got := tc.via.Name(); got != tc.want {
			t.Errorf("Name = %q, want %q", got, tc.want)
		}
	}
	if _, err := Reattach(ctx, "raw_exec", rc, testLogger(t)); err == nil || !strings.Contains(err.Error(), `does not serve driver "raw_exec"`) {
		t.Errorf("Reattach to a driver the process lacks: err = %v", err)
	}
	// That failed reattach must not have killed the shared process.
	if _, err := ds["other"].InspectTask("t1"); err != nil {
		t.Fatalf("InspectTask after failed reattach: %v", err)
	}

	ds["other"].Kill()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(rc.Pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("plugin pid %d still alive after Kill", rc.Pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !ds["fake"].Exited() {
		t.Error("fake driver's Exited() = false after its process was killed")
	}
}

// A third-party plugin is launched before its name is known.
func TestLaunchUnnamed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Launch(ctx, "", fakePluginCmd(), testLogger(t))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	defer d.Kill()
	if d.Name() != "fake" {
		t.Errorf("Name = %q, want fake", d.Name())
	}
	if _, err := d.StartTask(testTaskConfig("t1")); err != nil {
		t.Errorf("StartTask: %v", err)
	}
}

// Whatever is not a driver plugin fails to launch with an error, and
// leaves no process behind.
func TestLaunchNotAPlugin(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  *exec.Cmd
		want string
	}{
		{"prints junk", exec.Command("/bin/sh", "-c", "echo hello; sleep 30"), "hello"},
		{"exits", exec.Command("/bin/true"), "Unrecognized remote plugin message"},
		{"unnamed call to two drivers", twoDriversCmd(), "must name one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			d, err := Launch(ctx, "", tc.cmd, testLogger(t))
			if err == nil {
				d.Kill()
				t.Fatal("Launch succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Launch error = %v, want it to mention %q", err, tc.want)
			}
			if tc.cmd.Process != nil && syscall.Kill(tc.cmd.Process.Pid, 0) == nil {
				// Reaped by go-plugin, so a live pid is a leak.
				t.Errorf("process %d left running", tc.cmd.Process.Pid)
			}
		})
	}
}

func TestLaunchDriversRejectsEmptyNames(t *testing.T) {
	for _, names := range [][]string{nil, {"fake", ""}} {
		if _, err := LaunchDrivers(context.Background(), names, twoDriversCmd(), testLogger(t)); err == nil {
			t.Errorf("LaunchDrivers(%q) succeeded", names)
		}
	}
}
