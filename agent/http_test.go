// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	nomad "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/structs"
)

// officialClient is Nomad's own API client for the agent at addr.
func officialClient(t *testing.T, addr string) *nomad.Client {
	t.Helper()
	nc, err := nomad.NewClient(&nomad.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

// fakeClientAPI serves the routes of an agent whose client is fake and
// returns Nomad's API client for them.
func fakeClientAPI(t *testing.T, fake AllocDirs) *nomad.Client {
	t.Helper()
	h := &HTTPServer{allocs: fake, logger: hclog.NewNullLogger(), mux: http.NewServeMux()}
	h.routes()
	ts := httptest.NewServer(h.mux)
	t.Cleanup(ts.Close)
	return officialClient(t, ts.URL)
}

// registerNode registers node with the agent's servers, as a client would.
func registerNode(t *testing.T, a *Agent, node *structs.Node) {
	t.Helper()
	var reg structs.NodeUpdateResponse
	if err := a.server.Node().Register(&structs.NodeRegisterRequest{Node: node}, &reg); err != nil {
		t.Fatal(err)
	}
}

// testServerAgent starts a server-only dev agent on free ports.
func testServerAgent(t *testing.T) (*Agent, string) {
	t.Helper()
	a, err := Start(&Config{
		NodeName: "test", Region: "global", Datacenter: "dc1", DevMode: true,
		BindAddr: "127.0.0.1", Server: true, BootstrapExpect: 1,
	}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown() })
	return a, "http://" + a.HTTPAddr()
}

type response struct {
	code   int
	header http.Header
	body   string
}

func do(t *testing.T, method, url, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

const jobBody = `{"Job": {"ID": "web", "Name": "web", "Type": "service", "Datacenters": ["dc1"],
  "TaskGroups": [{"Name": "g", "Count": 1, "Tasks": [{"Name": "t", "Driver": "raw_exec",
    "Config": {"command": "/bin/sleep", "args": ["60"]}}]}]}}`

func TestHTTPHeadersAndErrors(t *testing.T) {
	_, base := testServerAgent(t)
	tests := []struct {
		name, method, path, body string
		code                     int
		contains                 string
	}{
		{"unknown job", "GET", "/v1/job/nope", "", 404, "job not found"},
		{"unknown alloc", "GET", "/v1/allocation/nope", "", 404, "alloc not found"},
		{"unknown eval", "GET", "/v1/evaluation/nope", "", 404, "eval not found"},
		{"unknown node", "GET", "/v1/node/nope", "", 404, "node not found"},
		{"bad index", "GET", "/v1/jobs?index=abc", "", 400, `invalid index "abc"`},
		{"bad wait", "GET", "/v1/jobs?wait=soon", "", 400, `invalid wait "soon"`},
		{"bad body", "PUT", "/v1/jobs", "{", 400, "decode job registration"},
		{"no job", "PUT", "/v1/jobs", "{}", 400, "has no Job"},
		{"invalid job", "PUT", "/v1/jobs", `{"Job": {"ID": "x", "Type": "service", "Datacenters": ["dc1"], "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t"}]}]}}`, 400, `Task "t": Missing driver`},
		{"id mismatch", "PUT", "/v1/job/other", jobBody, 400, "does not match"},
		{"stop unknown", "DELETE", "/v1/job/nope", "", 404, "job not found"},
		{"no route", "GET", "/v1/nothing", "", 404, "no handler"},
		{"list jobs", "GET", "/v1/jobs", "", 200, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, base+tt.path, tt.body)
			if r.code != tt.code || !strings.Contains(r.body, tt.contains) {
				t.Fatalf("%s %s = %d %q, want %d containing %q", tt.method, tt.path, r.code, r.body, tt.code, tt.contains)
			}
			if tt.path != "/v1/nothing" && r.header.Get("X-Nomad-KnownLeader") != "true" {
				t.Errorf("X-Nomad-KnownLeader = %q", r.header.Get("X-Nomad-KnownLeader"))
			}
			if r.code == 200 {
				if idx, err := strconv.ParseUint(r.header.Get("X-Nomad-Index"), 10, 64); err != nil || idx == 0 {
					t.Errorf("X-Nomad-Index = %q", r.header.Get("X-Nomad-Index"))
				}
				if r.header.Get("X-Nomad-LastContact") == "" {
					t.Error("no X-Nomad-LastContact")
				}
			}
		})
	}
}

func TestHTTPRegisterAndBlockingQueries(t *testing.T) {
	_, base := testServerAgent(t)
	list := do(t, "GET", base+"/v1/jobs", "")
	index := list.header.Get("X-Nomad-Index")

	// A blocking query with nothing changing returns after its wait.
	start := time.Now()
	r := do(t, "GET", base+"/v1/jobs?index="+index+"&wait=200ms", "")
	if r.code != 200 || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("blocking query returned early: %d after %v", r.code, time.Since(start))
	}

	done := make(chan response, 1)
	go func() { done <- do(t, "GET", base+"/v1/jobs?index="+index+"&wait=20s", "") }()
	reg := do(t, "PUT", base+"/v1/jobs", jobBody)
	if reg.code != 200 {
		t.Fatalf("register: %d %s", reg.code, reg.body)
	}
	var regResp struct {
		EvalID          string
		EvalCreateIndex uint64
		JobModifyIndex  uint64
	}
	if err := json.Unmarshal([]byte(reg.body), &regResp); err != nil || regResp.EvalID == "" || regResp.JobModifyIndex == 0 {
		t.Fatalf("register response %s: %v", reg.body, err)
	}
	select {
	case r := <-done:
		if !strings.Contains(r.body, `"ID":"web"`) || r.header.Get("X-Nomad-Index") == index {
			t.Fatalf("woken list: %s (index %s)", r.body, r.header.Get("X-Nomad-Index"))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocking job list did not wake on registration")
	}

	// The stored job has its defaults, and nothing places it (no client):
	// the evaluation completes with the group queued.
	var job structs.Job
	if err := json.Unmarshal([]byte(do(t, "GET", base+"/v1/job/web", "").body), &job); err != nil {
		t.Fatal(err)
	}
	task := job.TaskGroups[0].Tasks[0]
	if job.Namespace != "default" || job.Priority != 50 || task.Resources.CPU != 100 || task.Resources.MemoryMB != 300 || task.Config["command"] != "/bin/sleep" {
		t.Fatalf("stored job lacks defaults: %+v %+v", job, task)
	}
	waitFor(t, 10*time.Second, func() bool {
		var e structs.Evaluation
		_ = json.Unmarshal([]byte(do(t, "GET", base+"/v1/evaluation/"+regResp.EvalID, "").body), &e)
		return e.Status == structs.EvalStatusComplete && e.QueuedAllocations["g"] == 1
	})
	var sum structs.JobSummary
	_ = json.Unmarshal([]byte(do(t, "GET", base+"/v1/job/web/summary", "").body), &sum)
	if sum.Summary["g"].Queued != 1 {
		t.Fatalf("summary: %+v", sum)
	}

	del := do(t, "DELETE", base+"/v1/job/web?purge=true", "")
	if del.code != 200 || !strings.Contains(del.body, "EvalID") {
		t.Fatalf("deregister: %d %s", del.code, del.body)
	}
	if r := do(t, "GET", base+"/v1/job/web", ""); r.code != 404 {
		t.Fatalf("purged job: %d", r.code)
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
