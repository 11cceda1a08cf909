// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

// addrEnv names the socket of the containerd the tests use. They never
// touch a system daemon: scripts/containerd-test-env.sh starts a private
// one and prints this variable.
const addrEnv = "DROVER_TEST_CONTAINERD_ADDR"

// testNamespace keeps the tests' containers and images apart.
const testNamespace = "drover-test"

// servePluginEnv makes the test binary a containerd plugin process, so the
// driver is also tested the way the agent runs it.
const servePluginEnv = "DROVER_TEST_SERVE_CONTAINERD"

// testImage is the busybox OCI archive every test starts from.
var testImage string

func TestMain(m *testing.M) {
	if os.Getenv(servePluginEnv) == "1" {
		plugins.Serve(New(plugins.PluginLogger(Name)))
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "drover-containerd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testImage, err = writeBusyboxImage(dir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "build test image:", err)
		os.Exit(1)
	}
	code := m.Run()
	removeTestImages()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemonAddr returns the test daemon's socket, failing (never skipping)
// the test when there is none.
func daemonAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv(addrEnv)
	if addr == "" {
		t.Fatalf("%s is not set: start a private containerd first with\n\teval \"$(scripts/containerd-test-env.sh start)\"", addrEnv)
	}
	if _, err := os.Stat(addr); err != nil {
		t.Fatalf("%s=%s: %v: start it with\n\teval \"$(scripts/containerd-test-env.sh start)\"", addrEnv, addr, err)
	}
	return addr
}

func pluginConfig(t *testing.T) []byte {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"address": daemonAddr(t), "namespace": testNamespace})
	return b
}

func newDriver(t *testing.T) *Driver {
	t.Helper()
	d := New(hclog.New(&hclog.LoggerOptions{Output: t.Output(), Level: hclog.Debug}))
	if err := d.SetConfig(pluginConfig(t)); err != nil {
		t.Fatal(err)
	}
	return d
}

// testClient is a client of the test daemon, for checks behind the
// driver's back.
func testClient(t *testing.T) (*client.Client, context.Context) {
	t.Helper()
	c, err := client.New(daemonAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, namespaces.WithNamespace(context.Background(), testNamespace)
}

// removeTestImages deletes what the tests imported, so repeated runs
// against one daemon start clean.
func removeTestImages() {
	addr := os.Getenv(addrEnv)
	if addr == "" {
		return
	}
	c, err := client.New(addr)
	if err != nil {
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), testNamespace), 30*time.Second)
	defer cancel()
	imgs, err := c.ImageService().List(ctx)
	if err != nil {
		return
	}
	for _, img := range imgs {
		if strings.HasPrefix(img.Name, archiveImagePrefix) {
			c.ImageService().Delete(ctx, img.Name)
		}
	}
}

// taskConfig builds a task in a fresh alloc dir, running args in the test
// image with 64 MiB of memory.
func taskConfig(t *testing.T, id string, args ...string) *plugins.TaskConfig {
	t.Helper()
	dir := t.TempDir()
	taskDir := filepath.Join(dir, "web")
	for _, sub := range []string{"alloc/logs", "web/local", "web/secrets"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tc := TaskConfig{Image: "oci-archive://" + testImage}
	if len(args) > 0 {
		tc.Command, tc.Args = args[0], args[1:]
	}
	dc, _ := json.Marshal(tc)
	return &plugins.TaskConfig{
		ID: id, Name: "web", AllocID: "a1", AllocDir: dir, TaskDir: taskDir, DriverConfig: dc,
		Env:        map[string]string{"NOMAD_TASK_NAME": "web", "NOMAD_TASK_DIR": filepath.Join(taskDir, "local")},
		StdoutPath: filepath.Join(dir, "alloc", "logs", "web.stdout"),
		StderrPath: filepath.Join(dir, "alloc", "logs", "web.stderr"),
		MemoryMB:   64,
		CPUMHz:     100,
	}
}

func setDriverConfig(t *testing.T, cfg *plugins.TaskConfig, mutate func(*TaskConfig)) {
	t.Helper()
	var tc TaskConfig
	if err := json.Unmarshal(cfg.DriverConfig, &tc); err != nil {
		t.Fatal(err)
	}
	mutate(&tc)
	cfg.DriverConfig, _ = json.Marshal(tc)
}

func start(t *testing.T, d plugins.Driver, cfg *plugins.TaskConfig) *plugins.TaskHandle {
	t.Helper()
	// A container left by an earlier run that crashed would block the ID.
	c, ctx := testClient(t)
	if err := deleteContainer(ctx, c, containerID(cfg)); err != nil {
		t.Fatalf("remove stale container: %v", err)
	}
	h, err := d.StartTask(cfg)
	if err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	t.Cleanup(func() { d.DestroyTask(cfg.ID, true) })
	return h
}

func waitTask(t *testing.T, d plugins.Driver, id string) *plugins.ExitResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := d.WaitTask(ctx, id)
	if err != nil {
		t.Fatalf("WaitTask: %v", err)
	}
	return res
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
