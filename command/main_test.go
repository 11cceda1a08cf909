// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestDispatcher(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		stdoutHas string
		stderrHas string
	}{
		{name: "no args", args: nil, code: ExitError, stderrHas: "Usage: drover [-version] [-help] <command> [args]"},
		{name: "help", args: []string{"--help"}, code: ExitOK, stdoutHas: "    job         Interact with jobs\n"},
		{name: "version", args: []string{"version"}, code: ExitOK, stdoutHas: "Drover v" + Version + "\n"},
		{name: "version flag", args: []string{"-version"}, code: ExitOK, stdoutHas: "Drover v" + Version},
		{name: "version with args", args: []string{"version", "x"}, code: ExitError, stderrHas: "takes no arguments"},
		{name: "unknown", args: []string{"frobnicate"}, code: ExitError, stderrHas: "Unknown command: \"frobnicate\""},
		{name: "unknown sub", args: []string{"job", "frob"}, code: ExitError, stderrHas: "Unknown command: \"job frob\""},
		{name: "parent alone", args: []string{"job"}, code: ExitError,
			stderrHas: "Usage: drover job <subcommand> [options] [args]"},
		{name: "parent help", args: []string{"alloc", "-h"}, code: ExitOK,
			// Descriptions align on the longest subcommand name.
			stdoutHas: "    alloc logs  "},
		{name: "command help", args: []string{"job", "run", "-h"}, code: ExitOK, stdoutHas: "Usage: drover job run [options] <path>"},
		{name: "help after args", args: []string{"alloc", "logs", "abcd", "--help"}, code: ExitOK,
			stdoutHas: "-stderr"},
		{name: "help lists general options", args: []string{"node", "status", "-help"}, code: ExitOK,
			stdoutHas: "-address=<addr>"},
		{name: "bad flag", args: []string{"node", "status", "-nope"}, code: ExitError,
			stderrHas: "Error parsing flags: flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, "", tt.args...)
			if r.code != tt.code {
				t.Errorf("code = %d, want %d", r.code, tt.code)
			}
			if !strings.Contains(r.stdout, tt.stdoutHas) {
				t.Errorf("stdout %q does not contain %q", r.stdout, tt.stdoutHas)
			}
			if !strings.Contains(r.stderr, tt.stderrHas) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.stderrHas)
			}
		})
	}
}

// stubCommand records how the dispatcher called it.
type stubCommand struct {
	args []string
}

func (s *stubCommand) Synopsis() string { return "Stub for tests" }
func (s *stubCommand) Help() string     { return "Usage: drover stub" }
func (s *stubCommand) Run(_ context.Context, args []string) int {
	s.args = args
	return 7
}

func TestRegisterAndLongestMatch(t *testing.T) {
	stub := &stubCommand{}
	Register("stubtest", func(*UI) Command { return stub })
	t.Cleanup(func() { delete(Commands, "stubtest") })

	// "stubtest driver x" has no two-word entry: the one-word command gets
	// the rest, as the lead's "plugin driver NAME" needs.
	r := runCLI(t, nil, "", "stubtest", "driver", "x")
	if r.code != 7 || strings.Join(stub.args, " ") != "driver x" {
		t.Errorf("code %d args %q", r.code, stub.args)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a duplicate name did not panic")
		}
	}()
	Register("stubtest", func(*UI) Command { return stub })
}

func TestGlobalFlagsReachTheAgent(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/nodes", 1, []any{})
	r := runCLI(t, agent, "", "node", "status", "-region=west", "-namespace=prod", "-token=s3cret")
	r.check(t, ExitOK, "No nodes registered\n", "")
	agent.wantRequests("GET /v1/nodes?namespace=prod&region=west")

	// The token travels in the header, not the URL.
	var got string
	agent2 := newFakeAgent(t)
	agent2.mux.HandleFunc("GET /v1/nodes", func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("X-Nomad-Token")
		writeJSON(w, 1, []any{})
	})
	runCLI(t, agent2, "", "node", "status", "-token=s3cret")
	if got != "s3cret" {
		t.Errorf("X-Nomad-Token = %q", got)
	}
}

func TestAddressFromEnvironment(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/nodes", 1, []any{})
	t.Setenv("NOMAD_ADDR", "http://127.0.0.1:1") // DROVER_ADDR wins
	t.Setenv("DROVER_ADDR", agent.srv.URL)
	r := runCLI(t, nil, "", "node", "status")
	r.check(t, ExitOK, "No nodes registered\n", "")
}
