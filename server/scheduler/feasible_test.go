// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"testing"

	"github.com/droverhq/drover/structs"
)

// placeOne processes a count-1 job, edited by edit, on the nodes and reports
// the node it landed on ("" when it failed) and the final eval.
func placeOne(t *testing.T, nodes []*structs.Node, edit func(*structs.Job)) (string, *structs.Evaluation) {
	t.Helper()
	h := newHarness(t)
	for _, n := range nodes {
		h.state.upsertNode(n)
	}
	job := testJob("web", 1, 100, 100)
	edit(job)
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	live := h.state.liveAllocs("web")
	if len(live) == 0 {
		return "", eval
	}
	return live[0].NodeID, eval
}

func TestConstraintOperators(t *testing.T) {
	node := func() *structs.Node {
		n := testNode("n1", 4000, 8192)
		n.Attributes["kernel.version"] = "5.15.0"
		n.Attributes["nomad.version"] = "1.7.2-beta1"
		n.Attributes["cpu.numcores"] = "8"
		n.Attributes["os.name"] = "ubuntu"
		n.Attributes["tags"] = "ssd, gpu,fast"
		n.Meta["rack"] = "r1"
		n.NodePool = "default"
		return n
	}
	cases := []struct {
		l, op, r string
		want     bool
	}{
		{"${attr.kernel.name}", "=", "linux", true},
		{"${attr.kernel.name}", "==", "windows", false},
		{"${attr.kernel.name}", "is", "linux", true},
		{"${attr.missing}", "=", "linux", false},
		{"${attr.kernel.name}", "!=", "windows", true},
		{"${attr.kernel.name}", "not", "linux", false},
		{"${attr.missing}", "!=", "linux", true},
		{"${attr.cpu.numcores}", ">", "10", false}, // numeric: 8 < 10 (lexically "8" > "10")
		{"${attr.cpu.numcores}", ">=", "8", true},
		{"${attr.cpu.numcores}", "<", "10", true},
		{"${attr.cpu.numcores}", "<=", "7.5", false},
		{"${attr.os.name}", "<", "windows", true}, // lexical
		{"${attr.os.name}", ">", "windows", false},
		{"${attr.missing}", "<", "9", false},
		{"${attr.os.name}", "regexp", "^ubu.*u$", true},
		{"${attr.os.name}", "regexp", "^deb", false},
		{"${attr.tags}", "set_contains", "gpu,ssd", true},
		{"${attr.tags}", "set_contains", "gpu, nvme", false},
		{"${attr.tags}", "set_contains_all", "fast", true},
		{"${attr.tags}", "set_contains_any", "nvme, fast", true},
		{"${attr.tags}", "set_contains_any", "nvme,hdd", false},
		{"${attr.kernel.version}", "version", ">= 5.10, < 6.0", true},
		{"${attr.kernel.version}", "version", "~> 5.14", true},
		{"${attr.kernel.version}", "version", "~> 5.14.0", false},
		{"${attr.nomad.version}", "version", ">= 1.7.0", false}, // pre-release excluded
		{"${attr.nomad.version}", "version", ">= 1.7.2-alpha", true},
		{"${attr.nomad.version}", "semver", ">= 1.7.0", true},
		{"${attr.nomad.version}", "semver", ">= 1.7.2", false},
		{"${attr.kernel.version}", "semver", "< 5.15.1", true},
		{"${attr.os.name}", "is_set", "", true},
		{"${attr.missing}", "is_set", "", false},
		{"${attr.missing}", "is_not_set", "", true},
		{"${meta.rack}", "=", "r1", true},
		{"${meta.rack}", "=", "r2", false},
		{"${node.unique.id}", "=", "n1", true},
		{"${node.unique.name}", "=", "name-n1", true},
		{"${node.datacenter}", "=", "dc1", true},
		{"${node.class}", "=", "standard", true},
		{"${node.pool}", "=", "default", true},
		{"${node.unknown}", "=", "x", false},
		{"${attr.os.name}", "=", "${attr.os.name}", true},
	}
	for _, level := range []string{"job", "group", "task"} {
		for _, tc := range cases {
			c := &structs.Constraint{LTarget: tc.l, Operand: tc.op, RTarget: tc.r}
			got, eval := placeOne(t, []*structs.Node{node()}, func(j *structs.Job) {
				cs := []*structs.Constraint{c}
				switch level {
				case "job":
					j.Constraints = cs
				case "group":
					j.TaskGroups[0].Constraints = cs
				default:
					j.TaskGroups[0].Tasks[0].Constraints = cs
				}
			})
			if (got != "") != tc.want {
				t.Errorf("%s: %s %s %q: placed=%v, want %v", level, tc.l, tc.op, tc.r, got != "", tc.want)
				continue
			}
			if !tc.want {
				key := tc.l + " " + tc.op + " " + tc.r
				m := eval.FailedTGAllocs["web"]
				if m == nil || m.ConstraintFiltered[key] != 1 || m.NodesFiltered != 1 {
					t.Errorf("%s: metric for %q = %+v", level, key, m)
				}
			}
		}
	}
}

func TestInvalidConstraintsFailEval(t *testing.T) {
	for _, c := range []structs.Constraint{
		{LTarget: "${attr.a}", Operand: "like", RTarget: "x"},
		{LTarget: "${attr.a}", Operand: "regexp", RTarget: "(["},
		{LTarget: "${attr.a}", Operand: "version", RTarget: ">= x.y"},
		{LTarget: "${attr.a}", Operand: "semver", RTarget: "~> 1.2.3"},
		{Operand: "distinct_hosts", RTarget: "maybe"},
		{LTarget: "${meta.rack}", Operand: "distinct_property", RTarget: "0"},
	} {
		h := newHarness(t)
		h.state.upsertNode(testNode("n1", 4000, 8192))
		job := testJob("web", 1, 100, 100)
		job.TaskGroups[0].Constraints = []*structs.Constraint{&c}
		h.state.upsertJob(job)
		if _, err := h.process(job); err == nil || h.planner.lastEval(t).Status != structs.EvalStatusFailed {
			t.Errorf("%+v: err = %v", c, err)
		}
	}
}

func TestDatacentersPoolsDrivers(t *testing.T) {
	mk := func(id, dc, pool string) *structs.Node {
		n := testNode(id, 4000, 8192)
		n.Datacenter, n.NodePool = dc, pool
		return n
	}
	nodes := []*structs.Node{mk("a", "us-east-1", ""), mk("b", "eu-west-1", "gpu"), mk("c", "eu-west-2", "default")}
	cases := []struct {
		name string
		edit func(*structs.Job)
		want string
	}{
		{"exact dc", func(j *structs.Job) { j.Datacenters = []string{"eu-west-2"} }, "c"},
		{"dc wildcard", func(j *structs.Job) { j.Datacenters = []string{"us-*"} }, "a"},
		{"star", func(j *structs.Job) { j.Datacenters = []string{"*"} }, "a"},
		{"middle wildcard", func(j *structs.Job) { j.Datacenters = []string{"eu-*-2"} }, "c"},
		{"no dc matches", func(j *structs.Job) { j.Datacenters = []string{"ap-*"} }, ""},
		{"pool gpu", func(j *structs.Job) { j.Datacenters = []string{"*"}; j.NodePool = "gpu" }, "b"},
		{"pool all", func(j *structs.Job) { j.Datacenters = []string{"eu-west-1"}; j.NodePool = "all" }, "b"},
		{"default pool excludes gpu", func(j *structs.Job) { j.Datacenters = []string{"eu-west-1"} }, ""},
		{"driver missing", func(j *structs.Job) { j.Datacenters = []string{"*"}; j.TaskGroups[0].Tasks[0].Driver = "docker" }, ""},
	}
	for _, tc := range cases {
		got, eval := placeOne(t, nodes, tc.edit)
		if got != tc.want {
			t.Errorf("%s: placed on %q, want %q", tc.name, got, tc.want)
		}
		if tc.name == "driver missing" {
			if m := eval.FailedTGAllocs["web"]; m == nil || m.ConstraintFiltered[filterMissingDrivers] != 2 || m.NodesAvailable["us-east-1"] != 1 {
				t.Errorf("driver metric = %+v", m)
			}
		}
	}
	unhealthy := testNode("u", 4000, 8192)
	unhealthy.Drivers["exec"].Healthy = false
	notReady := []*structs.Node{unhealthy}
	for _, edit := range []func(*structs.Node){
		func(n *structs.Node) { n.Drain = true },
		func(n *structs.Node) { n.Status = structs.NodeStatusDown },
		func(n *structs.Node) { n.SchedulingEligibility = structs.NodeSchedulingIneligible },
	} {
		n := testNode("x", 4000, 8192)
		edit(n)
		notReady = append(notReady, n)
	}
	for _, n := range notReady {
		if got, _ := placeOne(t, []*structs.Node{n}, func(*structs.Job) {}); got != "" {
			t.Errorf("placed on unusable node %+v", n)
		}
	}
}

func TestDistinctConstraints(t *testing.T) {
	rackNodes := func() []*structs.Node {
		var out []*structs.Node
		for i, rack := range []string{"r1", "r1", "r2", "r2", "r3"} {
			n := testNode(string(rune('a'+i)), 8000, 16384)
			n.Meta["rack"] = rack
			out = append(out, n)
		}
		return out
	}
	cases := []struct {
		name   string
		cs     []*structs.Constraint
		jobLvl bool
		count  int
		placed int
		check  func(t *testing.T, live []*structs.Allocation, nodes map[string]*structs.Node)
	}{
		{"distinct hosts", []*structs.Constraint{{Operand: "distinct_hosts"}}, false, 7, 5, perNodeAtMost(1)},
		{"distinct hosts job level", []*structs.Constraint{{Operand: "distinct_hosts", RTarget: "true"}}, true, 5, 5, perNodeAtMost(1)},
		{"distinct hosts false", []*structs.Constraint{{Operand: "distinct_hosts", RTarget: "false"}}, false, 7, 7, nil},
		{"distinct property", []*structs.Constraint{{LTarget: "${meta.rack}", Operand: "distinct_property"}}, false, 5, 3, perRackAtMost(1)},
		{"distinct property 2", []*structs.Constraint{{LTarget: "${meta.rack}", Operand: "distinct_property", RTarget: "2"}}, true, 7, 6, perRackAtMost(2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			nodes := map[string]*structs.Node{}
			for _, n := range rackNodes() {
				h.state.upsertNode(n)
				nodes[n.ID] = n
			}
			job := testJob("web", tc.count, 100, 100)
			if tc.jobLvl {
				job.Constraints = tc.cs
			} else {
				job.TaskGroups[0].Constraints = tc.cs
			}
			h.state.upsertJob(job)
			eval := h.mustProcess(job)
			live := h.state.liveAllocs("web")
			if len(live) != tc.placed {
				t.Fatalf("placed %d, want %d", len(live), tc.placed)
			}
			if tc.placed < tc.count {
				m := eval.FailedTGAllocs["web"]
				if m == nil || m.ConstraintFiltered[constraintKey(tc.cs[0])] == 0 {
					t.Errorf("failure metric = %+v", m)
				}
			}
			if tc.check != nil {
				tc.check(t, live, nodes)
			}
			// A second evaluation keeps honouring the existing allocations.
			up := newVersion(job, func(j *structs.Job) { j.TaskGroups[0].Count++ })
			h.state.upsertJob(up)
			h.mustProcess(up)
			if tc.check != nil {
				tc.check(t, h.state.liveAllocs("web"), nodes)
			}
		})
	}
}

func perNodeAtMost(n int) func(*testing.T, []*structs.Allocation, map[string]*structs.Node) {
	return func(t *testing.T, live []*structs.Allocation, _ map[string]*structs.Node) {
		t.Helper()
		per := map[string]int{}
		for _, a := range live {
			if per[a.NodeID]++; per[a.NodeID] > n {
				t.Errorf("node %s holds %d", a.NodeID, per[a.NodeID])
			}
		}
	}
}

func perRackAtMost(n int) func(*testing.T, []*structs.Allocation, map[string]*structs.Node) {
	return func(t *testing.T, live []*structs.Allocation, nodes map[string]*structs.Node) {
		t.Helper()
		per := map[string]int{}
		for _, a := range live {
			rack := nodes[a.NodeID].Meta["rack"]
			if per[rack]++; per[rack] > n {
				t.Errorf("rack %s holds %d", rack, per[rack])
			}
		}
	}
}
