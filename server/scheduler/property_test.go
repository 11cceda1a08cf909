// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/droverhq/drover/structs"
)

// TestRandomClusters schedules random jobs on random clusters and checks
// the invariants: no node over capacity, each group at most its count with
// unique names and exactly its count when not queued, no allocation on a
// node that violates its constraints, and nothing lost across evaluations.
func TestRandomClusters(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed*7))
		h := newHarness(t)
		nodes := map[string]*structs.Node{}
		for i := range 5 + rng.IntN(30) {
			n := testNode(fmt.Sprintf("node-%02d", i), int64(1000+rng.IntN(4)*1000), int64(1024+rng.IntN(4)*1024))
			n.Datacenter = []string{"dc1", "dc2"}[rng.IntN(2)]
			n.Meta["rack"] = fmt.Sprintf("r%d", rng.IntN(4))
			if rng.IntN(5) == 0 {
				n.Attributes["kernel.name"] = "windows"
			}
			if rng.IntN(8) == 0 {
				n.Drivers["exec"].Healthy = false
			}
			h.state.upsertNode(n)
			nodes[n.ID] = n
		}
		var jobs []*structs.Job
		for j := range 1 + rng.IntN(4) {
			job := testJob(fmt.Sprintf("job-%d", j), 1+rng.IntN(12), 200+rng.IntN(6)*200, 128+rng.IntN(8)*128)
			job.Datacenters = []string{"dc*"}
			if rng.IntN(2) == 0 {
				job.Constraints = []*structs.Constraint{{LTarget: "${attr.kernel.name}", Operand: "=", RTarget: "linux"}}
			}
			switch rng.IntN(3) {
			case 0:
				job.TaskGroups[0].Constraints = []*structs.Constraint{{Operand: "distinct_hosts"}}
			case 1:
				job.TaskGroups[0].Constraints = []*structs.Constraint{{LTarget: "${meta.rack}", Operand: "distinct_property", RTarget: "3"}}
			}
			h.state.upsertJob(job)
			jobs = append(jobs, job)
		}
		// Register, then change counts and resources, twice.
		for round := range 3 {
			for i, job := range jobs {
				if round > 0 {
					job = newVersion(job, func(j *structs.Job) {
						j.TaskGroups[0].Count = 1 + rng.IntN(12)
						if rng.IntN(2) == 0 {
							j.TaskGroups[0].Tasks[0].Resources.CPU += 100
						}
					})
					h.state.upsertJob(job)
					jobs[i] = job
				}
				eval := h.mustProcess(job)
				checkInvariants(t, seed, h, nodes, job, eval)
			}
		}
	}
}

func checkInvariants(t *testing.T, seed uint64, h *harness, nodes map[string]*structs.Node, job *structs.Job, eval *structs.Evaluation) {
	t.Helper()
	used := map[string]structs.ComparableResources{}
	for _, a := range h.state.allocs {
		if a.TerminalStatus() {
			continue
		}
		u := used[a.NodeID]
		u.Add(a.AllocatedResources.Comparable())
		used[a.NodeID] = u
	}
	for id, u := range used {
		if ok, dim := nodes[id].Comparable().Superset(u); !ok {
			t.Fatalf("seed %d: node %s over capacity in %s: %+v of %+v", seed, id, dim, u, nodes[id].Comparable())
		}
	}
	tg := job.TaskGroups[0]
	live := h.state.liveAllocs(job.ID)
	seen := map[string]bool{}
	perNode := map[string]int{}
	perRack := map[string]int{}
	for _, a := range live {
		if seen[a.Name] {
			t.Fatalf("seed %d: duplicate name %s", seed, a.Name)
		}
		seen[a.Name] = true
		n := nodes[a.NodeID]
		if !n.Ready() || n.Drivers["exec"] == nil || !n.Drivers["exec"].Healthy {
			t.Fatalf("seed %d: %s on unusable node %s", seed, a.Name, n.ID)
		}
		if len(job.Constraints) > 0 && n.Attributes["kernel.name"] != "linux" {
			t.Fatalf("seed %d: %s on %s violates kernel constraint", seed, a.Name, n.ID)
		}
		if a.Job != job {
			t.Fatalf("seed %d: %s runs an old job version", seed, a.Name)
		}
		perNode[n.ID]++
		perRack[n.Meta["rack"]]++
	}
	for _, c := range tg.Constraints {
		switch c.Operand {
		case "distinct_hosts":
			for id, k := range perNode {
				if k > 1 {
					t.Fatalf("seed %d: distinct_hosts violated on %s", seed, id)
				}
			}
		case "distinct_property":
			for r, k := range perRack {
				if k > 3 {
					t.Fatalf("seed %d: distinct_property violated on %s (%d)", seed, r, k)
				}
			}
		}
	}
	if got, want := len(live)+eval.QueuedAllocations[tg.Name], tg.Count; got != want {
		t.Fatalf("seed %d: %s: live %d + queued %d != count %d", seed, job.ID, len(live), eval.QueuedAllocations[tg.Name], want)
	}
	if eval.QueuedAllocations[tg.Name] > 0 && (eval.FailedTGAllocs[tg.Name] == nil || eval.BlockedEval == "") {
		t.Fatalf("seed %d: queued without failure metric or blocked eval", seed)
	}
}
