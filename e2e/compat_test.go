// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package e2e

import (
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
)

// TestNomadAPIClientCompat drives the agent with Nomad's official Go client,
// unchanged: what works here works for every tool built on it.
func TestNomadAPIClientCompat(t *testing.T) {
	a := startDevAgent(t)
	c, err := nomad.NewClient(&nomad.Config{Address: a.addr})
	if err != nil {
		t.Fatal(err)
	}

	leader, err := c.Status().Leader()
	if err != nil || leader == "" {
		t.Fatalf("leader = %q, %v", leader, err)
	}
	self, err := c.Agent().Self()
	if err != nil || self.Config["Region"] != "global" {
		t.Fatalf("agent self: %+v %v", self, err)
	}

	nodes, meta, err := c.Nodes().List(nil)
	if err != nil || len(nodes) != 1 || nodes[0].Status != "ready" {
		t.Fatalf("nodes: %+v %v", nodes, err)
	}
	if meta.LastIndex == 0 || !meta.KnownLeader {
		t.Fatalf("query meta: %+v", meta)
	}
	node, _, err := c.Nodes().Info(nodes[0].ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if node.Drivers["raw_exec"] == nil || !node.Drivers["raw_exec"].Healthy || node.NodeResources.Memory.MemoryMB == 0 {
		t.Fatalf("node info: drivers=%+v resources=%+v", node.Drivers, node.NodeResources)
	}

	_, listMeta, err := c.Jobs().List(nil)
	if err != nil {
		t.Fatal(err)
	}

	// Block on the job list; registering a job must wake it.
	woke := make(chan uint64, 1)
	go func() {
		_, m, err := c.Jobs().List(&nomad.QueryOptions{WaitIndex: listMeta.LastIndex, WaitTime: 20 * time.Second})
		if err != nil {
			t.Error(err)
		}
		woke <- m.LastIndex
	}()
	time.Sleep(100 * time.Millisecond) // let the query block first; correctness does not depend on it

	job := nomad.NewServiceJob("compat", "compat", "global", 50)
	job.Datacenters = []string{"dc1"}
	tg := nomad.NewTaskGroup("g", 2)
	task := nomad.NewTask("sleeper", "raw_exec").
		SetConfig("command", "/bin/sleep").
		SetConfig("args", []string{"300"}).
		Require(&nomad.Resources{CPU: ptr(50), MemoryMB: ptr(32)})
	tg.AddTask(task)
	job.AddTaskGroup(tg)
	resp, _, err := c.Jobs().Register(job, nil)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if resp.EvalID == "" {
		t.Fatal("register returned no evaluation ID")
	}
	select {
	case idx := <-woke:
		if idx <= listMeta.LastIndex {
			t.Fatalf("blocking query returned index %d, not past %d", idx, listMeta.LastIndex)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("blocking job list did not return after a registration")
	}

	eval, _, err := c.Evaluations().Info(resp.EvalID, nil)
	if err != nil || eval.JobID != "compat" {
		t.Fatalf("eval: %+v %v", eval, err)
	}

	var allocs []*nomad.AllocationListStub
	a.waitFor(30*time.Second, "allocations running", func() (bool, error) {
		allocs, _, err = c.Jobs().Allocations("compat", false, nil)
		if err != nil {
			return false, err
		}
		running := 0
		for _, al := range allocs {
			if al.ClientStatus == "running" {
				running++
			}
		}
		return running == 2, nil
	})
	alloc, _, err := c.Allocations().Info(allocs[0].ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if alloc.Job == nil || *alloc.Job.ID != "compat" || alloc.NodeID != node.ID || alloc.TaskStates["sleeper"].State != "running" {
		t.Fatalf("alloc info: %+v", alloc)
	}
	list, _, err := c.Allocations().List(nil)
	if err != nil || len(list) != 2 {
		t.Fatalf("alloc list: %d %v", len(list), err)
	}

	stored, _, err := c.Jobs().Info("compat", nil)
	if err != nil || *stored.Status != "running" || *stored.TaskGroups[0].Count != 2 {
		t.Fatalf("job info: %+v %v", stored, err)
	}
	summary, _, err := c.Jobs().Summary("compat", nil)
	if err != nil || summary.Summary["g"].Running != 2 {
		t.Fatalf("summary: %+v %v", summary, err)
	}

	// Block on one allocation; stopping the job must wake it.
	allocWoke := make(chan string, 1)
	go func() {
		for {
			al, _, err := c.Allocations().Info(alloc.ID, &nomad.QueryOptions{WaitIndex: alloc.ModifyIndex, WaitTime: 20 * time.Second})
			if err != nil {
				t.Error(err)
				allocWoke <- ""
				return
			}
			if al.DesiredStatus == "stop" {
				allocWoke <- al.DesiredStatus
				return
			}
			alloc = al
		}
	}()
	if _, _, err := c.Jobs().Deregister("compat", true, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-allocWoke:
		if st != "stop" {
			t.Fatal("allocation blocking query failed")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("allocation blocking query did not see the stop")
	}
	if _, _, err := c.Jobs().Info("compat", nil); err == nil {
		t.Fatal("purged job still readable")
	}
}

func ptr[T any](v T) *T { return &v }
