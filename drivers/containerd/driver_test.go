// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

func TestFingerprint(t *testing.T) {
	addr := daemonAddr(t)
	notContainerd := filepath.Join(t.TempDir(), "other.sock")
	l, err := net.Listen("unix", notContainerd)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // accepts and hangs up: not a gRPC server
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	for _, tt := range []struct {
		name, config, health string
	}{
		{"healthy", `{"address":"` + addr + `"}`, plugins.HealthHealthy},
		{"no socket", `{"address":"/nonexistent/containerd.sock"}`, plugins.HealthUndetected},
		{"disabled", `{"address":"` + addr + `","enabled":false}`, plugins.HealthUndetected},
		{"not containerd", `{"address":"` + notContainerd + `"}`, plugins.HealthUnhealthy},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := New(hclog.NewNullLogger())
			if err := d.SetConfig([]byte(tt.config)); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			fp, err := d.Fingerprint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if fp.Health != tt.health {
				t.Fatalf("Fingerprint = %+v, want %s", fp, tt.health)
			}
			if tt.health == plugins.HealthHealthy && (fp.Attributes["driver.containerd"] != "1" || fp.Attributes["driver.containerd.version"] == "") {
				t.Errorf("attributes = %v", fp.Attributes)
			}
			if tt.health != plugins.HealthHealthy && fp.HealthDescription == "" {
				t.Error("no health description")
			}
		})
	}
}

func TestStartExitCodeEnvMountsLogs(t *testing.T) {
	d := newDriver(t)
	cfg := taskConfig(t, "t1", "sh", "-c",
		`echo out; echo err >&2; cat /local/x; echo "$FOO $NOMAD_TASK_DIR"; pwd; id -u; echo shared > /alloc/from-task; exit 3`)
	cfg.Env["FOO"] = "bar"
	setDriverConfig(t, cfg, func(tc *TaskConfig) { tc.Cwd = "/tmp" })
	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "local", "x"), []byte("from local\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, d, cfg)
	res := waitTask(t, d, "t1")
	if res.ExitCode != 3 || res.Signal != 0 || res.OOMKilled {
		t.Errorf("exit = %+v, want code 3", res)
	}
	wantOut := "out\nfrom local\nbar /local\n/tmp\n0\n"
	eventually(t, "stdout", func() bool { return readFile(cfg.StdoutPath+".0") == wantOut })
	eventually(t, "stderr", func() bool { return readFile(cfg.StderrPath+".0") == "err\n" })
	if got := readFile(filepath.Join(cfg.AllocDir, "alloc", "from-task")); got != "shared\n" {
		t.Errorf("alloc/from-task = %q", got)
	}

	st, err := d.InspectTask("t1")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != plugins.TaskStateExited || st.ExitResult.ExitCode != 3 || st.CompletedAt.Before(st.StartedAt) ||
		st.DriverAttributes["container_id"] == "" || !strings.HasPrefix(st.DriverAttributes["image"], archiveImagePrefix) {
		t.Errorf("InspectTask = %+v", st)
	}
}

// The image's own command runs when the task sets none, and an archive is
// imported once: a second task reuses the image.
func TestImageCommandAndCache(t *testing.T) {
	d := newDriver(t)
	c, ctx := testClient(t)
	cfg := taskConfig(t, "t1")
	setDriverConfig(t, cfg, func(tc *TaskConfig) {
		tc.Args = []string{"-c", "echo image entry"}
		tc.Entrypoint = []string{"/bin/sh"}
	})
	start(t, d, cfg)
	if res := waitTask(t, d, "t1"); !res.Successful() {
		t.Fatalf("exit = %+v", res)
	}
	eventually(t, "stdout", func() bool { return readFile(cfg.StdoutPath+".0") == "image entry\n" })
	st, _ := d.InspectTask("t1")
	img, err := c.ImageService().Get(ctx, st.DriverAttributes["image"])
	if err != nil {
		t.Fatalf("imported image: %v", err)
	}

	cfg2 := taskConfig(t, "t2") // image Cmd ["sh"] with no stdin: exits 0
	start(t, d, cfg2)
	if res := waitTask(t, d, "t2"); !res.Successful() {
		t.Fatalf("exit of image command = %+v", res)
	}
	again, err := c.ImageService().Get(ctx, st.DriverAttributes["image"])
	if err != nil || !again.CreatedAt.Equal(img.CreatedAt) {
		t.Errorf("image re-imported: %v, created %v then %v", err, img.CreatedAt, again.CreatedAt)
	}
}

// A container's PID 1 that does not exit on SIGTERM is SIGKILLed once
// the stop timeout (kill_timeout) passes: one that ignores TERM, and one
// with no handler at all, which the kernel shields from SIGTERM as the
// init of its PID namespace.
func TestStopEscalation(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"ignores TERM", []string{"sh", "-c", `trap "" TERM; echo ready; sleep 1000`}},
		{"no handler", []string{"sleep", "1000"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t)
			cfg := taskConfig(t, "t1", tt.args...)
			start(t, d, cfg)
			if tt.args[0] == "sh" {
				eventually(t, "trap installed", func() bool { return readFile(cfg.StdoutPath+".0") == "ready\n" })
			}
			began := time.Now()
			if err := d.StopTask("t1", 500*time.Millisecond, "SIGTERM"); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(began); took < 500*time.Millisecond {
				t.Errorf("StopTask returned after %v, before the timeout", took)
			}
			if res := waitTask(t, d, "t1"); res.Signal != 9 || res.ExitCode != 137 {
				t.Errorf("exit = %+v, want SIGKILL", res)
			}
		})
	}
}

func TestStopSignal(t *testing.T) {
	d := newDriver(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `trap "echo got INT; exit 0" INT; echo ready; while :; do sleep 0.1; done`)
	start(t, d, cfg)
	eventually(t, "trap installed", func() bool { return readFile(cfg.StdoutPath+".0") == "ready\n" })
	if err := d.StopTask("t1", 20*time.Second, "INT"); err != nil {
		t.Fatal(err)
	}
	if res := waitTask(t, d, "t1"); !res.Successful() {
		t.Errorf("exit = %+v, want the trap's exit 0", res)
	}
	eventually(t, "trap output", func() bool { return strings.Contains(readFile(cfg.StdoutPath+".0"), "got INT") })
	if err := d.StopTask("t1", time.Second, "SIGNOPE"); err == nil || !strings.Contains(err.Error(), "SIGNOPE") {
		t.Errorf("StopTask with a bad signal = %v", err)
	}
	if err := d.StopTask("t1", time.Second, ""); err != nil {
		t.Errorf("StopTask of an exited task = %v", err)
	}
}

func TestMemoryLimitOOMKilled(t *testing.T) {
	d := newDriver(t)
	// dd reads 256 MiB of zeros into one buffer: far past the 32 MiB limit.
	cfg := taskConfig(t, "t1", "dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1")
	cfg.MemoryMB = 32
	start(t, d, cfg)
	res := waitTask(t, d, "t1")
	if !res.OOMKilled || res.Signal != 9 {
		t.Errorf("exit = %+v, want OOM killed", res)
	}
	st, _ := d.InspectTask("t1")
	if st.ExitResult == nil || !st.ExitResult.OOMKilled {
		t.Errorf("InspectTask = %+v", st)
	}
}

// With memory_max (oversubscription) the hard limit is memory_max and
// memory only the reservation: dd's one buffer of bs bytes fits above
// memory and below memory_max, and is OOM killed past memory_max.
func TestMemoryMaxIsHardLimit(t *testing.T) {
	d := newDriver(t)
	for _, tt := range []struct {
		name      string
		block     string
		memory    int64
		memoryMax int64
		oom       bool
	}{
		{"above memory, below memory_max", "48M", 32, 128, false},
		{"above memory_max", "128M", 32, 64, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := taskConfig(t, "t-"+tt.block, "dd", "if=/dev/zero", "of=/dev/null", "bs="+tt.block, "count=1")
			cfg.MemoryMB, cfg.MemoryMaxMB = tt.memory, tt.memoryMax
			start(t, d, cfg)
			res := waitTask(t, d, cfg.ID)
			if res.OOMKilled != tt.oom || res.Successful() == tt.oom {
				t.Errorf("exit = %+v: want OOM killed %v", res, tt.oom)
			}
		})
	}
}

func TestPrivilegedNeedsPluginConsent(t *testing.T) {
	d := newDriver(t)
	cfg := taskConfig(t, "t1", "true")
	setDriverConfig(t, cfg, func(tc *TaskConfig) { tc.Privileged = true })
	if _, err := d.StartTask(cfg); err == nil || !strings.Contains(err.Error(), "allow_privileged") {
		t.Fatalf("privileged start without allow_privileged = %v", err)
	}
	// Unprivileged containers run under the default seccomp profile
	// (Seccomp: 2 is filter mode); privileged ones do not.
	cfg = taskConfig(t, "t2", "grep", "Seccomp:", "/proc/self/status")
	start(t, d, cfg)
	waitTask(t, d, "t2")
	eventually(t, "seccomp line", func() bool { return readFile(cfg.StdoutPath+".0") == "Seccomp:\t2\n" })

	if err := d.SetConfig(append(pluginConfig(t)[:len(pluginConfig(t))-1], []byte(`,"allow_privileged":true}`)...)); err != nil {
		t.Fatal(err)
	}
	cfg = taskConfig(t, "t3", "grep", "Seccomp:", "/proc/self/status")
	setDriverConfig(t, cfg, func(tc *TaskConfig) { tc.Privileged = true })
	start(t, d, cfg)
	waitTask(t, d, "t3")
	eventually(t, "seccomp line", func() bool { return readFile(cfg.StdoutPath+".0") == "Seccomp:\t0\n" })
}

func TestStartErrors(t *testing.T) {
	d := newDriver(t)
	for _, tt := range []struct{ config, want string }{
		{`{"image":"oci-archive:///nonexistent/image.tar"}`, "no such file"},
		{`{"image":"oci-archive://relative.tar"}`, "must be absolute"},
		{`{"image":"UPPER/Case:x"}`, "UPPER/Case"},
		{`{"image":"x","command":"true","argz":[]}`, `unknown field "argz"`},
	} {
		cfg := taskConfig(t, "t1", "true")
		cfg.DriverConfig = []byte(tt.config)
		if _, err := d.StartTask(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("StartTask(%s) = %v, want error with %q", tt.config, err, tt.want)
		}
	}
	// A command missing from the image fails at start, and leaves no
	// container behind.
	cfg := taskConfig(t, "t1", "/no/such/binary")
	if _, err := d.StartTask(cfg); err == nil {
		t.Fatal("started a missing binary")
	}
	c, ctx := testClient(t)
	if _, err := c.LoadContainer(ctx, containerID(cfg)); !errdefs.IsNotFound(err) {
		t.Errorf("container of the failed start = %v, want not found", err)
	}
	if _, err := d.InspectTask("t1"); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("failed task is known: %v", err)
	}
}

func TestUnknownTask(t *testing.T) {
	d := newDriver(t)
	_, errWait := d.WaitTask(context.Background(), "nope")
	_, errInspect := d.InspectTask("nope")
	for _, err := range []error{errWait, errInspect, d.StopTask("nope", time.Second, ""), d.DestroyTask("nope", true)} {
		if !errors.Is(err, plugins.ErrTaskNotFound) {
			t.Errorf("error = %v, want ErrTaskNotFound", err)
		}
	}
}

func TestDestroyTask(t *testing.T) {
	d := newDriver(t)
	c, ctx := testClient(t)
	cfg := taskConfig(t, "t1", "sleep", "1000")
	start(t, d, cfg)
	if _, err := d.StartTask(taskConfig(t, "t1", "true")); err == nil {
		t.Error("started a second task with the same ID")
	}
	if err := d.DestroyTask("t1", false); err == nil {
		t.Error("destroyed a running task without force")
	}
	if err := d.DestroyTask("t1", true); err != nil {
		t.Fatalf("DestroyTask(force): %v", err)
	}
	if _, err := d.InspectTask("t1"); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("task still known after destroy: %v", err)
	}
	id := containerID(cfg)
	if _, err := c.LoadContainer(ctx, id); !errdefs.IsNotFound(err) {
		t.Errorf("container after destroy: %v", err)
	}
	if _, err := c.SnapshotService("").Stat(ctx, id); !errdefs.IsNotFound(err) {
		t.Errorf("snapshot after destroy: %v", err)
	}
}

func TestRecoverTask(t *testing.T) {
	first := newDriver(t)
	cfg := taskConfig(t, "t1", "sh", "-c", `echo before; while [ ! -e /local/go ]; do sleep 0.05; done; echo after; exit 5`)
	h := start(t, first, cfg)
	eventually(t, "first output", func() bool { return readFile(cfg.StdoutPath+".0") == "before\n" })

	second := newDriver(t)
	if err := second.RecoverTask(h); err != nil {
		t.Fatalf("RecoverTask: %v", err)
	}
	if err := second.RecoverTask(h); err != nil {
		t.Fatalf("second RecoverTask: %v", err)
	}
	t.Cleanup(func() { second.DestroyTask("t1", true) })
	if st, err := second.InspectTask("t1"); err != nil || st.State != plugins.TaskStateRunning || st.DriverAttributes["pid"] == "0" {
		t.Fatalf("InspectTask after recover = %+v, %v", st, err)
	}
	if err := os.WriteFile(filepath.Join(cfg.TaskDir, "local", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := waitTask(t, second, "t1"); res.ExitCode != 5 {
		t.Errorf("recovered exit = %+v, want 5", res)
	}
	eventually(t, "output after recovery", func() bool { return readFile(cfg.StdoutPath+".0") == "before\nafter\n" })

	// A task that exited while nobody watched reports its real status.
	cfg2 := taskConfig(t, "t2", "sh", "-c", "exit 4")
	h2 := start(t, first, cfg2)
	waitTask(t, first, "t2")
	third := newDriver(t)
	if err := third.RecoverTask(h2); err != nil {
		t.Fatalf("RecoverTask of an exited task: %v", err)
	}
	if res := waitTask(t, third, "t2"); res.ExitCode != 4 {
		t.Errorf("exit of a task that ended unwatched = %+v, want 4", res)
	}
	if err := third.DestroyTask("t2", false); err != nil {
		t.Fatal(err)
	}

	// Gone containers and bad handles are refused.
	if err := newDriver(t).RecoverTask(h2); err == nil {
		t.Error("recovered a destroyed task")
	}
	for _, bad := range []*plugins.TaskHandle{
		nil,
		{Version: 1},
		{Version: 99, Config: cfg, State: h.State},
		{Version: 1, Config: cfg, State: []byte("{")},
		{Version: 1, Config: cfg, State: []byte("{}")},
	} {
		if err := newDriver(t).RecoverTask(bad); err == nil {
			t.Errorf("RecoverTask(%+v) succeeded", bad)
		}
	}
}
