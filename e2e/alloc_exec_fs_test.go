// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
)

// execFSTaskScript leaves in the task's directory a file, a symlink out
// to /etc, and a log that grows, then keeps running.
const execFSTaskScript = `echo data > "$NOMAD_TASK_DIR/file.txt"
ln -s /etc "$NOMAD_TASK_DIR/etc"
i=0
while :; do i=$((i+1)); echo "tick $i" >> "$NOMAD_ALLOC_DIR/tick.log"; sleep 0.2; done`

// runExecFSJob registers a service job of one raw_exec task "web" running
// execFSTaskScript and returns its running allocation.
func runExecFSJob(t *testing.T, nc *nomad.Client, id string) *nomad.Allocation {
	t.Helper()
	job := nomad.NewServiceJob(id, id, "global", 50)
	job.Datacenters = []string{"dc1"}
	tg := nomad.NewTaskGroup("g", 1)
	tg.AddTask(nomad.NewTask("web", "raw_exec").SetConfig("command", "/bin/sh").
		SetConfig("args", []string{"-c", execFSTaskScript}).
		Require(&nomad.Resources{CPU: ptr(20), MemoryMB: ptr(32)}))
	job.AddTaskGroup(tg)
	if _, _, err := nc.Jobs().Register(job, nil); err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	// A client that is not in -dev mode leaves its tasks running when it
	// stops: stop the job first (cleanups run last in, first out).
	t.Cleanup(func() {
		if _, _, err := nc.Jobs().Deregister(id, false, nil); err != nil {
			t.Errorf("stop %s: %v", id, err)
			return
		}
		waitUntil(t, 60*time.Second, "the job's tasks stopped", func() bool {
			allocs, _, err := nc.Jobs().Allocations(id, true, nil)
			if err != nil {
				return false
			}
			for _, a := range allocs {
				if a.ClientStatus == "running" || a.ClientStatus == "pending" {
					return false
				}
			}
			return true
		})
	})
	var alloc *nomad.Allocation
	waitUntil(t, 60*time.Second, "a running allocation with its files", func() bool {
		allocs, _, err := nc.Jobs().Allocations(id, false, nil)
		if err != nil || len(allocs) == 0 || allocs[0].ClientStatus != "running" {
			return false
		}
		a, _, err := nc.Allocations().Info(allocs[0].ID, nil)
		if err != nil {
			return false
		}
		alloc = a
		_, _, err = nc.AllocFS().Stat(a, "web/local/file.txt", nil)
		return err == nil
	})
	return alloc
}

// execCase runs a command through Nomad's client and checks its output
// and exit code.
func execCase(t *testing.T, nc *nomad.Client, alloc *nomad.Allocation, cmd []string, stdin, wantOut string, wantCode int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code, err := nc.Allocations().Exec(ctx, alloc, "web", false, cmd, strings.NewReader(stdin), &out, &errOut, nil, nil)
	if err != nil {
		t.Fatalf("exec %q: %v", cmd, err)
	}
	if code != wantCode || out.String() != wantOut {
		t.Fatalf("exec %q = %d, stdout %q (stderr %q); want %d, %q", cmd, code, out.String(), errOut.String(), wantCode, wantOut)
	}
}

// checkFS exercises every file system call through Nomad's client,
// escapes included.
func checkFS(t *testing.T, nc *nomad.Client, alloc *nomad.Allocation) {
	t.Helper()
	fs := nc.AllocFS()
	entries, _, err := fs.List(alloc, "/", nil)
	if err != nil {
		t.Fatalf("List /: %v", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "alloc") || !strings.Contains(got, "web") {
		t.Fatalf("List / = %s", got)
	}
	st, _, err := fs.Stat(alloc, "/web/local/file.txt", nil)
	if err != nil || st.Size != 5 || st.IsDir {
		t.Fatalf("Stat = %+v, %v", st, err)
	}
	readAll := func(r io.ReadCloser, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := readAll(fs.Cat(alloc, "web/local/file.txt", nil)); got != "data\n" {
		t.Fatalf("Cat = %q", got)
	}
	if got := readAll(fs.ReadAt(alloc, "web/local/file.txt", 1, 2, nil)); got != "at" {
		t.Fatalf("ReadAt = %q", got)
	}
	for _, p := range []string{"../../../../../etc/passwd", "/../etc/passwd", "web/local/etc/passwd", "web/local/etc"} {
		_, err := fs.Cat(alloc, p, nil)
		if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "escapes the allocation directory") {
			t.Fatalf("Cat %q was not refused: %v", p, err)
		}
	}
	if _, err := fs.Cat(alloc, "/etc/passwd", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Cat /etc/passwd reached something: %v", err)
	}

	// Follow the growing log: new ticks keep arriving.
	cancel := make(chan struct{})
	defer close(cancel)
	frames, errCh := fs.Stream(alloc, "alloc/tick.log", nomad.OriginEnd, 0, cancel, nil)
	var got strings.Builder
	deadline := time.After(20 * time.Second)
	for strings.Count(got.String(), "tick") < 3 {
		select {
		case f := <-frames:
			if f.File != "alloc/tick.log" {
				t.Fatalf("frame of file %q", f.File)
			}
			got.Write(f.Data)
		case err := <-errCh:
			t.Fatalf("stream: %v", err)
		case <-deadline:
			t.Fatalf("followed only %q", got.String())
		}
	}
}

// TestAllocExecFSDevAgent runs exec and fs through Nomad's Go client and
// the CLI against a dev agent.
func TestAllocExecFSDevAgent(t *testing.T) {
	a := startDevAgent(t)
	nc, err := nomad.NewClient(&nomad.Config{Address: a.addr})
	if err != nil {
		t.Fatal(err)
	}
	alloc := runExecFSJob(t, nc, "execfs")

	execCase(t, nc, alloc, []string{"/bin/echo", "hello"}, "", "hello\n", 0)
	execCase(t, nc, alloc, []string{"/bin/sh", "-c", "exit 3"}, "", "", 3)
	execCase(t, nc, alloc, []string{"/bin/sh", "-c", `cat; printf %s "$NOMAD_TASK_NAME"`}, "in:", "in:web", 0)
	checkTTY(t, nc, alloc)
	checkFS(t, nc, alloc)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, code := a.cli(ctx, "alloc", "exec", "-task", "web", alloc.ID[:8], "/bin/sh", "-c", "echo from-cli; exit 7")
	if code != 7 || !strings.Contains(out, "from-cli") {
		t.Fatalf("alloc exec: exit %d, output %q", code, out)
	}
	out, code = a.cli(ctx, "alloc", "exec", "-job", "execfs", "/bin/sh", "-c", "echo $NOMAD_JOB_NAME")
	if code != 0 || strings.TrimSpace(out) != "execfs" {
		t.Fatalf("alloc exec -job: exit %d, output %q", code, out)
	}
	out, code = a.cli(ctx, "alloc", "fs", alloc.ID[:8], "web/local")
	if code != 0 || !strings.Contains(out, "Modified Time") || !strings.Contains(out, "file.txt") {
		t.Fatalf("alloc fs listing: exit %d, output %q", code, out)
	}
	out, code = a.cli(ctx, "alloc", "fs", "-task", "web", alloc.ID[:8], "local/file.txt")
	if code != 0 || out != "data\n" {
		t.Fatalf("alloc fs cat: exit %d, output %q", code, out)
	}
	out, code = a.cli(ctx, "alloc", "fs", alloc.ID[:8], "web/local/etc/passwd")
	if code != 1 || !strings.Contains(out, "escapes the allocation directory") {
		t.Fatalf("alloc fs through a symlink out: exit %d, output %q", code, out)
	}
}

// checkTTY runs a shell on a terminal: it has one, reads what is typed,
// and its exit code comes back.
func checkTTY(t *testing.T, nc *nomad.Client, alloc *nomad.Allocation) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	code, err := nc.Allocations().Exec(ctx, alloc, "web", true,
		[]string{"/bin/sh", "-c", `test -t 0 && test -t 1 && echo is-a-tty; read line; echo "got:$line"; exit 5`},
		strings.NewReader("typed\n"), &out, io.Discard, nil, nil)
	if err != nil || code != 5 || !strings.Contains(out.String(), "is-a-tty") || !strings.Contains(out.String(), "got:typed") {
		t.Fatalf("tty exec = %d, %v, output %q", code, err, out.String())
	}
}

// TestAllocExecFSRelayed reaches an allocation through a server that does
// not run it: the server relays exec and fs to the client over the
// client's own connection.
func TestAllocExecFSRelayed(t *testing.T) {
	ports := freePorts(t, 6)
	dir := t.TempDir()
	srvConf := fmt.Sprintf(`name = "relay-server"
data_dir = %q
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
`, filepath.Join(dir, "server"), ports[0], ports[1], ports[2])
	cliConf := fmt.Sprintf(`name = "relay-client"
data_dir = %q
bind_addr = "127.0.0.1"
ports {
  http = %d
  rpc  = %d
  serf = %d
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
`, filepath.Join(dir, "client"), ports[3], ports[4], ports[5], ports[1])
	srvAddr := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	logs := &syncBuffer{}
	startProcess(t, dir, "server.hcl", srvConf, logs)
	startProcess(t, dir, "client.hcl", cliConf, logs)
	waitUntil(t, 60*time.Second, "the client node ready on the server", func() bool {
		resp, err := http.Get(srvAddr + "/v1/nodes")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `"Status":"ready"`)
	})
	defer func() {
		if t.Failed() {
			t.Logf("agents' output:\n%s", logs.String())
		}
	}()
	nc, err := nomad.NewClient(&nomad.Config{Address: srvAddr})
	if err != nil {
		t.Fatal(err)
	}
	alloc := runExecFSJob(t, nc, "relayed")
	// Without a node ID Nomad's client cannot go to the node directly:
	// everything goes through the server, which must relay it.
	relayed := *alloc
	relayed.NodeID = ""
	execCase(t, nc, &relayed, []string{"/bin/echo", "through", "the", "server"}, "", "through the server\n", 0)
	execCase(t, nc, &relayed, []string{"/bin/sh", "-c", "exit 3"}, "", "", 3)
	execCase(t, nc, &relayed, []string{"/bin/cat"}, "stdin relayed", "stdin relayed", 0)
	checkTTY(t, nc, &relayed)
	checkFS(t, nc, &relayed)
}

// startProcess writes conf and runs `drover agent -config` with it until
// the test ends.
func startProcess(t *testing.T, dir, name, conf string, logs io.Writer) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(droverBin, "agent", "-config", path)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
}
