// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"testing"

	nomad "github.com/hashicorp/nomad/api"
)

func TestFormatPlacementMetrics(t *testing.T) {
	m := &nomad.AllocationMetric{
		NodesEvaluated: 3, NodesExhausted: 1, DimensionExhausted: map[string]int{"memory": 1},
		ScoreMetaData: []*nomad.NodeScoreMeta{{NodeID: "cf12c744-fc1e-4163-bafc-5364087b2d13",
			Scores:    map[string]float64{"node-affinity": 1, "binpack": 0.0289394, "job-anti-affinity": 0, "node-reschedule-penalty": 0},
			NormScore: 0.342979}},
	}
	want := `  * Resources exhausted on 1 nodes
  * Dimension "memory" exhausted on 1 nodes
Node                                  binpack  job-anti-affinity  node-affinity  node-reschedule-penalty  final score
cf12c744-fc1e-4163-bafc-5364087b2d13  0.0289   0                  1              0                        0.343`
	if got := formatPlacementMetrics(m); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := formatPlacementMetrics(&nomad.AllocationMetric{NodesEvaluated: 1}); got != "" {
		t.Errorf("a metric with nothing to say printed %q", got)
	}
}
