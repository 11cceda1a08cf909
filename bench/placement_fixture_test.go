// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package bench

import (
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/server/scheduler"
	"github.com/droverhq/drover/structs"
)

// timeZero stamps the benchmark's evaluations: a fixed time keeps
// time.Now out of the measured loop.
var timeZero = time.Unix(1_700_000_000, 0)

// TestPlacementFixturePlaces checks the benchmark's fixture: the scheduler
// places exactly the job's count on the simulated nodes, so the benchmark
// measures real placements and not an early rejection.
func TestPlacementFixturePlaces(t *testing.T) {
	cases := []struct {
		name  string
		nodes int
		count int
	}{
		{"one on five thousand", 5000, 1},
		{"ten on ten", 10, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			state := newSnapshot(c.nodes)
			job := benchJob("fixture", c.count)
			state.jobs[job.Namespace+"/"+job.ID] = job
			p := &planner{}
			sched, err := scheduler.New(job.Type, hclog.NewNullLogger(), state, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := sched.Process(structs.NewEval(job, structs.EvalTriggerJobRegister, timeZero)); err != nil {
				t.Fatal(err)
			}
			if got := placed(p.last); got != c.count {
				t.Fatalf("placed %d allocations, want %d", got, c.count)
			}
			for nodeID := range p.last.NodeAllocation {
				if state.byID[nodeID] == nil {
					t.Fatalf("placed on unknown node %s", nodeID)
				}
			}
		})
	}
}
