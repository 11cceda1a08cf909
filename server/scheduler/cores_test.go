// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/droverhq/drover/structs"
)

// coreNode is a test node of cores cores at mhz each, with the cores in
// reserved (a cpu list) kept for the host.
func coreNode(id string, cores int, mhz int64, reserved string) *structs.Node {
	n := testNode(id, int64(cores)*mhz, 100_000)
	n.NodeResources.Cpu.TotalCpuCores = uint16(cores)
	for c := range cores {
		n.NodeResources.Cpu.ReservableCpuCores = append(n.NodeResources.Cpu.ReservableCpuCores, uint16(c))
	}
	rc, err := structs.ParseCPUList(reserved)
	if err != nil {
		panic(err)
	}
	n.ReservedResources = &structs.NodeReservedResources{Cpu: structs.NodeReservedCpuResources{ReservedCpuCores: rc}}
	return n
}

// coreJob is testJob whose task asks cores exclusive cores (and no MHz).
func coreJob(id string, count, cores int) *structs.Job {
	job := testJob(id, count, 0, 10)
	job.TaskGroups[0].Tasks[0].Resources.Cores = cores
	return job
}

// checkCores fails the test when a core is held twice on a node, is not
// reservable there, or a task holds a number of cores other than it asked
// or MHz other than its cores at the node's clock. It returns the cores
// held per node.
func checkCores(t *testing.T, h *harness) map[string][]uint16 {
	t.Helper()
	held := map[string][]uint16{}
	owner := map[string]string{}
	for _, a := range h.state.allocs {
		if a.TerminalStatus() {
			continue
		}
		node := h.state.nodes[a.NodeID]
		reservable := node.ReservableCores()
		for _, task := range a.Job.LookupTaskGroup(a.TaskGroup).Tasks {
			tr := a.AllocatedResources.Tasks[task.Name]
			if len(tr.Cpu.ReservedCores) != task.Resources.Cores {
				t.Fatalf("%s/%s holds cores %v, asked %d", a.Name, task.Name, tr.Cpu.ReservedCores, task.Resources.Cores)
			}
			if task.Resources.Cores > 0 && tr.Cpu.CpuShares != int64(task.Resources.Cores)*node.MHzPerCore() {
				t.Fatalf("%s/%s CpuShares = %d for %d cores at %d MHz", a.Name, task.Name, tr.Cpu.CpuShares, task.Resources.Cores, node.MHzPerCore())
			}
			for _, c := range tr.Cpu.ReservedCores {
				key := fmt.Sprintf("%s/%d", a.NodeID, c)
				if other, dup := owner[key]; dup {
					t.Fatalf("core %s held by %s and %s", key, other, a.Name)
				}
				owner[key] = a.Name
				if !slices.Contains(reservable, c) {
					t.Fatalf("%s holds core %d, not reservable on %s (%v)", a.Name, c, a.NodeID, reservable)
				}
				held[a.NodeID] = append(held[a.NodeID], c)
			}
		}
	}
	return held
}

func TestCorePlacement(t *testing.T) {
	cases := []struct {
		name     string
		nodes    []*structs.Node
		existing *structs.Job // placed first
		job      *structs.Job
		placed   int
		failDim  string
		failures int
		held     map[string][]uint16 // sorted cores per node, when checked
	}{
		{
			name:   "free cores chosen lowest first",
			nodes:  []*structs.Node{coreNode("n1", 4, 1000, "")},
			job:    coreJob("web", 2, 2),
			placed: 2,
			held:   map[string][]uint16{"n1": {0, 1, 2, 3}},
		},
		{
			name:   "reserved cores are never given",
			nodes:  []*structs.Node{coreNode("n1", 4, 1000, "0-1")},
			job:    coreJob("web", 3, 1),
			placed: 2, failDim: structs.DimensionCores, failures: 1,
			held: map[string][]uint16{"n1": {2, 3}},
		},
		{
			name:   "collision within one plan",
			nodes:  []*structs.Node{coreNode("n1", 2, 1000, "")},
			job:    coreJob("web", 3, 1),
			placed: 2, failDim: structs.DimensionCores, failures: 1,
		},
		{
			name:     "collision with another job's allocation",
			nodes:    []*structs.Node{coreNode("n1", 2, 1000, "")},
			existing: coreJob("other", 1, 2),
			job:      coreJob("web", 1, 1),
			placed:   0, failDim: structs.DimensionCores, failures: 1,
		},
		{
			name:     "cores go to the node that has them",
			nodes:    []*structs.Node{coreNode("n1", 2, 1000, ""), coreNode("n2", 2, 1000, "")},
			existing: coreJob("other", 1, 2),
			job:      coreJob("web", 1, 2),
			placed:   1,
			held:     map[string][]uint16{"n1": {0, 1}, "n2": {0, 1}},
		},
		{
			name:     "cores count against the node's CPU",
			nodes:    []*structs.Node{coreNode("n1", 2, 1000, "")},
			existing: testJob("busy", 1, 1500, 10),
			job:      coreJob("web", 1, 1),
			placed:   0, failDim: "cpu", failures: 1,
		},
		{
			name:     "shared CPU does not fit beside held cores",
			nodes:    []*structs.Node{coreNode("n1", 2, 1000, "")},
			existing: coreJob("pinned", 1, 1),
			job:      testJob("web", 1, 1500, 10),
			placed:   0, failDim: "cpu", failures: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := placeCase(t, tc.nodes, tc.existing, tc.job, tc.placed, tc.failDim, tc.failures)
			held := checkCores(t, h)
			for node, want := range tc.held {
				got := slices.Sorted(slices.Values(held[node]))
				if !slices.Equal(got, want) {
					t.Errorf("cores held on %s = %v, want %v", node, got, want)
				}
			}
		})
	}
}

// TestCoresFreedByReplacement: a destructive update stops the old
// allocation in the same plan that places the new one, so the new one may
// take the very cores the old one held.
func TestCoresFreedByReplacement(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(coreNode("n1", 2, 1000, ""))
	job := coreJob("web", 1, 2)
	h.state.upsertJob(job)
	h.mustProcess(job)
	v2 := newVersion(job, func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Env = map[string]string{"V": "2"} })
	h.state.upsertJob(v2)
	eval := h.mustProcess(v2)
	if len(eval.FailedTGAllocs) > 0 {
		t.Fatalf("replacement failed: %+v", eval.FailedTGAllocs["web"])
	}
	live := h.state.liveAllocs("web")
	if len(live) != 1 || live[0].Job.Version != v2.Version {
		t.Fatalf("live = %v", allocNames(live))
	}
	checkCores(t, h)
}

// TestRandomCoreClusters places random core-asking and MHz-asking jobs on
// random nodes and checks that no core is given twice, only reservable
// cores are given, and a group fails only where no node had its cores.
func TestRandomCoreClusters(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed*13))
		h := newHarness(t)
		for i := range 1 + rng.IntN(5) {
			cores := 1 + rng.IntN(8)
			reserved := ""
			if rng.IntN(3) == 0 {
				reserved = fmt.Sprintf("0-%d", rng.IntN(cores))
			}
			h.state.upsertNode(coreNode(fmt.Sprintf("n%d", i), cores, int64(1000+rng.IntN(3)*500), reserved))
		}
		for j := range 1 + rng.IntN(6) {
			var job *structs.Job
			if rng.IntN(4) == 0 {
				job = testJob(fmt.Sprintf("shared-%d", j), 1+rng.IntN(4), 100+rng.IntN(10)*100, 10)
			} else {
				job = coreJob(fmt.Sprintf("pinned-%d", j), 1+rng.IntN(6), 1+rng.IntN(3))
			}
			h.state.upsertJob(job)
			eval := h.mustProcess(job)
			held := checkCores(t, h)
			if m := eval.FailedTGAllocs["web"]; m != nil && m.DimensionExhausted[structs.DimensionCores] > 0 {
				need := job.TaskGroups[0].Tasks[0].Resources.Cores
				for id, n := range h.state.nodes {
					if free := len(n.ReservableCores()) - len(held[id]); free >= need {
						// Only CPU may have kept it off this node.
						if used, _ := h.state.NodeUsage(id); n.Comparable().CPU-used.CPU >= int64(need)*n.MHzPerCore() {
							t.Fatalf("seed %d: %s failed for cores but %s has %d free cores and CPU", seed, job.ID, id, free)
						}
					}
				}
			}
		}
	}
}
