// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	cases := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100", ms(hundred...), 50, 50 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100 is max", ms(3, 1, 2), 100, 3 * time.Millisecond},
		{"p50 of three", ms(3, 1, 2), 50, 2 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := percentile(c.in, c.p); got != c.want {
				t.Fatalf("percentile(%v, %v) = %v, want %v", c.in, c.p, got, c.want)
			}
		})
	}
}

func TestEvalLatenciesKeepsCompleteEvalsOfTheScenario(t *testing.T) {
	base := int64(1_000_000_000)
	evals := []*api.Evaluation{
		{JobID: "a", Status: "complete", CreateTime: base, ModifyTime: base + int64(5*time.Millisecond)},
		{JobID: "a", Status: "failed", CreateTime: base, ModifyTime: base + int64(time.Second)},
		{JobID: "other", Status: "complete", CreateTime: base, ModifyTime: base + int64(time.Second)},
		{JobID: "a", Status: "complete", CreateTime: 0, ModifyTime: base},
	}
	got := evalLatencies(evals, map[string]bool{"a": true})
	if len(got) != 1 || got[0] != 5*time.Millisecond {
		t.Fatalf("latencies = %v, want [5ms]", got)
	}
}

func TestBenchLineFormat(t *testing.T) {
	r := result{name: "service10k", placements: 10000, elapsed: 2 * time.Second,
		evalP50: 1500 * time.Microsecond, evalP99: 12 * time.Millisecond, rssMB: 311.6}
	want := "BENCH service10k placements=10000 seconds=2.000 rate=5000 eval_p50_ms=1.5 eval_p99_ms=12.0 rss_mb=312"
	if got := r.benchLine(); got != want {
		t.Fatalf("bench line\n got %s\nwant %s", got, want)
	}
}

func TestScenariosBuildTheIssuesJobs(t *testing.T) {
	cases := []struct {
		name     string
		jobs     int
		want     int
		jobType  string
		spreads  int
		constrts int
	}{
		{"service10k", 1, 10_000, "service", 0, 0},
		{"c1m", 1000, 1_000_000, "service", 0, 0},
		{"system5k", 1, 5000, "system", 0, 0},
		{"spread10k", 1, 10_000, "service", 1, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := findScenario(c.name)
			if err != nil {
				t.Fatal(err)
			}
			jobs, want := s.jobs(1, s.nodes)
			if len(jobs) != c.jobs || want != c.want || s.nodes != 5000 {
				t.Fatalf("%d jobs wanting %d on %d nodes", len(jobs), want, s.nodes)
			}
			j := jobs[0]
			if *j.Type != c.jobType || len(j.Spreads) != c.spreads || len(j.Constraints) != c.constrts {
				t.Fatalf("job type %s, %d spreads, %d constraints", *j.Type, len(j.Spreads), len(j.Constraints))
			}
		})
	}
	if _, err := findScenario("nope"); err == nil {
		t.Fatal("unknown scenario accepted")
	}
}
