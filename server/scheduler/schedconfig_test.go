// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/structs"
)

// SchedulerConfig makes memState a State: the cluster default, which is
// binpack. configState below overrides it.
func (s *memState) SchedulerConfig() (*structs.SchedulerConfiguration, error) {
	return structs.DefaultSchedulerConfiguration(), nil
}

// configState is a memState with a scheduler configuration and node pools.
type configState struct {
	*memState
	cfg   *structs.SchedulerConfiguration
	pools map[string]*structs.NodePool
}

func (s *configState) SchedulerConfig() (*structs.SchedulerConfiguration, error) { return s.cfg, nil }
func (s *configState) NodePoolByName(name string) (*structs.NodePool, error) {
	return s.pools[name], nil
}

// The algorithm decides between the busiest node (binpack) and the
// emptiest one (spread); a pool's own scheduler_config wins over the
// cluster's.
func TestSchedulerAlgorithmChoosesNode(t *testing.T) {
	cases := []struct {
		name      string
		cluster   string
		poolAlgo  string // the job's pool's scheduler_algorithm, "" for none
		wantNodes []string
	}{
		{"binpack fills the busiest node", structs.SchedulerAlgorithmBinpack, "", []string{"busy", "half"}},
		{"spread uses the emptiest nodes", structs.SchedulerAlgorithmSpread, "", []string{"empty", "half"}},
		{"pool spread overrides cluster binpack", structs.SchedulerAlgorithmBinpack, structs.SchedulerAlgorithmSpread, []string{"empty", "half"}},
		{"pool binpack overrides cluster spread", structs.SchedulerAlgorithmSpread, structs.SchedulerAlgorithmBinpack, []string{"busy", "half"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			for _, n := range []*structs.Node{testNode("busy", 4000, 8192), testNode("half", 4000, 8192), testNode("empty", 4000, 8192)} {
				n.NodePool = "apps"
				h.state.upsertNode(n)
			}
			h.addAlloc(testJob("big", 1, 2500, 5000), "busy", 0, structs.AllocClientStatusRunning)
			h.addAlloc(testJob("mid", 1, 1500, 3000), "half", 0, structs.AllocClientStatusRunning)

			pool := &structs.NodePool{Name: "apps"}
			if tc.poolAlgo != "" {
				pool.SchedulerConfiguration = &structs.NodePoolSchedulerConfiguration{SchedulerAlgorithm: tc.poolAlgo}
			}
			st := &configState{
				memState: h.state,
				cfg:      &structs.SchedulerConfiguration{SchedulerAlgorithm: tc.cluster},
				pools:    map[string]*structs.NodePool{"apps": pool},
			}
			// Two allocations, placed one after the other: the second
			// goes to "half" either way (anti-affinity keeps it off the
			// first's node), so the first shows the algorithm.
			job := testJob("web", 2, 400, 800)
			job.NodePool = "apps"
			h.state.upsertJob(job)
			sched, err := New(job.Type, hclog.NewNullLogger(), st, h.planner)
			if err != nil {
				t.Fatal(err)
			}
			eval := &structs.Evaluation{ID: structs.GenerateUUID(), Namespace: structs.DefaultNamespace, Priority: 50,
				Type: job.Type, TriggeredBy: structs.EvalTriggerJobRegister, JobID: job.ID, Status: structs.EvalStatusPending}
			if err := sched.Process(eval); err != nil {
				t.Fatal(err)
			}
			live := h.state.liveAllocs("web")
			if len(live) != 2 {
				t.Fatalf("placed %d allocations, want 2", len(live))
			}
			got := []string{live[0].NodeID, live[1].NodeID}
			want := tc.wantNodes
			if !(got[0] == want[0] && got[1] == want[1]) && !(got[0] == want[1] && got[1] == want[0]) {
				t.Fatalf("placed on %v, want %v", got, want)
			}
		})
	}
}
