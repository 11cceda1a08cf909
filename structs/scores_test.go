// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/hashicorp/nomad/api"
)

// TestPlacementScoresJSON checks that the scores reach API clients as
// Nomad's Scores map and come back unchanged.
func TestPlacementScoresJSON(t *testing.T) {
	cases := []struct {
		name   string
		scores *PlacementScores
		want   map[string]float64
		meta   []*api.NodeScoreMeta
	}{
		{"binpack only", &PlacementScores{NodeID: "n1", Binpack: 0.5, JobAntiAffinity: -0.5, Normalized: 0.25},
			map[string]float64{"n1.binpack": 0.5, "n1.job-anti-affinity": -0.5, "n1.node-reschedule-penalty": 0, "n1.normalized-score": 0.25},
			[]*api.NodeScoreMeta{{NodeID: "n1", Scores: map[string]float64{"binpack": 0.5, "job-anti-affinity": -0.5, "node-reschedule-penalty": 0}, NormScore: 0.25}}},
		{"zero affinity and spread still shown", &PlacementScores{NodeID: "n1", Binpack: 0.5, ReschedulePenalty: -1, Normalized: 0.1, HasAffinity: true, HasSpread: true, Spread: -0.5},
			map[string]float64{"n1.binpack": 0.5, "n1.job-anti-affinity": 0, "n1.node-reschedule-penalty": -1, "n1.normalized-score": 0.1, "n1.node-affinity": 0, "n1.allocation-spread": -0.5},
			[]*api.NodeScoreMeta{{NodeID: "n1", Scores: map[string]float64{"binpack": 0.5, "job-anti-affinity": 0, "node-reschedule-penalty": -1, "node-affinity": 0, "allocation-spread": -0.5}, NormScore: 0.1}}},
		{"failed placement", nil, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(&AllocMetric{NodesEvaluated: 3, Scores: tc.scores})
			if err != nil {
				t.Fatal(err)
			}
			var wire api.AllocationMetric
			if err := json.Unmarshal(b, &wire); err != nil {
				t.Fatal(err)
			}
			if wire.NodesEvaluated != 3 {
				t.Fatalf("NodesEvaluated = %d: the metric's own fields must stay", wire.NodesEvaluated)
			}
			if !maps.Equal(wire.Scores, tc.want) || (tc.want == nil) != (wire.Scores == nil) {
				t.Fatalf("API Scores = %v, want %v", wire.Scores, tc.want)
			}
			if len(wire.ScoreMetaData) != len(tc.meta) {
				t.Fatalf("API ScoreMetaData has %d nodes, want %d", len(wire.ScoreMetaData), len(tc.meta))
			}
			for i, m := range tc.meta {
				got := wire.ScoreMetaData[i]
				if got.NodeID != m.NodeID || got.NormScore != m.NormScore || !maps.Equal(got.Scores, m.Scores) {
					t.Fatalf("API ScoreMetaData[%d] = %+v, want %+v", i, got, m)
				}
			}
			var back AllocMetric
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if (back.Scores == nil) != (tc.scores == nil) || back.Scores != nil && *back.Scores != *tc.scores {
				t.Fatalf("round trip: %+v, want %+v", back.Scores, tc.scores)
			}
		})
	}
}

func TestPlacementScoresJSONErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"binpack": 1}`:                     "want <node ID>.<scorer>",
		`{"n1.binpack": 1, "n2.binpack": 2}`: "scores name nodes",
		`{"n1.magic": 1}`:                    `unknown scorer "magic"`,
	} {
		var s PlacementScores
		err := json.Unmarshal([]byte(in), &s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
}
