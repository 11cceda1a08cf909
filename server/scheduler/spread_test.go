// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/droverhq/drover/structs"
)

// perValue counts the live allocations of job per value of key(node).
func perValue(h *harness, jobID string, key func(*structs.Node) string) map[string]int {
	out := map[string]int{}
	for _, a := range h.state.liveAllocs(jobID) {
		out[key(h.state.nodes[a.NodeID])]++
	}
	return out
}

func rackOf(n *structs.Node) string { return n.Meta["rack"] }
func dcOf(n *structs.Node) string   { return n.Datacenter }

// TestSpreadBenchmarkCluster schedules the benchmark's job on the
// benchmark's cluster (5,000 nodes, 25 racks, the job limited to r0..r11)
// and checks the distribution over racks is exactly the one asked for.
func TestSpreadBenchmarkCluster(t *testing.T) {
	cluster := benchCluster(5000, 25)
	even := func(count int) func(t *testing.T, got map[string]int) {
		return func(t *testing.T, got map[string]int) {
			lo, hi := count/12, (count+11)/12
			for r := range 12 {
				if c := got[fmt.Sprintf("r%d", r)]; c < lo || c > hi {
					t.Errorf("rack r%d has %d, want %d..%d (all: %v)", r, c, lo, hi, got)
				}
			}
		}
	}
	exact := func(want map[string]int) func(t *testing.T, got map[string]int) {
		return func(t *testing.T, got map[string]int) {
			if !maps.Equal(got, want) {
				t.Errorf("per rack = %v, want %v", got, want)
			}
		}
	}
	tests := []struct {
		name    string
		count   int
		targets []*structs.SpreadTarget
		check   func(t *testing.T, got map[string]int)
	}{
		{name: "even 1200", count: 1200, check: even(1200)},
		{name: "even 1000 (does not divide)", count: 1000, check: even(1000)},
		{name: "even 30 (fewer than two per rack)", count: 30, check: even(30)},
		{
			name: "targets 30/30/20/20", count: 1200,
			targets: []*structs.SpreadTarget{{Value: "r0", Percent: 30}, {Value: "r1", Percent: 30}, {Value: "r2", Percent: 20}, {Value: "r3", Percent: 20}},
			check:   exact(map[string]int{"r0": 360, "r1": 360, "r2": 240, "r3": 240}),
		},
		{
			name: "targets summing to 35", count: 1200,
			targets: []*structs.SpreadTarget{{Value: "r0", Percent: 20}, {Value: "r1", Percent: 15}},
			check: func(t *testing.T, got map[string]int) {
				rest := 0
				for r, c := range got {
					if r != "r0" && r != "r1" {
						rest += c
					}
				}
				if got["r0"] != 240 || got["r1"] != 180 || rest != 780 {
					t.Errorf("r0 %d r1 %d rest %d, want 240 180 780 (%v)", got["r0"], got["r1"], rest, got)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &harness{t: t, state: cluster.clone()}
			h.planner = &recordingPlanner{state: h.state}
			job := benchJob("spread", 25, tc.count, true)
			job.Spreads[0].SpreadTarget = tc.targets
			h.state.upsertJob(job)
			eval := h.mustProcess(job)
			if q := eval.QueuedAllocations["web"]; q != 0 {
				t.Fatalf("queued %d", q)
			}
			got := perValue(h, job.ID, rackOf)
			total := 0
			for r, c := range got {
				total += c
				var i int
				if _, err := fmt.Sscanf(r, "r%d", &i); err != nil || i >= 12 {
					t.Errorf("%d allocations on rack %s, outside the job's constraint", c, r)
				}
			}
			if total != tc.count {
				t.Fatalf("placed %d, want %d", total, tc.count)
			}
			checkCapacity(t, h)
			tc.check(t, got)
		})
	}
}

// checkCapacity fails when a node holds more than it offers.
func checkCapacity(t *testing.T, h *harness) {
	t.Helper()
	used := map[string]structs.ComparableResources{}
	for _, a := range h.state.allocs {
		if !a.TerminalStatus() {
			u := used[a.NodeID]
			u.Add(a.AllocatedResources.Comparable())
			used[a.NodeID] = u
		}
	}
	for id, u := range used {
		if ok, dim := h.state.nodes[id].Comparable().Superset(u); !ok {
			t.Fatalf("node %s over capacity in %s: %+v", id, dim, u)
		}
	}
}

// spreadNode is a big node in dc with meta rack.
func spreadNode(id, dc, rack string) *structs.Node {
	n := testNode(id, 100_000, 100_000)
	n.Datacenter, n.Meta["rack"] = dc, rack
	return n
}

func TestSpread(t *testing.T) {
	// Six racks over two datacenters, four nodes each; dc2 has only r4, r5.
	sixRacks := func() []*structs.Node {
		var out []*structs.Node
		for r := range 6 {
			dc := "dc1"
			if r >= 4 {
				dc = "dc2"
			}
			for k := range 4 {
				out = append(out, spreadNode(fmt.Sprintf("n%d-%d", r, k), dc, fmt.Sprintf("r%d", r)))
			}
		}
		return out
	}
	// a, b in dc1/r0; c in dc2/r1: a rack target and an even dc spread
	// that disagree.
	conflict := func() []*structs.Node {
		return []*structs.Node{spreadNode("a", "dc1", "r0"), spreadNode("b", "dc1", "r0"), spreadNode("c", "dc2", "r1")}
	}
	rack := func(w int8, targets ...*structs.SpreadTarget) *structs.Spread {
		return &structs.Spread{Attribute: "${meta.rack}", Weight: w, SpreadTarget: targets}
	}
	dc := func(w int8) *structs.Spread { return &structs.Spread{Attribute: "${node.datacenter}", Weight: w} }
	tgt := func(v string, p uint8) *structs.SpreadTarget { return &structs.SpreadTarget{Value: v, Percent: p} }

	tests := []struct {
		name      string
		nodes     func() []*structs.Node
		count     int
		jobSpread []*structs.Spread
		tgSpread  []*structs.Spread
		key       func(*structs.Node) string
		want      map[string]int
	}{
		{name: "even over racks, group level", nodes: sixRacks, count: 12, tgSpread: []*structs.Spread{rack(0)}, key: rackOf,
			want: map[string]int{"r0": 2, "r1": 2, "r2": 2, "r3": 2, "r4": 2, "r5": 2}},
		{name: "even over datacenters, job level", nodes: sixRacks, count: 10, jobSpread: []*structs.Spread{dc(0)}, key: dcOf,
			want: map[string]int{"dc1": 5, "dc2": 5}},
		{name: "targets", nodes: sixRacks, count: 10, tgSpread: []*structs.Spread{rack(50, tgt("r0", 60), tgt("r3", 40))}, key: rackOf,
			want: map[string]int{"r0": 6, "r3": 4}},
		{name: "explicit rest target", nodes: sixRacks, count: 10, tgSpread: []*structs.Spread{rack(50, tgt("r0", 60), tgt("*", 40), tgt("r1", 0))}, key: func(n *structs.Node) string {
			if r := rackOf(n); r == "r0" || r == "r1" {
				return r
			}
			return "other"
		}, want: map[string]int{"r0": 6, "other": 4}},
		{name: "targets summing below 100", nodes: sixRacks, count: 10, tgSpread: []*structs.Spread{rack(50, tgt("r5", 50))}, key: func(n *structs.Node) string {
			if rackOf(n) == "r5" {
				return "r5"
			}
			return "other"
		}, want: map[string]int{"r5": 5, "other": 5}},
		{name: "multiple spreads both honoured", nodes: func() []*structs.Node {
			return []*structs.Node{spreadNode("a", "dc1", "r0"), spreadNode("b", "dc1", "r1"), spreadNode("c", "dc2", "r1"), spreadNode("d", "dc2", "r1")}
		}, count: 2, jobSpread: []*structs.Spread{dc(50)}, tgSpread: []*structs.Spread{rack(50)},
			key: func(n *structs.Node) string { return n.ID[:1] + "/" + dcOf(n) }, want: map[string]int{"a/dc1": 1, "c/dc2": 1}},
		{name: "heavier rack spread wins", nodes: conflict, count: 2, jobSpread: []*structs.Spread{dc(10)}, tgSpread: []*structs.Spread{rack(100, tgt("r0", 100))},
			key: dcOf, want: map[string]int{"dc1": 2}},
		{name: "heavier dc spread wins", nodes: conflict, count: 2, jobSpread: []*structs.Spread{dc(100)}, tgSpread: []*structs.Spread{rack(10, tgt("r0", 100))},
			key: dcOf, want: map[string]int{"dc1": 1, "dc2": 1}},
		{name: "nodes without the attribute come last", nodes: func() []*structs.Node {
			n := spreadNode("bare", "dc1", "")
			delete(n.Meta, "rack")
			return []*structs.Node{n, spreadNode("x", "dc1", "r0"), spreadNode("y", "dc1", "r1")}
		}, count: 2, tgSpread: []*structs.Spread{rack(50)}, key: rackOf, want: map[string]int{"r0": 1, "r1": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			for _, n := range tc.nodes() {
				h.state.upsertNode(n)
			}
			job := testJob("web", tc.count, 100, 64)
			job.Datacenters = []string{"dc*"}
			job.Spreads = tc.jobSpread
			job.TaskGroups[0].Spreads = tc.tgSpread
			h.state.upsertJob(job)
			h.mustProcess(job)
			if got := perValue(h, job.ID, tc.key); !maps.Equal(got, tc.want) {
				t.Errorf("placed %v, want %v", got, tc.want)
			}
			for _, a := range h.state.liveAllocs(job.ID) {
				if _, ok := a.Metrics.Scores.Map()[a.NodeID+".allocation-spread"]; !ok {
					t.Errorf("%s: no allocation-spread score in %v", a.Name, a.Metrics.Scores.Map())
				}
			}
		})
	}
}

// TestSpreadCountsExistingAllocs scales a spread job up: the new
// allocations fill the racks the old ones left short.
func TestSpreadCountsExistingAllocs(t *testing.T) {
	h := newHarness(t)
	for r := range 3 {
		for k := range 3 {
			h.state.upsertNode(spreadNode(fmt.Sprintf("n%d-%d", r, k), "dc1", fmt.Sprintf("r%d", r)))
		}
	}
	job := testJob("web", 6, 100, 64)
	job.TaskGroups[0].Spreads = []*structs.Spread{{Attribute: "${meta.rack}"}}
	h.state.upsertJob(job)
	for i := range 3 {
		h.addAlloc(job, fmt.Sprintf("n0-%d", i), i, structs.AllocClientStatusRunning)
	}
	h.mustProcess(job)
	// The even share is 2 per rack: r0 already has 3, so the three new
	// allocations go to r1 and r2, at most 2 each.
	got := perValue(h, job.ID, rackOf)
	if got["r0"] != 3 || got["r1"]+got["r2"] != 3 || got["r1"] > 2 || got["r2"] > 2 {
		t.Fatalf("placed %v, want r0 3 and r1, r2 at most 2 each", got)
	}
}

func TestInvalidPreferencesFailEval(t *testing.T) {
	tests := []struct {
		name string
		edit func(*structs.Job)
	}{
		{"spread without attribute", func(j *structs.Job) { j.Spreads = []*structs.Spread{{}} }},
		{"spread targets over 100", func(j *structs.Job) {
			j.TaskGroups[0].Spreads = []*structs.Spread{{Attribute: "${meta.rack}", SpreadTarget: []*structs.SpreadTarget{{Value: "a", Percent: 70}, {Value: "b", Percent: 40}}}}
		}},
		{"spread target twice", func(j *structs.Job) {
			j.TaskGroups[0].Spreads = []*structs.Spread{{Attribute: "${meta.rack}", SpreadTarget: []*structs.SpreadTarget{{Value: "a", Percent: 10}, {Value: "a", Percent: 10}}}}
		}},
		{"negative spread weight", func(j *structs.Job) { j.Spreads = []*structs.Spread{{Attribute: "${meta.rack}", Weight: -5}} }},
		{"affinity with distinct_hosts", func(j *structs.Job) {
			j.Affinities = []*structs.Affinity{{Operand: "distinct_hosts", Weight: 50}}
		}},
		{"affinity with bad regexp", func(j *structs.Job) {
			j.TaskGroups[0].Tasks[0].Affinities = []*structs.Affinity{{LTarget: "${meta.rack}", Operand: "regexp", RTarget: "(", Weight: 50}}
		}},
		{"affinity weight out of range", func(j *structs.Job) {
			j.TaskGroups[0].Affinities = []*structs.Affinity{{LTarget: "${meta.rack}", RTarget: "r0", Weight: -101}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.state.upsertNode(testNode("n1", 4000, 8192))
			job := testJob("web", 1, 100, 64)
			tc.edit(job)
			h.state.upsertJob(job)
			_, err := h.process(job)
			if !errors.Is(err, ErrInvalidJob) {
				t.Fatalf("err = %v, want ErrInvalidJob", err)
			}
			if e := h.planner.lastEval(t); e.Status != structs.EvalStatusFailed {
				t.Errorf("eval status = %s, want failed", e.Status)
			}
		})
	}
}
