// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/structs"
)

// jobInPool is a job registration body for job id in pool, with the
// given resources JSON ("" for none).
func jobInPool(id, pool, resources string) string {
	res := ""
	if resources != "" {
		res = `, "Resources": ` + resources
	}
	return fmt.Sprintf(`{"Job": {"ID": %q, "Name": %q, "Type": "service", "Datacenters": ["dc1"], "NodePool": %q,
  "TaskGroups": [{"Name": "g", "Count": 1, "Tasks": [{"Name": "t", "Driver": "raw_exec",
    "Config": {"command": "/bin/sleep", "args": ["60"]}%s}]}]}}`, id, id, pool, res)
}

func poolNames(pools []*nomad.NodePool) string {
	var out []string
	for _, p := range pools {
		out = append(out, p.Name)
	}
	return strings.Join(out, ",")
}

// The official client's NodePools() works unchanged: built-in pools,
// apply, info, the nodes and jobs of a pool, and the delete rules.
func TestNodePoolsWithOfficialClient(t *testing.T) {
	a, base := testServerAgent(t)
	client := officialClient(t, base)
	pools := client.NodePools()

	list, meta, err := pools.List(nil)
	if err != nil || poolNames(list) != "all,default" || meta.LastIndex == 0 {
		t.Fatalf("initial pools: %v %q %+v", err, poolNames(list), meta)
	}

	spread := nomad.SchedulerAlgorithmSpread
	if _, err := pools.Register(&nomad.NodePool{Name: "prod", Description: "production",
		Meta: map[string]string{"owner": "sre"}, SchedulerConfiguration: &nomad.NodePoolSchedulerConfiguration{SchedulerAlgorithm: spread}}, nil); err != nil {
		t.Fatalf("register prod: %v", err)
	}
	prod, _, err := pools.Info("prod", nil)
	if err != nil || prod.Description != "production" || prod.Meta["owner"] != "sre" || prod.CreateIndex == 0 ||
		prod.SchedulerConfiguration == nil || prod.SchedulerConfiguration.SchedulerAlgorithm != spread {
		t.Fatalf("info prod: %v %+v", err, prod)
	}

	// A node with an unknown pool creates it.
	node := &structs.Node{ID: structs.GenerateUUID(), SecretID: structs.GenerateUUID(), Name: "n1", Datacenter: "dc1", NodePool: "gpu",
		NodeResources: &structs.NodeResources{Cpu: structs.NodeCpuResources{CpuShares: 1000}, Memory: structs.NodeMemoryResources{MemoryMB: 1024}}}
	registerNode(t, a, node)
	list, _, _ = pools.PrefixList("", nil)
	if poolNames(list) != "all,default,gpu,prod" {
		t.Fatalf("pools with node: %q", poolNames(list))
	}
	nodes, _, err := pools.ListNodes("gpu", nil)
	if err != nil || len(nodes) != 1 || nodes[0].ID != node.ID || nodes[0].NodePool != "gpu" {
		t.Fatalf("nodes of gpu: %v %+v", err, nodes)
	}
	if all, _, err := pools.ListNodes("all", nil); err != nil || len(all) != 1 {
		t.Fatalf("nodes of all: %v %d", err, len(all))
	}

	// Jobs: only in pools that exist; "all" is allowed, as in Nomad.
	if r := do(t, "PUT", base+"/v1/jobs", jobInPool("web", "prod", "")); r.code != 200 {
		t.Fatalf("register in prod: %d %s", r.code, r.body)
	}
	if r := do(t, "PUT", base+"/v1/jobs", jobInPool("everywhere", "all", "")); r.code != 200 {
		t.Fatalf("register in all: %d %s", r.code, r.body)
	}
	if r := do(t, "PUT", base+"/v1/jobs", jobInPool("lost", "nope", "")); r.code == 200 || !strings.Contains(r.body, `nonexistent node pool "nope"`) {
		t.Fatalf("register in missing pool: %d %s", r.code, r.body)
	}
	jobs, _, err := pools.ListJobs("prod", nil)
	if err != nil || len(jobs) != 1 || jobs[0].ID != "web" {
		t.Fatalf("jobs of prod: %v %+v", err, jobs)
	}

	deletes := []struct {
		pool, want string
		code       int
	}{
		{"default", "built-in", http.StatusBadRequest},
		{"all", "built-in", http.StatusBadRequest},
		{"gpu", "in use by 1 node(s): " + node.ID, http.StatusBadRequest},
		{"prod", "in use by 1 non-terminal job(s): default/web", http.StatusBadRequest},
		{"ghost", "not found", http.StatusNotFound},
	}
	for _, d := range deletes {
		_, err := pools.Delete(d.pool, nil)
		if err == nil || !strings.Contains(err.Error(), d.want) || !strings.Contains(err.Error(), fmt.Sprint(d.code)) {
			t.Errorf("delete %s: %v, want %d with %q", d.pool, err, d.code, d.want)
		}
	}
	if _, err := pools.Register(&nomad.NodePool{Name: "default", Description: "mine"}, nil); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("modify default: %v", err)
	}
	if _, err := pools.Register(&nomad.NodePool{Name: "bad name"}, nil); err == nil || !strings.Contains(err.Error(), "invalid node pool name") {
		t.Errorf("bad name: %v", err)
	}

	// Once its job is gone, prod can go.
	if r := do(t, "DELETE", base+"/v1/job/web?purge=true", ""); r.code != 200 {
		t.Fatalf("purge web: %d %s", r.code, r.body)
	}
	if _, err := pools.Delete("prod", nil); err != nil {
		t.Fatalf("delete prod: %v", err)
	}
	if _, _, err := pools.Info("prod", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("info after delete: %v", err)
	}
}
