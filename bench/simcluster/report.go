// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/hashicorp/nomad/api"
)

// result is what one scenario measured.
type result struct {
	name       string
	placements int64
	elapsed    time.Duration
	evalP50    time.Duration
	evalP99    time.Duration
	rssMB      float64
}

// benchLine is the one line issue 5 asks every scenario to end with.
func (r result) benchLine() string {
	secs := r.elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(r.placements) / secs
	}
	return fmt.Sprintf("BENCH %s placements=%d seconds=%.3f rate=%.0f eval_p50_ms=%.1f eval_p99_ms=%.1f rss_mb=%.0f",
		r.name, r.placements, secs, rate, ms(r.evalP50), ms(r.evalP99), r.rssMB)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// evalLatencies are CreateTime→ModifyTime of the complete evaluations of
// the given jobs: from the evaluation's creation (job submit) to the
// scheduler recording its outcome, queueing included.
func evalLatencies(evals []*api.Evaluation, jobs map[string]bool) []time.Duration {
	var out []time.Duration
	for _, e := range evals {
		if !jobs[e.JobID] || e.Status != api.EvalStatusComplete || e.CreateTime == 0 || e.ModifyTime < e.CreateTime {
			continue
		}
		out = append(out, time.Duration(e.ModifyTime-e.CreateTime))
	}
	return out
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of ds, or
// 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}
