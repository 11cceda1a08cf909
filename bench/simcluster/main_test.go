// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestMain lets the test binary be the embedded server: -server embedded
// re-executes the running binary with -serve.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-serve" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

var benchLine = regexp.MustCompile(`^BENCH service10k placements=20 seconds=[0-9.]+ rate=[0-9]+ eval_p50_ms=[0-9.]+ eval_p99_ms=[0-9.]+ rss_mb=[1-9][0-9]*$`)

// TestScenarioEndToEnd runs a tiny service10k against an embedded server:
// simulated nodes register, the job is placed, every allocation is
// reported running and the BENCH line is printed.
func TestScenarioEndToEnd(t *testing.T) {
	var out, errs bytes.Buffer
	code := run([]string{"-scenario", "service10k", "-server", "embedded", "-scale", "0.002", "-nodes", "10",
		"-conns", "2", "-timeout", "60s", "-log-level", "WARN"}, &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs.String())
	}
	line := strings.TrimSpace(out.String())
	if !benchLine.MatchString(line) {
		t.Fatalf("stdout %q is not one BENCH line for 20 placements", line)
	}
}

// TestSystemScenarioPlacesOnEveryNodeOrFails checks system5k's two
// honest outcomes: one allocation per node and a BENCH line, or (while the
// server refuses or fails system jobs) a non-zero exit with the server's
// reason and no BENCH line.
func TestSystemScenarioPlacesOnEveryNodeOrFails(t *testing.T) {
	var out, errs bytes.Buffer
	code := run([]string{"-scenario", "system5k", "-server", "embedded", "-nodes", "3",
		"-timeout", "60s", "-log-level", "WARN"}, &out, &errs)
	if code == 0 {
		if !strings.HasPrefix(out.String(), "BENCH system5k placements=3 ") {
			t.Fatalf("exit 0 without one placement per node: %q", out.String())
		}
		return
	}
	if out.Len() != 0 || !strings.Contains(errs.String(), "FAIL scenario system5k: ") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errs.String())
	}
}

func TestUnknownScenarioIsAUsageError(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-scenario", "nope"}, &out, &errs); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(errs.String(), "unknown scenario") {
		t.Fatalf("stderr %q", errs.String())
	}
}
