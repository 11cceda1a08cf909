// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"math"
	"testing"

	"github.com/droverhq/drover/structs"
)

func TestAffinity(t *testing.T) {
	fast := &structs.Affinity{LTarget: "${meta.class}", Operand: "=", RTarget: "fast", Weight: 50}
	slow := func(w int8) *structs.Affinity {
		return &structs.Affinity{LTarget: "${meta.class}", Operand: "=", RTarget: "slow", Weight: w}
	}
	tests := []struct {
		name      string
		job, tg   []*structs.Affinity
		task      []*structs.Affinity
		want      string  // node chosen
		wantScore float64 // its node-affinity score
	}{
		{name: "none: bin packing picks the fuller node", want: "fuller"},
		{name: "positive, job level", job: []*structs.Affinity{fast}, want: "emptier", wantScore: 1},
		{name: "positive, group level", tg: []*structs.Affinity{fast}, want: "emptier", wantScore: 1},
		{name: "positive, task level", task: []*structs.Affinity{fast}, want: "emptier", wantScore: 1},
		{name: "negative avoids the match", tg: []*structs.Affinity{slow(-50)}, want: "emptier", wantScore: 0},
		{name: "negative elsewhere keeps bin packing", tg: []*structs.Affinity{{LTarget: "${meta.class}", RTarget: "fast", Weight: -50}}, want: "fuller", wantScore: 0},
		{name: "positive on the fuller node", job: []*structs.Affinity{slow(50)}, want: "fuller", wantScore: 1},
		{name: "weights normalised over all levels", job: []*structs.Affinity{fast}, task: []*structs.Affinity{slow(-50)}, want: "emptier", wantScore: 0.5},
		{name: "stronger one wins", job: []*structs.Affinity{fast}, tg: []*structs.Affinity{slow(100)}, want: "fuller", wantScore: 100.0 / 150},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			fuller, emptier := testNode("fuller", 4000, 8192), testNode("emptier", 4000, 8192)
			fuller.Meta["class"], emptier.Meta["class"] = "slow", "fast"
			h.state.upsertNode(fuller)
			h.state.upsertNode(emptier)
			h.addAlloc(testJob("other", 1, 2000, 4096), "fuller", 0, structs.AllocClientStatusRunning)

			job := testJob("web", 1, 500, 512)
			job.Affinities = tc.job
			job.TaskGroups[0].Affinities = tc.tg
			job.TaskGroups[0].Tasks[0].Affinities = tc.task
			h.state.upsertJob(job)
			h.mustProcess(job)
			live := h.state.liveAllocs("web")
			if len(live) != 1 || live[0].NodeID != tc.want {
				t.Fatalf("placed on %v, want %s", live[0].NodeID, tc.want)
			}
			score, ok := live[0].Metrics.Scores.Map()[tc.want+".node-affinity"]
			if hasAff := tc.job != nil || tc.tg != nil || tc.task != nil; ok != hasAff {
				t.Fatalf("node-affinity score present = %v, want %v (%v)", ok, hasAff, live[0].Metrics.Scores.Map())
			}
			if math.Abs(score-tc.wantScore) > 1e-9 {
				t.Errorf("node-affinity = %v, want %v", score, tc.wantScore)
			}
		})
	}
}
