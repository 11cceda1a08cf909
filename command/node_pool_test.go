// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/agent"
)

// devServer starts an in-process server agent and returns its HTTP
// address.
func devServer(t *testing.T) string {
	t.Helper()
	for _, k := range []string{"NOMAD_ADDR", "DROVER_ADDR", "NOMAD_NAMESPACE", "DROVER_NAMESPACE"} {
		t.Setenv(k, "")
	}
	a, err := agent.Start(&agent.Config{
		NodeName: "cli", Region: "global", Datacenter: "dc1", DevMode: true,
		BindAddr: "127.0.0.1", Server: true, BootstrapExpect: 1,
	}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown() })
	return "http://" + a.HTTPAddr()
}

// cli runs words (the command's words and its arguments) against addr;
// -address goes right after the first nWords words.
func cli(t *testing.T, addr string, nWords int, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	full := append(append(append([]string{}, args[:nWords]...), "-address", addr), args[nWords:]...)
	code := Run(context.Background(), &UI{Out: &stdout, Err: &stderr}, full)
	return code, stdout.String(), stderr.String()
}

func TestParseNodePoolSpec(t *testing.T) {
	cases := []struct {
		name, file, src, want string // want: error substring, or "" for success
	}{
		{"full", "p.hcl", `node_pool "dev" {
  description = "Development"
  meta {
    owner = "sre"
    tier  = 2
  }
  scheduler_config {
    scheduler_algorithm             = "spread"
    memory_oversubscription_enabled = true
  }
}`, ""},
		{"json", "p.json", `{"node_pool": {"dev": {"description": "Development", "meta": {"owner": "sre", "tier": "2"},
  "scheduler_config": {"scheduler_algorithm": "spread", "memory_oversubscription_enabled": true}}}}`, ""},
		{"two pools", "p.hcl", `node_pool "a" {}
node_pool "b" {}`, "expected exactly one node_pool block, found 2"},
		{"no pool", "p.hcl", ``, "found 0"},
		{"unknown argument", "p.hcl", `node_pool "a" { colour = "red" }`, `p.hcl:1,17-23: Unsupported argument`},
		{"syntax", "p.hcl", `node_pool "a" {`, "p.hcl:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseNodePoolSpec(tc.file, []byte(tc.src))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != "dev" || p.Description != "Development" || p.Meta["owner"] != "sre" || p.Meta["tier"] != "2" ||
				p.SchedulerConfiguration == nil || p.SchedulerConfiguration.SchedulerAlgorithm != "spread" ||
				p.SchedulerConfiguration.MemoryOversubscriptionEnabled == nil || !*p.SchedulerConfiguration.MemoryOversubscriptionEnabled {
				t.Fatalf("pool = %+v %+v", p, p.SchedulerConfiguration)
			}
		})
	}
}

func TestNodePoolAndSchedulerCommands(t *testing.T) {
	addr := devServer(t)
	spec := filepath.Join(t.TempDir(), "dev.nomad.hcl")
	if err := os.WriteFile(spec, []byte(`node_pool "dev" {
  description = "Development nodes"
  meta { owner = "sre" }
}`), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"node", "pool", "apply", spec}, ExitOK, `Successfully applied node pool "dev"!`},
		{[]string{"node", "pool", "list"}, ExitOK, "dev      Development nodes"},
		{[]string{"node", "pool", "info", "dev"}, ExitOK, "owner = sre"},
		{[]string{"node", "pool", "nodes", "dev"}, ExitOK, `No nodes in node pool "dev"`},
		{[]string{"node", "pool", "jobs", "dev"}, ExitOK, `No jobs in node pool "dev"`},
		{[]string{"node", "pool", "delete", "default"}, ExitError, "built-in"},
		{[]string{"node", "pool", "info", "nope"}, ExitError, "404"},
		{[]string{"node", "pool", "delete", "dev"}, ExitOK, `Successfully deleted node pool "dev"!`},
		{[]string{"node", "pool", "frobnicate"}, ExitError, "Unknown subcommand"},
		{[]string{"operator", "scheduler", "get-config"}, ExitOK, "Scheduler Algorithm           = binpack"},
		{[]string{"operator", "scheduler", "set-config", "-scheduler-algorithm=spread", "-memory-oversubscription=true", "-preempt-service-scheduler=true"}, ExitOK, "updated"},
		{[]string{"operator", "scheduler", "get-config"}, ExitOK, "Scheduler Algorithm           = spread"},
		{[]string{"operator", "scheduler", "get-config"}, ExitOK, "Preemption Service Scheduler  = true"},
		{[]string{"operator", "scheduler", "get-config"}, ExitOK, "Preemption System Scheduler   = true"},
		{[]string{"operator", "scheduler", "set-config", "-check-index=1", "-reject-job-registration=true"}, ExitError, "no longer 1"},
		{[]string{"operator", "scheduler", "set-config", "-scheduler-algorithm=random"}, ExitError, "want binpack or spread"},
	}
	for _, st := range steps {
		words := 3
		code, out, errOut := cli(t, addr, words, st.args...)
		if code != st.code || !strings.Contains(out+errOut, st.contains) {
			t.Fatalf("drover %s: exit %d (want %d)\nstdout: %s\nstderr: %s\nwant output containing %q",
				strings.Join(st.args, " "), code, st.code, out, errOut, st.contains)
		}
	}
}
