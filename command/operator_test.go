// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func freeLoopbackPorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out
}

// runCLI runs one CLI command against an agent's HTTP address: -address
// goes after the command's words ("server members", "operator raft
// list-peers").
func runOperatorCLI(t *testing.T, addr string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	words := 2
	if args[0] == "operator" {
		words = 3
	}
	full := append(append(append([]string{}, args[:words]...), "-address", "http://"+addr), args[words:]...)
	code := Run(context.Background(), &UI{Out: &stdout, Err: &stderr}, full)
	return code, stdout.String(), stderr.String()
}

// Three `drover agent -config` servers, one per config file with its own
// data dir and ports, find each other by retry_join, elect a leader, and
// answer server members, operator raft and operator snapshot.
func TestAgentServersClusterAndOperatorCommands(t *testing.T) {
	for _, k := range []string{"NOMAD_ADDR", "DROVER_ADDR", "NOMAD_REGION", "DROVER_REGION", "NOMAD_TOKEN", "DROVER_TOKEN"} {
		t.Setenv(k, "")
	}
	const n = 3
	ports := freeLoopbackPorts(t, 3*n)
	var joins []string
	for i := 0; i < n; i++ {
		joins = append(joins, fmt.Sprintf("%q", fmt.Sprintf("127.0.0.1:%d", ports[3*i+2])))
	}
	dir := t.TempDir()
	var https []string
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); wg.Wait() })
	logs := make([]*syncBuffer, n)
	for i := 0; i < n; i++ {
		file := filepath.Join(dir, fmt.Sprintf("s%d.hcl", i))
		conf := fmt.Sprintf(`
name      = "s%d"
data_dir  = %q
bind_addr = "127.0.0.1"
log_level = "WARN"
ports {
  http = %d
  rpc  = %d
  serf = %d
}
server {
  enabled          = true
  bootstrap_expect = 3
  server_join {
    retry_join = [%s]
  }
}
`, i, filepath.Join(dir, fmt.Sprintf("data%d", i)), ports[3*i], ports[3*i+1], ports[3*i+2], strings.Join(joins, ", "))
		if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		https = append(https, fmt.Sprintf("127.0.0.1:%d", ports[3*i]))
		logs[i] = &syncBuffer{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			Run(ctx, &UI{In: strings.NewReader(""), Out: io.Discard, Err: logs[i]}, []string{"agent", "-config", file})
		}()
	}

	deadline := time.Now().Add(30 * time.Second)
	var out string
	for {
		code, stdout, _ := runOperatorCLI(t, https[1], "operator", "raft", "list-peers")
		if code == ExitOK && strings.Count(stdout, "follower") == 2 && strings.Count(stdout, "leader") == 1 {
			out = stdout
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 3-server cluster: list-peers %q\nagent logs:\n%s", stdout, logs[0].String()+logs[1].String()+logs[2].String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.HasPrefix(out, "Node") || !strings.Contains(out, "s0.global") || !strings.Contains(out, "RaftProtocol") {
		t.Fatalf("list-peers output:\n%s", out)
	}

	code, stdout, stderr := runOperatorCLI(t, https[2], "server", "members")
	if code != ExitOK {
		t.Fatalf("server members: %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "Name") || strings.Count(stdout, "alive") != 3 || strings.Count(stdout, " true ") != 1 {
		t.Fatalf("server members output:\n%s", stdout)
	}

	snap := filepath.Join(dir, "backup.snap")
	if code, stdout, stderr := runOperatorCLI(t, https[0], "operator", "snapshot", "save", snap); code != ExitOK || !strings.Contains(stdout, "State file written to") {
		t.Fatalf("snapshot save: %d %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = runOperatorCLI(t, https[0], "operator", "snapshot", "inspect", snap)
	if code != ExitOK {
		t.Fatalf("snapshot inspect: %d %s", code, stderr)
	}
	for _, k := range []string{"ID", "Size", "Index", "Term", "Version"} {
		if !strings.Contains(stdout, k) {
			t.Fatalf("inspect output lacks %s:\n%s", k, stdout)
		}
	}
	if code, stdout, stderr := runOperatorCLI(t, https[1], "operator", "snapshot", "restore", snap); code != ExitOK || !strings.Contains(stdout, "Snapshot Restored") {
		t.Fatalf("snapshot restore: %d %s %s", code, stdout, stderr)
	}
	if code, _, stderr := runOperatorCLI(t, https[1], "operator", "raft", "remove-peer", "-peer-address", "127.0.0.1:1"); code != ExitError || !strings.Contains(stderr, "not found") {
		t.Fatalf("remove-peer of an unknown address: %d %s", code, stderr)
	}
}
