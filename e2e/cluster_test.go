// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
)

// testCluster is 3 servers and some clients, each on its own host.
type testCluster struct {
	t       *testing.T
	net     *netCluster
	servers []*netHost
	clients []*netHost
}

func serverConf(peers []*netHost) string {
	var join []string
	for _, p := range peers {
		join = append(join, fmt.Sprintf("%q", p.ip))
	}
	return fmt.Sprintf(`server {
  enabled          = true
  bootstrap_expect = %d
  server_join {
    retry_join = [%s]
  }
}
`, len(peers), strings.Join(join, ", "))
}

func clientConfMany(servers []*netHost) string {
	var addrs []string
	for _, s := range servers {
		addrs = append(addrs, fmt.Sprintf("%q", s.ip+":4647"))
	}
	return fmt.Sprintf(`client {
  enabled = true
  servers = [%s]
}
plugin "raw_exec" {
  config {
    enabled = true
  }
}
`, strings.Join(addrs, ", "))
}

// startCluster starts 3 servers and n clients and waits for a leader and n
// ready nodes.
func startCluster(t *testing.T, clients int) *testCluster {
	t.Helper()
	c := &testCluster{t: t, net: newNetCluster(t)}
	for i := 0; i < 3; i++ {
		c.servers = append(c.servers, c.net.addHost())
	}
	for _, s := range c.servers {
		s.start(serverConf(c.servers))
	}
	for i := 0; i < clients; i++ {
		h := c.net.addHost()
		h.start(clientConfMany(c.servers))
		c.clients = append(c.clients, h)
	}
	c.waitLeader(60*time.Second, nil)
	waitUntil(t, 60*time.Second, fmt.Sprintf("%d ready nodes", clients), func() bool {
		nodes, _, err := c.api(c.servers[0]).Nodes().List(&nomad.QueryOptions{AllowStale: true})
		ready := 0
		for _, n := range nodes {
			if n.Status == "ready" {
				ready++
			}
		}
		return err == nil && ready == clients
	})
	return c
}

func (c *testCluster) api(h *netHost) *nomad.Client {
	cl, err := nomad.NewClient(&nomad.Config{Address: h.addr(), WaitTime: 5 * time.Second})
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

// leaderOf asks h who leads ("" when it knows no leader or is down).
func leaderOf(h *netHost) string {
	cl := &http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get(h.addr() + "/v1/status/leader")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var addr string
	if json.NewDecoder(resp.Body).Decode(&addr) != nil {
		return ""
	}
	return addr
}

// waitLeader waits until every server in among (all servers when nil)
// names the same leader, and returns the leading host.
func (c *testCluster) waitLeader(d time.Duration, among []*netHost) *netHost {
	c.t.Helper()
	if among == nil {
		among = c.servers
	}
	var leader *netHost
	waitUntil(c.t, d, "one agreed leader", func() bool {
		first := leaderOf(among[0])
		if first == "" {
			return false
		}
		for _, h := range among[1:] {
			if leaderOf(h) != first {
				return false
			}
		}
		for _, s := range c.servers {
			if s.ip+":4647" == first {
				leader = s
			}
		}
		return leader != nil && contains(among, leader)
	})
	return leader
}

func contains(hs []*netHost, h *netHost) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

func without(hs []*netHost, h *netHost) []*netHost {
	var out []*netHost
	for _, x := range hs {
		if x != h {
			out = append(out, x)
		}
	}
	return out
}

func sleeperJob(id string, count int) *nomad.Job {
	job := nomad.NewServiceJob(id, id, "global", 50)
	job.Datacenters = []string{"dc1"}
	tg := nomad.NewTaskGroup("g", count)
	tg.AddTask(nomad.NewTask("sleep", "raw_exec").SetConfig("command", "/bin/sleep").SetConfig("args", []string{"3600"}).
		Require(&nomad.Resources{CPU: ptr(10), MemoryMB: ptr(10)}))
	job.AddTaskGroup(tg)
	return job
}

// register registers job through h, retrying through elections, and
// reports whether it was acknowledged.
func register(c *nomad.Client, job *nomad.Job) bool {
	_, _, err := c.Jobs().Register(job, nil)
	return err == nil
}

func (c *testCluster) jobIDs(h *netHost) (map[string]bool, error) {
	jobs, _, err := c.api(h).Jobs().List(nil)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, j := range jobs {
		out[j.ID] = true
	}
	return out, nil
}

func (c *testCluster) runningAllocs(h *netHost, job string) int {
	allocs, _, err := c.api(h).Jobs().Allocations(job, false, &nomad.QueryOptions{AllowStale: true})
	if err != nil {
		return -1
	}
	n := 0
	for _, a := range allocs {
		if a.ClientStatus == "running" && a.DesiredStatus == "run" {
			n++
		}
	}
	return n
}

// TestClusterPlacementAndLeaderLoss covers the tests 1 and 2: a
// count-6 job lands across 3 clients; killing the leader elects another,
// keeps every acknowledged job, and writes resume.
func TestClusterPlacementAndLeaderLoss(t *testing.T) {
	c := startCluster(t, 3)
	api := c.api(c.servers[1])
	if !register(api, sleeperJob("web", 6)) {
		t.Fatal("register failed")
	}
	waitUntil(t, 60*time.Second, "6 running allocations", func() bool { return c.runningAllocs(c.servers[1], "web") == 6 })
	allocs, _, _ := api.Jobs().Allocations("web", false, nil)
	nodes := map[string]bool{}
	for _, a := range allocs {
		nodes[a.NodeID] = true
	}
	if len(nodes) != 3 {
		t.Fatalf("allocations on %d clients, want 3", len(nodes))
	}

	var acked []string
	for i := 0; i < 5; i++ {
		id := fmt.Sprintf("before-%d", i)
		if register(c.api(c.servers[i%3]), sleeperJob(id, 1)) {
			acked = append(acked, id)
		}
	}
	leader := c.waitLeader(30*time.Second, nil)
	rest := without(c.servers, leader)
	killed := time.Now()
	leader.kill()
	var recovered time.Duration
	waitUntil(t, 60*time.Second, "a write after the leader died", func() bool {
		if register(c.api(rest[0]), sleeperJob("after", 1)) {
			recovered = time.Since(killed)
			return true
		}
		return false
	})
	t.Logf("FIGURE leader_kill_to_write_s=%.2f", recovered.Seconds())
	c.waitLeader(30*time.Second, rest)
	for _, h := range rest {
		ids, err := c.jobIDs(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range append(acked, "web", "after") {
			if !ids[id] {
				t.Fatalf("acknowledged job %s missing on %s after the leader died", id, h.name)
			}
		}
	}
}

// TestClusterPartitionAndFullRestart covers tests 4 and 5: the leader cut
// off from the other servers loses leadership, the majority keeps writing,
// and after healing one history remains; then all servers restart at once
// with their state intact.
func TestClusterPartitionAndFullRestart(t *testing.T) {
	c := startCluster(t, 1)
	if !register(c.api(c.servers[0]), sleeperJob("pre", 1)) {
		t.Fatal("register failed")
	}
	leader := c.waitLeader(30*time.Second, nil)
	rest := without(c.servers, leader)
	leader.partition(rest...)
	newLeader := c.waitLeader(60*time.Second, rest)
	if newLeader == leader {
		t.Fatal("the partitioned leader still leads the majority")
	}
	if !register(c.api(rest[0]), sleeperJob("during", 1)) {
		t.Fatal("the majority side refused a write")
	}
	waitUntil(t, 30*time.Second, "the old leader to step down", func() bool {
		l := leaderOf(leader)
		return l != leader.ip+":4647"
	})
	if register(c.api(leader), sleeperJob("minority", 1)) {
		t.Fatal("the minority side acknowledged a write")
	}
	leader.unpartition(rest...)
	c.waitLeader(60*time.Second, nil)
	waitUntil(t, 30*time.Second, "one history on every server", func() bool {
		for _, h := range c.servers {
			ids, err := c.jobIDs(h)
			if err != nil || !ids["pre"] || !ids["during"] || ids["minority"] {
				return false
			}
		}
		return true
	})

	// Test 5: every server killed at once and started again.
	for _, s := range c.servers {
		s.kill()
	}
	for _, s := range c.servers {
		s.start(serverConf(c.servers))
	}
	c.waitLeader(60*time.Second, nil)
	waitUntil(t, 30*time.Second, "state intact after a full restart", func() bool {
		for _, h := range c.servers {
			ids, err := c.jobIDs(h)
			if err != nil || !ids["pre"] || !ids["during"] {
				return false
			}
		}
		return c.runningAllocs(c.servers[0], "pre") == 1
	})
}

// TestClusterChaos is test 6: a seeded run of server kills, restarts and
// partitions while a writer registers jobs. At the end every acknowledged
// job exists and every job has its allocation running.
func TestClusterChaos(t *testing.T) {
	c := startCluster(t, 2)
	seed := time.Now().UnixNano()
	t.Logf("chaos seed %d", seed)
	rng := newRand(seed)

	var (
		mu      sync.Mutex
		acked   []string
		tried   int
		stop    = make(chan struct{})
		writing sync.WaitGroup
	)
	writing.Add(1)
	go func() {
		defer writing.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("chaos-%d", i)
			h := c.servers[i%3]
			ok := register(c.api(h), sleeperJob(id, 1))
			mu.Lock()
			tried++
			if ok {
				acked = append(acked, id)
			}
			mu.Unlock()
			time.Sleep(100 * time.Millisecond)
		}
	}()

	const rounds = 6
	for r := 0; r < rounds; r++ {
		victim := c.servers[rng.IntN(3)]
		others := without(c.servers, victim)
		switch rng.IntN(3) {
		case 0:
			t.Logf("round %d: kill -9 and restart %s", r, victim.name)
			victim.kill()
			time.Sleep(time.Duration(1+rng.IntN(3)) * time.Second)
			victim.start(serverConf(c.servers))
		case 1:
			t.Logf("round %d: partition %s", r, victim.name)
			victim.partition(others...)
			time.Sleep(time.Duration(2+rng.IntN(3)) * time.Second)
			victim.unpartition(others...)
		case 2:
			t.Logf("round %d: pause %s", r, victim.name)
			victim.pause()
			time.Sleep(time.Duration(1+rng.IntN(3)) * time.Second)
			victim.resume()
		}
		c.waitLeader(60*time.Second, nil)
	}
	close(stop)
	writing.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("FIGURE chaos writes_tried=%d writes_acknowledged=%d", tried, len(acked))
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged during the run")
	}
	// Count what each server holds of the acknowledged writes, waiting for
	// followers to catch up; any acknowledged job missing is lost data.
	found := map[string]int{}
	waitUntil(t, 60*time.Second, "every acknowledged job present everywhere", func() bool {
		all := true
		for _, h := range c.servers {
			ids, err := c.jobIDs(h)
			if err != nil {
				return false
			}
			found[h.name] = 0
			for _, id := range acked {
				if ids[id] {
					found[h.name]++
				}
			}
			all = all && found[h.name] == len(acked)
		}
		return all
	})
	t.Logf("FIGURE chaos acknowledged_found_per_server=%v of %d", found, len(acked))
	deadline := time.Now().Add(120 * time.Second)
	for {
		var notRunning []string
		for _, id := range acked {
			if n := c.runningAllocs(c.servers[0], id); n != 1 {
				notRunning = append(notRunning, fmt.Sprintf("%s(%d)", id, n))
			}
		}
		if len(notRunning) == 0 {
			break
		}
		if time.Now().After(deadline) {
			api := c.api(c.servers[0])
			for _, id := range acked {
				allocs, _, _ := api.Jobs().Allocations(id, true, nil)
				evals, _, _ := api.Jobs().Evaluations(id, nil)
				var as, es []string
				for _, a := range allocs {
					as = append(as, fmt.Sprintf("%s node=%s desired=%s client=%s", a.ID[:8], a.NodeID[:8], a.DesiredStatus, a.ClientStatus))
				}
				for _, e := range evals {
					es = append(es, fmt.Sprintf("%s %s %s %s", e.ID[:8], e.TriggeredBy, e.Status, e.StatusDescription))
				}
				t.Logf("job %s: allocs %v evals %v", id, as, es)
			}
			t.Fatalf("jobs without their allocation running 120s after the chaos: %v", notRunning)
		}
		time.Sleep(time.Second)
	}
}

// TestClusterClientLossAndRemoteLogs covers test 3 and the servers'
// streams to clients: logs of an allocation on a client host are read
// through a server (which has no client of its own), then the client host
// dies and its allocations are replaced on the others.
func TestClusterClientLossAndRemoteLogs(t *testing.T) {
	c := startCluster(t, 3)
	api := c.api(c.servers[0])
	job := nomad.NewServiceJob("loss", "loss", "global", 50)
	job.Datacenters = []string{"dc1"}
	tg := nomad.NewTaskGroup("g", 3)
	tg.AddTask(nomad.NewTask("talk", "raw_exec").SetConfig("command", "/bin/sh").
		SetConfig("args", []string{"-c", "echo started $NOMAD_ALLOC_ID; exec sleep 3600"}).
		Require(&nomad.Resources{CPU: ptr(10), MemoryMB: ptr(10)}))
	job.AddTaskGroup(tg)
	if !register(api, job) {
		t.Fatal("register failed")
	}
	waitUntil(t, 60*time.Second, "3 running allocations", func() bool { return c.runningAllocs(c.servers[0], "loss") == 3 })
	allocs, _, err := api.Jobs().Allocations("loss", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	victim := allocs[0]

	// Through a server: it streams from the client over the client's own
	// connection.
	waitUntil(t, 20*time.Second, "logs through a server", func() bool {
		resp, err := http.Get(c.servers[1].addr() + "/v1/client/fs/logs/" + victim.ID + "?task=talk&type=stdout&plain=true")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body := make([]byte, 4096)
		n, _ := resp.Body.Read(body)
		return resp.StatusCode == 200 && strings.Contains(string(body[:n]), "started "+victim.ID)
	})

	var dead *netHost
	for _, h := range c.clients {
		node, _, err := api.Nodes().Info(victim.NodeID, nil)
		if err == nil && node.Name == h.name {
			dead = h
		}
	}
	if dead == nil {
		t.Fatal("cannot find the victim's host")
	}
	killed := time.Now()
	dead.kill()
	killNamespace(dead.name)
	var replaced time.Duration
	waitUntil(t, 120*time.Second, "replacements running on the other clients", func() bool {
		allocs, _, err := api.Jobs().Allocations("loss", false, &nomad.QueryOptions{AllowStale: true})
		if err != nil {
			return false
		}
		running := 0
		for _, a := range allocs {
			if a.ClientStatus == "running" && a.DesiredStatus == "run" && a.NodeID != victim.NodeID {
				running++
			}
		}
		if running == 3 {
			replaced = time.Since(killed)
			return true
		}
		return false
	})
	t.Logf("FIGURE client_kill_to_replacements_running_s=%.1f", replaced.Seconds())
	a, _, err := api.Allocations().Info(victim.ID, nil)
	if err != nil || a.ClientStatus != "lost" || a.NextAllocation == "" {
		t.Fatalf("the dead client's allocation: status %q, next %q, err %v", a.ClientStatus, a.NextAllocation, err)
	}
}
