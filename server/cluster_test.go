// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/droverhq/drover/structs"
)

func init() {
	// Tests watch autopilot act within seconds.
	autopilotInterval = 200 * time.Millisecond
}

// testCluster is n servers on loopback, each with its own temp data dir
// (raft-boltdb and file snapshots), joining each other by retry_join.
type testCluster struct {
	t       *testing.T
	mu      sync.Mutex
	cfgs    []Config
	servers []*Server
}

// freePorts returns n distinct free loopback ports, holding each until all
// are picked so none is handed out twice.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out
}

func testLogger(t *testing.T, name string) hclog.Logger {
	if os.Getenv("DROVER_TEST_LOG") == "" {
		return hclog.NewNullLogger()
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Debug, Output: os.Stderr})
}

// newTestCluster starts n servers with bootstrap_expect n. tweak, when not
// nil, adjusts each server's configuration.
func newTestCluster(t *testing.T, n int, tweak func(i int, c *Config)) *testCluster {
	t.Helper()
	tc := &testCluster{t: t}
	var serfAddrs []string
	ports := freePorts(t, 2*n)
	for i := 0; i < n; i++ {
		cfg := Config{
			NodeName:        fmt.Sprintf("s%d", i),
			DataDir:         t.TempDir(),
			RPCAddr:         "127.0.0.1:" + strconv.Itoa(ports[2*i]),
			SerfAddr:        "127.0.0.1:" + strconv.Itoa(ports[2*i+1]),
			BootstrapExpect: n,
			NumSchedulers:   1,
			Autopilot: AutopilotConfig{
				ServerStabilizationTime:        200 * time.Millisecond,
				DeadServerLastContactThreshold: time.Hour,
			},
			raftTimeout:   time.Second, // generous: -race and a loaded machine must not cost the leader its lease
			probeInterval: 100 * time.Millisecond,
			failTimeout:   time.Second,
		}
		cfg.Logger = testLogger(t, cfg.NodeName)
		serfAddrs = append(serfAddrs, cfg.SerfAddr)
		tc.cfgs = append(tc.cfgs, cfg)
	}
	for i := range tc.cfgs {
		tc.cfgs[i].RetryJoin = serfAddrs
		if tweak != nil {
			tweak(i, &tc.cfgs[i])
		}
	}
	tc.servers = make([]*Server, n)
	for i := range tc.cfgs {
		tc.start(i)
	}
	t.Cleanup(func() {
		for i := range tc.servers {
			tc.stop(i)
		}
	})
	return tc
}

func (tc *testCluster) start(i int) *Server {
	tc.t.Helper()
	s, err := New(tc.cfgs[i])
	if err != nil {
		tc.t.Fatalf("start %s: %v", tc.cfgs[i].NodeName, err)
	}
	tc.mu.Lock()
	tc.servers[i] = s
	tc.mu.Unlock()
	return s
}

func (tc *testCluster) stop(i int) {
	tc.mu.Lock()
	s := tc.servers[i]
	tc.servers[i] = nil
	tc.mu.Unlock()
	if s != nil {
		_ = s.Shutdown()
	}
}

// live returns the running servers.
func (tc *testCluster) live() []*Server {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	var out []*Server
	for _, s := range tc.servers {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// leader waits until exactly one running server leads, with its broker on,
// and every running server knows it.
func (tc *testCluster) leader() *Server {
	tc.t.Helper()
	var leader *Server
	waitFor(tc.t, 20*time.Second, "a leader known to every server", func() bool {
		leader = nil
		for _, s := range tc.live() {
			if s.IsLeader() {
				if leader != nil {
					return false
				}
				leader = s
			}
		}
		if leader == nil || !leader.broker.Enabled() {
			return false
		}
		for _, s := range tc.live() {
			if s.Leader() != leader.RPCAddr() {
				return false
			}
		}
		return true
	})
	return leader
}

func (tc *testCluster) follower() *Server {
	tc.t.Helper()
	leader := tc.leader()
	for _, s := range tc.live() {
		if s != leader {
			return s
		}
	}
	tc.t.Fatal("no follower")
	return nil
}

func raftIDs(t *testing.T, s *Server) map[string]bool {
	t.Helper()
	cfg, err := s.RaftConfiguration()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, srv := range cfg.Servers {
		out[srv.ID] = true
	}
	return out
}

func TestClusterElectsForwardsAndSchedules(t *testing.T) {
	tc := newTestCluster(t, 3, nil)
	leader := tc.leader()
	waitFor(t, 10*time.Second, "3 voters", func() bool { return len(raftIDs(t, leader)) == 3 })

	f := tc.follower()
	// Writes on a follower are forwarded; the follower reads its own write.
	node := testNode(4000, 4096)
	var resp structs.NodeUpdateResponse
	if err := f.Node().Register(&structs.NodeRegisterRequest{Node: node}, &resp); err != nil {
		t.Fatalf("register node on follower: %v", err)
	}
	if resp.LeaderRPCAddr != leader.RPCAddr() || len(resp.Servers) != 3 {
		t.Fatalf("heartbeat reply: leader %q servers %v", resp.LeaderRPCAddr, resp.Servers)
	}
	evalID, index, err := f.RegisterJob(testJob("web", 3))
	if err != nil {
		t.Fatalf("register job on follower: %v", err)
	}
	if j, _ := f.State().Snapshot().JobByID("default", "web"); j == nil || index == 0 {
		t.Fatalf("follower does not see its own write (index %d)", index)
	}
	waitFor(t, 15*time.Second, "3 placements seen on every server", func() bool {
		for _, s := range tc.live() {
			if len(liveAllocs(t, s, "web")) != 3 {
				return false
			}
		}
		return true
	})
	waitFor(t, 5*time.Second, "eval complete", func() bool {
		e, _ := f.State().Snapshot().EvalByID(evalID)
		return e != nil && e.Status == structs.EvalStatusComplete
	})
	// A heartbeat on a follower reaches the leader's timers.
	if err := f.Node().UpdateStatus(&structs.NodeUpdateStatusRequest{NodeID: node.ID, SecretID: node.SecretID}, &resp); err != nil {
		t.Fatalf("heartbeat on follower: %v", err)
	}
	if resp.HeartbeatTTL < 10*time.Second {
		t.Fatalf("TTL %v", resp.HeartbeatTTL)
	}
	// A consistent read on a follower returns once it has applied the
	// leader's commit index.
	if err := f.ConsistentRead(t.Context()); err != nil {
		t.Fatal(err)
	}
	if f.raft.AppliedIndex() < leader.raft.CommitIndex()-1 {
		t.Fatalf("follower applied %d, leader committed %d", f.raft.AppliedIndex(), leader.raft.CommitIndex())
	}
	if f.LastContact() > 5*time.Second {
		t.Fatalf("follower last contact %v", f.LastContact())
	}
	members := f.Members()
	if len(members) != 3 {
		t.Fatalf("members %+v", members)
	}
	for _, m := range members {
		if m.Status != MemberAlive || m.RPCAddr == "" {
			t.Fatalf("member %+v", m)
		}
	}
}

// Only a follower runs a scheduler worker: it dequeues from the leader's
// broker and submits its plans to the leader.
func TestFollowerWorkerSchedules(t *testing.T) {
	tc := newTestCluster(t, 3, func(i int, c *Config) {
		if i != 0 {
			c.NumSchedulers = -1
		}
	})
	leader := tc.leader()
	worker := tc.servers[0]
	if leader == worker {
		var target *Server
		for _, s := range tc.live() {
			if s != worker {
				target = s
				break
			}
		}
		if err := leader.raft.LeadershipTransferToServer(raft.ServerID(target.cfg.NodeName), raft.ServerAddress(target.RPCAddr())).Error(); err != nil {
			t.Fatalf("transfer leadership: %v", err)
		}
		waitFor(t, 10*time.Second, "leadership moved off the worker server", func() bool { return !worker.IsLeader() })
		leader = tc.leader()
	}
	var resp structs.NodeUpdateResponse
	if err := leader.Node().Register(&structs.NodeRegisterRequest{Node: testNode(4000, 4096)}, &resp); err != nil {
		t.Fatal(err)
	}
	if _, _, err := leader.RegisterJob(testJob("remote", 2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "placements by the follower's worker", func() bool { return len(liveAllocs(t, leader, "remote")) == 2 })
}

// Killing the leader elects another; acknowledged writes survive and new
// writes succeed.
func TestLeaderFailover(t *testing.T) {
	tc := newTestCluster(t, 3, nil)
	old := tc.leader()
	waitFor(t, 10*time.Second, "3 voters", func() bool { return len(raftIDs(t, old)) == 3 })
	if _, _, err := tc.follower().RegisterJob(testJob("kept", 1)); err != nil {
		t.Fatal(err)
	}
	for i, s := range tc.servers {
		if s == old {
			tc.stop(i)
		}
	}
	leader := tc.leader()
	if leader == old {
		t.Fatal("old leader still leads")
	}
	for _, s := range tc.live() {
		if j, _ := s.State().Snapshot().JobByID("default", "kept"); j == nil {
			t.Fatalf("%s lost an acknowledged job", s.cfg.NodeName)
		}
	}
	if _, _, err := tc.follower().RegisterJob(testJob("after", 1)); err != nil {
		t.Fatalf("write after failover: %v", err)
	}
}

// A server restarted from its data dir rejoins and catches up on what it
// missed; it does not bootstrap again.
func TestRestartFromDataDirRejoins(t *testing.T) {
	tc := newTestCluster(t, 3, nil)
	leader := tc.leader()
	waitFor(t, 10*time.Second, "3 voters", func() bool { return len(raftIDs(t, leader)) == 3 })
	idx := 0
	for i, s := range tc.servers {
		if s != leader {
			idx = i
			break
		}
	}
	tc.stop(idx)
	if _, _, err := leader.RegisterJob(testJob("missed", 1)); err != nil {
		t.Fatal(err)
	}
	s := tc.start(idx)
	waitFor(t, 15*time.Second, "restarted server catches up", func() bool {
		j, _ := s.State().Snapshot().JobByID("default", "missed")
		return j != nil && s.Leader() != ""
	})
	if got := raftIDs(t, tc.leader()); len(got) != 3 {
		t.Fatalf("raft configuration after restart: %v", got)
	}
}

// remove-peer, sent to a follower, drops a dead server from raft.
func TestRemovePeer(t *testing.T) {
	tc := newTestCluster(t, 3, nil)
	leader := tc.leader()
	waitFor(t, 10*time.Second, "3 voters", func() bool { return len(raftIDs(t, leader)) == 3 })
	var victim, other int = -1, -1
	for i, s := range tc.servers {
		if s == leader {
			continue
		}
		if victim < 0 {
			victim = i
		} else {
			other = i
		}
	}
	victimID := tc.cfgs[victim].NodeName
	tc.stop(victim)
	if err := tc.servers[other].RemoveRaftPeer("", "127.0.0.1:1"); err == nil {
		t.Fatal("removing an unknown address succeeded")
	}
	if err := tc.servers[other].RemoveRaftPeer(victimID, ""); err != nil {
		t.Fatalf("remove peer: %v", err)
	}
	waitFor(t, 5*time.Second, "peer gone from every configuration", func() bool {
		for _, s := range tc.live() {
			if raftIDs(t, s)[victimID] {
				return false
			}
		}
		return true
	})
	if _, _, err := tc.servers[other].RegisterJob(testJob("two", 1)); err != nil {
		t.Fatalf("write with two voters: %v", err)
	}
}

// Autopilot removes a server the leader has not heard from for the
// threshold, and a removed server that comes back is added again.
func TestAutopilotRemovesDeadServer(t *testing.T) {
	tc := newTestCluster(t, 3, func(i int, c *Config) {
		c.Autopilot.DeadServerLastContactThreshold = 1500 * time.Millisecond
	})
	leader := tc.leader()
	waitFor(t, 10*time.Second, "3 voters", func() bool { return len(raftIDs(t, leader)) == 3 })
	victim := -1
	for i, s := range tc.servers {
		if s != leader {
			victim = i
			break
		}
	}
	id := tc.cfgs[victim].NodeName
	tc.stop(victim)
	waitFor(t, 15*time.Second, "autopilot removes the dead server", func() bool { return !raftIDs(t, tc.leader())[id] })
	for _, m := range tc.leader().Members() {
		if m.Name == id && m.Status != MemberLeft {
			t.Fatalf("removed server's member status %q, want left", m.Status)
		}
	}
	tc.start(victim)
	waitFor(t, 15*time.Second, "the returning server is a voter again", func() bool { return raftIDs(t, tc.leader())[id] })
}

func TestSafeToRemove(t *testing.T) {
	for _, tt := range []struct {
		voters, alive, minQuorum int
		want                     bool
	}{
		{3, 2, 0, true},  // 2 voters left, both reachable
		{2, 1, 0, true},  // 1 voter left: the leader itself
		{4, 2, 0, true},  // 3 left, 2 reachable: a majority
		{5, 3, 0, true},  // 4 left, 3 reachable
		{5, 2, 0, false}, // 4 left, 2 reachable: no majority
		{3, 1, 0, false}, // 2 left, 1 reachable
		{3, 2, 3, false}, // min_quorum 3
		{1, 1, 0, false}, // never remove the last voter
	} {
		if got := safeToRemove(tt.voters, tt.alive, tt.minQuorum); got != tt.want {
			t.Errorf("safeToRemove(%d, %d, %d) = %v, want %v", tt.voters, tt.alive, tt.minQuorum, got, tt.want)
		}
	}
}

// Snapshot save → inspect → restore into a fresh cluster, through a
// follower (restore forwards to the leader).
func TestSnapshotSaveRestore(t *testing.T) {
	src := testServer(t)
	if _, _, err := src.RegisterJob(testJob("saved", 2)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	info, err := src.SaveSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	inspected, err := InspectSnapshot(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if *inspected != *info || info.Index == 0 || info.Term == 0 || info.ID == "" || info.Size == 0 {
		t.Fatalf("inspect %+v, save %+v", inspected, info)
	}
	corrupt := append([]byte(nil), buf.Bytes()...)
	corrupt[len(corrupt)/2] ^= 0xff
	if _, err := InspectSnapshot(bytes.NewReader(corrupt)); err == nil {
		t.Fatal("corrupt archive inspected without error")
	}

	tc := newTestCluster(t, 3, nil)
	tc.leader()
	f := tc.follower()
	if err := f.RestoreSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("restore: %v", err)
	}
	waitFor(t, 10*time.Second, "restored job on every server", func() bool {
		for _, s := range tc.live() {
			if j, _ := s.State().Snapshot().JobByID("default", "saved"); j == nil {
				return false
			}
		}
		return true
	})
	if _, _, err := f.RegisterJob(testJob("after-restore", 1)); err != nil {
		t.Fatalf("write after restore: %v", err)
	}
}
