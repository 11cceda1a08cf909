// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"errors"
	"strings"
	"testing"

	"github.com/droverhq/drover/structs"
)

func poolNames(t *testing.T, snap *Snapshot, prefix string) []string {
	t.Helper()
	pools, err := snap.NodePools(prefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pools {
		out = append(out, p.Name)
	}
	return out
}

func TestNodePoolsBuiltinStoredAndImplicit(t *testing.T) {
	s := newStore(t)
	if got := strings.Join(poolNames(t, s.Snapshot(), ""), ","); got != "all,default" {
		t.Fatalf("empty store pools = %s, want all,default", got)
	}
	if err := s.UpsertNodePools(5, []*structs.NodePool{{Name: "prod", Description: "production", Meta: map[string]string{"team": "sre"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertNode(6, &structs.Node{ID: "n1", NodePool: "gpu"}); err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	if got := strings.Join(poolNames(t, snap, ""), ","); got != "all,default,gpu,prod" {
		t.Fatalf("pools = %s", got)
	}
	if got := strings.Join(poolNames(t, snap, "p"), ","); got != "prod" {
		t.Fatalf("prefix p = %s", got)
	}
	gpu, err := snap.NodePoolByName("gpu")
	if err != nil || gpu == nil || gpu.CreateIndex != 6 {
		t.Fatalf("implicit pool gpu = %+v, %v", gpu, err)
	}
	prod, _ := snap.NodePoolByName("prod")
	if prod.Description != "production" || prod.Meta["team"] != "sre" || prod.CreateIndex != 5 {
		t.Fatalf("prod = %+v", prod)
	}
	if p, _ := snap.NodePoolByName("nope"); p != nil {
		t.Fatalf("unknown pool = %+v", p)
	}
	// Update keeps CreateIndex.
	if err := s.UpsertNodePools(9, []*structs.NodePool{{Name: "prod", Description: "v2"}}); err != nil {
		t.Fatal(err)
	}
	prod, _ = s.Snapshot().NodePoolByName("prod")
	if prod.Description != "v2" || prod.CreateIndex != 5 || prod.ModifyIndex != 9 {
		t.Fatalf("updated prod = %+v", prod)
	}
	if idx, _ := s.Snapshot().Index(TableNodePools); idx != 9 {
		t.Fatalf("table index = %d, want 9", idx)
	}
}

func TestNodePoolWritesRefused(t *testing.T) {
	s := newStore(t)
	if err := s.UpsertNodePools(2, []*structs.NodePool{{Name: "busy"}, {Name: "idle"}, {Name: "jobs"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertNode(3, &structs.Node{ID: "node-1", NodePool: "busy"}); err != nil {
		t.Fatal(err)
	}
	job := testJob("web")
	job.NodePool = "jobs"
	if err := s.UpsertJob(4, job, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		write func() error
		want  string
	}{
		{"modify default", func() error { return s.UpsertNodePools(10, []*structs.NodePool{{Name: "default", Description: "x"}}) }, "built in"},
		{"modify all", func() error { return s.UpsertNodePools(10, []*structs.NodePool{{Name: "all"}}) }, "built in"},
		{"invalid name", func() error { return s.UpsertNodePools(10, []*structs.NodePool{{Name: "a b"}}) }, "invalid node pool name"},
		{"delete default", func() error { return s.DeleteNodePools(10, []string{"default"}) }, "built in"},
		{"delete all", func() error { return s.DeleteNodePools(10, []string{"all"}) }, "built in"},
		{"delete with node", func() error { return s.DeleteNodePools(10, []string{"busy"}) }, `in use by 1 node(s): node-1`},
		{"delete with job", func() error { return s.DeleteNodePools(10, []string{"jobs"}) }, `in use by 1 non-terminal job(s): default/web`},
		{"delete unknown", func() error { return s.DeleteNodePools(10, []string{"ghost"}) }, "not found"},
		{"delete is atomic", func() error { return s.DeleteNodePools(10, []string{"idle", "busy"}) }, "in use"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.write()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if p, _ := s.Snapshot().NodePoolByName("idle"); p == nil {
		t.Fatal("a refused multi-pool delete deleted idle")
	}
	if err := s.DeleteNodePools(11, []string{"ghost"}); !errors.Is(err, ErrNodePoolNotFound) {
		t.Fatalf("unknown pool error = %v, want ErrNodePoolNotFound", err)
	}
	// A stopped job no longer holds its pool.
	if err := s.DeregisterJob(12, &structs.JobDeregisterRequest{Namespace: "default", JobID: "web"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteNodePools(13, []string{"jobs", "idle"}); err != nil {
		t.Fatalf("delete pools of a dead job: %v", err)
	}
	if got := strings.Join(poolNames(t, s.Snapshot(), ""), ","); got != "all,busy,default" {
		t.Fatalf("pools after delete = %s", got)
	}
}

func TestNodesAndJobsInPool(t *testing.T) {
	s := newStore(t)
	for i, n := range []*structs.Node{{ID: "a", NodePool: "gpu"}, {ID: "b"}, {ID: "c", NodePool: "gpu"}} {
		if err := s.UpsertNode(uint64(i+1), n); err != nil {
			t.Fatal(err)
		}
	}
	j1, j2 := testJob("one"), testJob("two")
	j1.NodePool = "gpu"
	for i, j := range []*structs.Job{j1, j2} {
		if err := s.UpsertJob(uint64(10+i), j, nil); err != nil {
			t.Fatal(err)
		}
	}
	snap := s.Snapshot()
	cases := []struct {
		pool      string
		nodes     int
		firstJob  string
		jobsCount int
	}{
		{"gpu", 2, "one", 1},
		{"default", 1, "two", 1},
		{"all", 3, "one", 2},
	}
	for _, tc := range cases {
		nodes, err := snap.NodesInPool(tc.pool)
		if err != nil || len(nodes) != tc.nodes {
			t.Fatalf("%s: %d nodes (%v), want %d", tc.pool, len(nodes), err, tc.nodes)
		}
		jobs, err := snap.JobsInPool("*", tc.pool)
		if err != nil || len(jobs) != tc.jobsCount || (tc.jobsCount > 0 && jobs[0].ID != tc.firstJob) {
			t.Fatalf("%s: jobs %v (%v)", tc.pool, jobs, err)
		}
	}
}
