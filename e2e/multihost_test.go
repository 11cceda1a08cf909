// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package e2e

import (
	"fmt"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
)

const clientConf = `
client {
  enabled = true
  servers = [%q]
}
plugin "raw_exec" {
  config {
    enabled = true
  }
}
`

// TestMultiHostPlacement: one server and three clients on separate hosts;
// a service job with count 6 lands on the clients, spread by anti-affinity.
func TestMultiHostPlacement(t *testing.T) {
	c := newNetCluster(t)
	srv := c.addHost()
	srv.start("server {\n  enabled = true\n  bootstrap_expect = 1\n}\n")
	srv.waitHTTP(30*time.Second, "/v1/status/leader")
	for i := 0; i < 3; i++ {
		c.addHost().start(fmt.Sprintf(clientConf, srv.ip+":4647"))
	}
	api, err := nomad.NewClient(&nomad.Config{Address: srv.addr()})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "3 ready nodes", func() bool {
		nodes, _, err := api.Nodes().List(nil)
		ready := 0
		for _, n := range nodes {
			if n.Status == "ready" {
				ready++
			}
		}
		return err == nil && ready == 3
	})

	job := nomad.NewServiceJob("spread", "spread", "global", 50)
	job.Datacenters = []string{"dc1"}
	tg := nomad.NewTaskGroup("g", 6)
	tg.AddTask(nomad.NewTask("sleep", "raw_exec").SetConfig("command", "/bin/sleep").SetConfig("args", []string{"600"}).
		Require(&nomad.Resources{CPU: ptr(20), MemoryMB: ptr(16)}))
	job.AddTaskGroup(tg)
	if _, _, err := api.Jobs().Register(job, nil); err != nil {
		t.Fatal(err)
	}
	var allocs []*nomad.AllocationListStub
	waitUntil(t, 60*time.Second, "6 running allocations", func() bool {
		allocs, _, err = api.Jobs().Allocations("spread", false, nil)
		running := 0
		for _, a := range allocs {
			if a.ClientStatus == "running" {
				running++
			}
		}
		return err == nil && running == 6
	})
	perNode := map[string]int{}
	for _, a := range allocs {
		perNode[a.NodeID]++
	}
	if len(perNode) != 3 {
		t.Fatalf("6 allocations on %d nodes, want all 3 used: %v", len(perNode), perNode)
	}
	if _, _, err := api.Jobs().Deregister("spread", true, nil); err != nil {
		t.Fatal(err)
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
