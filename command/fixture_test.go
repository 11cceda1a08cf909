// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fixed clock for every test: dates print in UTC and "now" is testNow.
var testNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func init() {
	nowFunc = func() time.Time { return testNow }
	displayLocation = time.UTC
	pollInterval = 5 * time.Millisecond
}

// nanos returns the API timestamp of testNow minus ago.
func nanos(ago time.Duration) int64 { return testNow.Add(-ago).UnixNano() }

// fakeAgent is an httptest server that answers only the endpoints a test
// registers, with canned Nomad-shaped JSON, and records every request so the
// test can check exactly what the CLI asked for.
type fakeAgent struct {
	t   *testing.T
	srv *httptest.Server
	mux *http.ServeMux

	mu     sync.Mutex
	reqs   []string
	bodies map[string][]byte
}

func newFakeAgent(t *testing.T) *fakeAgent {
	t.Helper()
	// Keep the caller's environment out of the requests.
	for _, k := range []string{"NOMAD_ADDR", "NOMAD_REGION", "NOMAD_NAMESPACE", "NOMAD_TOKEN",
		"DROVER_ADDR", "DROVER_REGION", "DROVER_NAMESPACE", "DROVER_TOKEN"} {
		t.Setenv(k, "")
	}
	a := &fakeAgent{t: t, mux: http.NewServeMux(), bodies: map[string][]byte{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key := r.Method + " " + r.URL.RequestURI()
		a.mu.Lock()
		a.reqs = append(a.reqs, key)
		a.bodies[key] = body
		a.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		a.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// reply serves v as JSON for pattern (a ServeMux pattern such as
// "GET /v1/job/{id}"), with X-Nomad-Index set to index.
func (a *fakeAgent) reply(pattern string, index uint64, v any) {
	a.replySeq(pattern, index, v)
}

// replySeq serves the values in turn for successive requests (the last one
// repeats), with indexes index, index+1, ...: a resource that changes.
func (a *fakeAgent) replySeq(pattern string, index uint64, vs ...any) {
	var (
		mu sync.Mutex
		n  int
	)
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := min(n, len(vs)-1)
		n++
		mu.Unlock()
		writeJSON(w, index+uint64(i), vs[i])
	})
}

// fail answers pattern with an HTTP error.
func (a *fakeAgent) fail(pattern string, code int, msg string) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, msg, code)
	})
}

func writeJSON(w http.ResponseWriter, index uint64, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Nomad-Index", strconv.FormatUint(index, 10))
	w.Header().Set("X-Nomad-KnownLeader", "true")
	json.NewEncoder(w).Encode(v)
}

// requests returns "METHOD /path?query" for every request so far.
func (a *fakeAgent) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.reqs...)
}

// body returns the body of the request recorded as key.
func (a *fakeAgent) body(key string) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bodies[key]
}

// wantRequests fails the test unless the recorded requests are exactly want.
func (a *fakeAgent) wantRequests(want ...string) {
	a.t.Helper()
	got := a.requests()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		a.t.Errorf("requests:\n  got:  %s\n  want: %s", strings.Join(got, "\n        "), strings.Join(want, "\n        "))
	}
}

// result is what one CLI run produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the dispatcher with args against agent (nil: no agent flag).
func runCLI(t *testing.T, agent *fakeAgent, stdin string, args ...string) result {
	t.Helper()
	return runCLIContext(context.Background(), t, agent, stdin, nil, args...)
}

// runCLIContext is runCLI with a context and optional shared output buffer.
func runCLIContext(ctx context.Context, t *testing.T, agent *fakeAgent, stdin string, out io.Writer, args ...string) result {
	t.Helper()
	if agent != nil {
		// Insert -address right after the command's name.
		name, _ := lookup(args)
		if name == "" {
			t.Fatalf("no command in %q", args)
		}
		i := len(strings.Fields(name))
		args = append(append(append([]string(nil), args[:i]...), "-address="+agent.srv.URL), args[i:]...)
	}
	var stdout, stderr bytes.Buffer
	var w io.Writer = &stdout
	if out != nil {
		w = io.MultiWriter(&stdout, out)
	}
	code := Run(ctx, &UI{In: strings.NewReader(stdin), Out: w, Err: &stderr}, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// check compares a run with the expected exit code and outputs.
func (r result) check(t *testing.T, code int, stdout, stderr string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code = %d, want %d (stderr: %q)", r.code, code, r.stderr)
	}
	if r.stdout != stdout {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, stdout)
	}
	if r.stderr != stderr {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, stderr)
	}
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
