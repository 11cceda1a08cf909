// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"fmt"
	"testing"

	"github.com/droverhq/drover/structs"
)

// portNode is a test node with an address on its default network, a
// dynamic range lo-hi and reserved ports.
func portNode(id, ip string, lo, hi int, reserved string) *structs.Node {
	n := testNode(id, 100_000, 100_000)
	n.NodeResources.Networks = []*structs.NetworkResource{{Mode: "host", Device: "eth0", IP: ip, CIDR: ip + "/32"}}
	n.NodeResources.MinDynamicPort, n.NodeResources.MaxDynamicPort = lo, hi
	n.ReservedResources = &structs.NodeReservedResources{Networks: structs.NodeReservedNetworkResources{ReservedHostPorts: reserved}}
	return n
}

// portJob is testJob with a host network of the given static ports
// (label "s<port>") and dynamic labels.
func portJob(id string, count int, static []int, dynamic ...string) *structs.Job {
	job := testJob(id, count, 10, 10)
	n := &structs.NetworkResource{Mode: "host"}
	for _, p := range static {
		n.ReservedPorts = append(n.ReservedPorts, structs.Port{Label: fmt.Sprintf("s%d", p), Value: p})
	}
	for _, l := range dynamic {
		n.DynamicPorts = append(n.DynamicPorts, structs.Port{Label: l})
	}
	job.TaskGroups[0].Networks = []*structs.NetworkResource{n}
	return job
}

// hostPorts lists every host port held by live allocations, failing the
// test on a collision, a dynamic port outside its node's range or a
// reserved port in use.
func checkPorts(t *testing.T, h *harness) map[string][]structs.HostPort {
	t.Helper()
	byNode := map[string][]structs.HostPort{}
	taken := map[string]string{}
	for _, a := range h.state.allocs {
		if a.TerminalStatus() {
			continue
		}
		node := h.state.nodes[a.NodeID]
		reserved, err := structs.ParsePortSpec(node.ReservedResources.Networks.ReservedHostPorts)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := node.DynamicPortRange()
		for _, hp := range structs.AllocHostPorts(a.AllocatedResources) {
			key := fmt.Sprintf("%s/%s:%d", a.NodeID, hp.IP, hp.Value)
			if other, dup := taken[key]; dup {
				t.Fatalf("port %s held by %s and %s", key, other, a.Name)
			}
			taken[key] = a.Name
			for _, r := range reserved {
				if r == hp.Value {
					t.Fatalf("%s holds reserved port %d on %s", a.Name, r, a.NodeID)
				}
			}
			if hp.IP != node.DefaultIP() {
				t.Fatalf("%s port %s on IP %s, node's is %s", a.Name, hp.Label, hp.IP, node.DefaultIP())
			}
			isStatic := len(hp.Label) > 0 && hp.Label[0] == 's'
			if !isStatic && (hp.Value < lo || hp.Value > hi) {
				t.Fatalf("%s dynamic port %s=%d outside %d-%d", a.Name, hp.Label, hp.Value, lo, hi)
			}
			byNode[a.NodeID] = append(byNode[a.NodeID], hp)
		}
		if len(a.AllocatedResources.Shared.Ports) != len(structs.AllocHostPorts(a.AllocatedResources)) {
			t.Fatalf("%s: Shared.Ports %v does not list its network ports", a.Name, a.AllocatedResources.Shared.Ports)
		}
	}
	return byNode
}

func TestPortPlacement(t *testing.T) {
	cases := []struct {
		name     string
		nodes    []*structs.Node
		existing *structs.Job // placed first
		job      *structs.Job
		placed   int
		failDim  string // DimensionExhausted key of the failure, when some do not fit
		failures int
	}{
		{
			name:   "static port once per node",
			nodes:  []*structs.Node{portNode("n1", "10.0.0.1", 20000, 32000, ""), portNode("n2", "10.0.0.2", 20000, 32000, "")},
			job:    portJob("db", 3, []int{5432}),
			placed: 2, failDim: structs.DimensionPortCollision, failures: 1,
		},
		{
			name:     "static port taken by another job",
			nodes:    []*structs.Node{portNode("n1", "10.0.0.1", 20000, 32000, "")},
			existing: portJob("other", 1, []int{8080}),
			job:      portJob("web", 1, []int{8080}),
			placed:   0, failDim: structs.DimensionPortCollision, failures: 1,
		},
		{
			name:   "static port reserved on the node",
			nodes:  []*structs.Node{portNode("n1", "10.0.0.1", 20000, 32000, "22,80,8500-8600"), portNode("n2", "10.0.0.2", 20000, 32000, "")},
			job:    portJob("consul", 2, []int{8500}),
			placed: 1, failDim: structs.DimensionPortCollision, failures: 1,
		},
		{
			name:   "dynamic range exhausted",
			nodes:  []*structs.Node{portNode("n1", "10.0.0.1", 20000, 20004, "20001")},
			job:    portJob("web", 6, nil, "http"),
			placed: 4, failDim: structs.DimensionDynamicPorts, failures: 2,
		},
		{
			name:   "two dynamic ports per allocation",
			nodes:  []*structs.Node{portNode("n1", "10.0.0.1", 20000, 20006, "")},
			job:    portJob("web", 4, nil, "http", "admin"),
			placed: 3, failDim: structs.DimensionDynamicPorts, failures: 1,
		},
		{
			name:     "dynamic ports skip an existing allocation's static port",
			nodes:    []*structs.Node{portNode("n1", "10.0.0.1", 20000, 20002, "")},
			existing: portJob("other", 1, []int{20001}),
			job:      portJob("web", 3, nil, "http"),
			placed:   2, failDim: structs.DimensionDynamicPorts, failures: 1,
		},
		{
			name:   "many allocations on one node get distinct ports",
			nodes:  []*structs.Node{portNode("n1", "10.0.0.1", 20000, 32000, "")},
			job:    portJob("web", 200, []int{}, "http", "grpc", "metrics"),
			placed: 200,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := placeCase(t, tc.nodes, tc.existing, tc.job, tc.placed, tc.failDim, tc.failures)
			checkPorts(t, h)
		})
	}
}

func TestPortsOfPlacement(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(portNode("n1", "10.0.0.1", 21000, 21999, ""))
	job := portJob("web", 1, []int{5432}, "http")
	job.TaskGroups[0].Networks[0].DynamicPorts = append(job.TaskGroups[0].Networks[0].DynamicPorts, structs.Port{Label: "same", To: -1})
	job.TaskGroups[0].Networks[0].DynamicPorts[0].To = 8080
	h.state.upsertJob(job)
	h.mustProcess(job)
	live := h.state.liveAllocs("web")
	if len(live) != 1 {
		t.Fatalf("placed %d", len(live))
	}
	sh := live[0].AllocatedResources.Shared
	if len(sh.Networks) != 1 || sh.Networks[0].IP != "10.0.0.1" || sh.Networks[0].Device != "eth0" || sh.Networks[0].Mode != "host" {
		t.Fatalf("networks = %+v", sh.Networks)
	}
	ports := map[string]structs.PortMapping{}
	for _, p := range sh.Ports {
		ports[p.Label] = p
	}
	if p := ports["s5432"]; p.Value != 5432 || p.HostIP != "10.0.0.1" {
		t.Errorf("static = %+v", p)
	}
	if p := ports["http"]; p.Value < 21000 || p.Value > 21999 || p.To != 8080 {
		t.Errorf("http = %+v", p)
	}
	if p := ports["same"]; p.To != p.Value || p.Value == 0 {
		t.Errorf("to = -1 should map to the host port: %+v", p)
	}
	// The job's own network is left unassigned.
	if v := job.TaskGroups[0].Networks[0].DynamicPorts[0].Value; v != 0 {
		t.Errorf("job's port mutated to %d", v)
	}
}

func TestDestructiveUpdateReusesStaticPort(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(portNode("n1", "10.0.0.1", 20000, 32000, ""))
	job := portJob("db", 1, []int{5432})
	h.state.upsertJob(job)
	h.mustProcess(job)
	v2 := newVersion(job, func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Resources.CPU += 10 })
	h.state.upsertJob(v2)
	eval := h.mustProcess(v2)
	live := h.state.liveAllocs("db")
	if len(live) != 1 || live[0].Job != v2 || eval.FailedTGAllocs["web"] != nil {
		t.Fatalf("live = %v, failed = %+v: the stop in the same plan frees the port", allocNames(live), eval.FailedTGAllocs)
	}
	checkPorts(t, h)
}

func TestPortsOnMissingHostNetwork(t *testing.T) {
	h := newHarness(t)
	plain := portNode("n1", "10.0.0.1", 20000, 32000, "")
	public := portNode("n2", "10.0.0.2", 20000, 32000, "")
	public.NodeResources.NodeNetworks = []*structs.NodeNetworkResource{{Mode: "host", Device: "eth1",
		Addresses: []structs.NodeNetworkAddress{{Alias: "public", Address: "203.0.113.7", ReservedPorts: "443"}}}}
	h.state.upsertNode(plain)
	h.state.upsertNode(public)
	job := portJob("edge", 2, nil)
	job.TaskGroups[0].Networks[0].ReservedPorts = []structs.Port{{Label: "https", Value: 8443, HostNetwork: "public"}}
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	live := h.state.liveAllocs("edge")
	if len(live) != 1 || live[0].NodeID != "n2" {
		t.Fatalf("live = %v", live)
	}
	if p := live[0].AllocatedResources.Shared.Ports; len(p) != 1 || p[0].HostIP != "203.0.113.7" {
		t.Errorf("ports = %+v", p)
	}
	m := eval.FailedTGAllocs["web"]
	if m == nil || m.DimensionExhausted[`network: missing host network "public" for port "https"`] != 1 {
		t.Errorf("failure = %+v", m)
	}

	// A port reserved on the host network is not handed out there.
	job2 := portJob("edge2", 1, nil)
	job2.TaskGroups[0].Networks[0].ReservedPorts = []structs.Port{{Label: "https", Value: 443, HostNetwork: "public"}}
	h.state.upsertJob(job2)
	if eval := h.mustProcess(job2); eval.FailedTGAllocs["web"] == nil {
		t.Error("reserved host network port was given out")
	}
}

func TestTaskNetworkPorts(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(portNode("n1", "10.0.0.1", 20000, 20001, ""))
	job := testJob("legacy", 3, 10, 10)
	job.TaskGroups[0].Tasks[0].Resources.Networks = []*structs.NetworkResource{{DynamicPorts: []structs.Port{{Label: "http"}}}}
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	live := h.state.liveAllocs("legacy")
	if len(live) != 2 || eval.FailedTGAllocs["web"].DimensionExhausted[structs.DimensionDynamicPorts] == 0 {
		t.Fatalf("live %d, failed %+v", len(live), eval.FailedTGAllocs)
	}
	seen := map[int]bool{}
	for _, a := range live {
		ns := a.AllocatedResources.Tasks["server"].Networks
		if len(ns) != 1 || len(ns[0].DynamicPorts) != 1 || ns[0].IP != "10.0.0.1" {
			t.Fatalf("task networks = %+v", ns)
		}
		v := ns[0].DynamicPorts[0].Value
		if v < 20000 || v > 20001 || seen[v] {
			t.Fatalf("port %d reused or out of range", v)
		}
		seen[v] = true
	}
}

func TestSystemJobStaticPortCollision(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(portNode("n1", "10.0.0.1", 20000, 32000, ""))
	h.state.upsertNode(portNode("n2", "10.0.0.2", 20000, 32000, "9100"))
	job := portJob("node-exporter", 1, []int{9100})
	job.Type = structs.JobTypeSystem
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	live := h.state.liveAllocs(job.ID)
	if len(live) != 1 || live[0].NodeID != "n1" {
		t.Fatalf("live = %v", live)
	}
	if m := eval.FailedTGAllocs["web"]; m == nil || m.DimensionExhausted[structs.DimensionPortCollision] != 1 {
		t.Errorf("failure = %+v", m)
	}
	checkPorts(t, h)
}

func TestBadReservedPortsNodeTakesNoPorts(t *testing.T) {
	h := newHarness(t)
	h.state.upsertNode(portNode("n1", "10.0.0.1", 20000, 32000, "22,oops"))
	job := portJob("web", 1, nil, "http")
	h.state.upsertJob(job)
	eval := h.mustProcess(job)
	if m := eval.FailedTGAllocs["web"]; m == nil || m.DimensionExhausted[structs.DimensionReservedConfig] != 1 {
		t.Errorf("failure = %+v", m)
	}
	// A group without ports still runs there.
	plain := testJob("plain", 1, 10, 10)
	h.state.upsertJob(plain)
	if eval := h.mustProcess(plain); eval.FailedTGAllocs["web"] != nil {
		t.Errorf("plain job failed: %+v", eval.FailedTGAllocs)
	}
}
