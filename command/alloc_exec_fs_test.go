// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/droverhq/drover/api"
)

// execFSAgent is a fake agent that knows one allocation with task
// "server" on a node whose HTTP address is unknown, so that every call
// goes to the agent itself.
func execFSAgent(t *testing.T) *fakeAgent {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/allocations", 3, []api.AllocationListStub{{ID: allocID, NodeID: nodeID, JobID: "hello", ClientStatus: "running", CreateIndex: 3}})
	agent.reply("GET /v1/job/{id}/allocations", 3, []api.AllocationListStub{{ID: allocID, NodeID: nodeID, JobID: "hello", ClientStatus: "running", CreateIndex: 3}})
	agent.reply("GET /v1/jobs", 3, []api.JobListStub{{ID: "hello", Name: "hello"}})
	agent.reply("GET /v1/allocation/{id}", 3, testAlloc("server"))
	agent.reply("GET /v1/node/{id}", 3, api.Node{ID: nodeID, Status: "ready"})
	return agent
}

// TestAllocExecCLI checks what the CLI asks for and that the remote exit
// code becomes its own, against a websocket that echoes stdin.
func TestAllocExecCLI(t *testing.T) {
	agent := execFSAgent(t)
	queries := make(chan string, 4)
	agent.mux.HandleFunc("GET /v1/client/allocation/{id}/exec", func(w http.ResponseWriter, r *http.Request) {
		queries <- r.URL.Query().Get("task") + " " + r.URL.Query().Get("tty") + " " + r.URL.Query().Get("command")
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			var in struct {
				Stdin *struct {
					Data  []byte `json:"data"`
					Close bool   `json:"close"`
				} `json:"stdin"`
			}
			if err := ws.ReadJSON(&in); err != nil {
				return
			}
			if in.Stdin == nil {
				continue
			}
			if len(in.Stdin.Data) > 0 {
				_ = ws.WriteJSON(map[string]any{"stdout": map[string]any{"data": in.Stdin.Data}})
			}
			if in.Stdin.Close {
				_ = ws.WriteJSON(map[string]any{"exited": true, "result": map[string]any{"exit_code": 3}})
				return
			}
		}
	})
	tests := []struct {
		name      string
		args      []string
		stdin     string
		wantCode  int
		wantOut   string
		wantQuery string
	}{
		{"stdin echoed, exit code kept", []string{allocID[:8], "/bin/sh", "-c", "cat; exit 3"}, "typed", 3, "typed",
			`server false ["/bin/sh","-c","cat; exit 3"]`},
		{"no stdin with -i=false", []string{"-i=false", "-task", "server", allocID[:8], "/bin/true"}, "ignored", 3, "",
			`server false ["/bin/true"]`},
		{"tty asked", []string{"-t", "-job", "hello", "/bin/sh"}, "", 3, "", `server true ["/bin/sh"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, agent, tt.stdin, append([]string{"alloc", "exec"}, tt.args...)...)
			r.check(t, tt.wantCode, tt.wantOut, "")
			select {
			case q := <-queries:
				if q != tt.wantQuery {
					t.Fatalf("query %q, want %q", q, tt.wantQuery)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no exec request")
			}
		})
	}

	r := runCLI(t, agent, "", "alloc", "exec", allocID[:8])
	if r.code != ExitError || !strings.Contains(r.stderr, "at least two arguments") {
		t.Fatalf("missing command: %+v", r)
	}
	r = runCLI(t, agent, "", "alloc", "exec", "-task", "db", allocID[:8], "/bin/true")
	if r.code != ExitError || !strings.Contains(r.stderr, `Could not find task named "db"`) {
		t.Fatalf("unknown task: %+v", r)
	}
}

func TestAllocFSCLI(t *testing.T) {
	agent := execFSAgent(t)
	mod := time.Date(2024, 4, 30, 10, 0, 0, 0, time.UTC)
	agent.mux.HandleFunc("GET /v1/client/fs/stat/{alloc}", func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Query().Get("path"); p {
		case "/", "/server":
			writeJSON(w, 1, map[string]any{"Name": "/", "IsDir": true, "FileMode": "drwxr-xr-x", "ModTime": mod})
		case "/server/local/out.txt", "server/local/out.txt":
			writeJSON(w, 1, map[string]any{"Name": "out.txt", "Size": 12, "FileMode": "-rw-r--r--", "ModTime": mod})
		default:
			http.Error(w, "path escapes the allocation directory: "+p, http.StatusBadRequest)
		}
	})
	agent.reply("GET /v1/client/fs/ls/{alloc}", 1, []map[string]any{
		{"Name": "alloc", "IsDir": true, "Size": 4096, "FileMode": "drwxr-xr-x", "ModTime": mod},
		{"Name": "out.txt", "Size": 12, "FileMode": "-rw-r--r--", "ModTime": mod},
	})
	agent.mux.HandleFunc("GET /v1/client/fs/readat/{alloc}", func(w http.ResponseWriter, r *http.Request) {
		body := "one\ntwo\nthree\n"
		if r.URL.Query().Get("offset") != "0" {
			body = body[len(body)-6:]
		}
		w.Write([]byte(body))
	})
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"listing", []string{allocID[:8]}, 0,
			"Mode        Size     Modified Time         Name\n" +
				"drwxr-xr-x  4.0 KiB  2024-04-30T10:00:00Z  alloc/\n" +
				"-rw-r--r--  12 B     2024-04-30T10:00:00Z  out.txt\n", ""},
		{"stat", []string{"-stat", allocID[:8], "server/local/out.txt"}, 0,
			"Mode        Size  Modified Time         Name\n" +
				"-rw-r--r--  12 B  2024-04-30T10:00:00Z  out.txt\n", ""},
		{"cat with -task", []string{"-task", "server", allocID[:8], "local/out.txt"}, 0, "one\ntwo\nthree\n", ""},
		{"tail -n 1", []string{"-n", "1", allocID[:8], "server/local/out.txt"}, 0, "three\n", ""},
		{"escape refused", []string{allocID[:8], "../etc"}, 1, "", "escapes the allocation directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, agent, "", append([]string{"alloc", "fs"}, tt.args...)...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", r.code, r.stderr, tt.wantCode, tt.wantErr)
			}
			if tt.wantErr == "" && r.stdout != tt.wantOut {
				t.Fatalf("stdout:\n%s\nwant:\n%s", r.stdout, tt.wantOut)
			}
		})
	}
}
