// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/structs"
)

func TestHeartbeatInterval(t *testing.T) {
	cases := []struct{ ttl, lo, hi time.Duration }{
		{10 * time.Second, 4 * time.Second, 6 * time.Second},
		{time.Second, 400 * time.Millisecond, 600 * time.Millisecond},
		{0, DefaultHeartbeatTTL * 2 / 5, DefaultHeartbeatTTL * 3 / 5},
	}
	for _, c := range cases {
		for range 100 {
			if got := heartbeatInterval(c.ttl); got < c.lo || got > c.hi {
				t.Fatalf("heartbeatInterval(%v) = %v outside [%v, %v]", c.ttl, got, c.lo, c.hi)
			}
		}
	}
}

func TestBackoff(t *testing.T) {
	cases := []struct {
		attempt int
		lo, hi  time.Duration
	}{
		{1, time.Second, 1250 * time.Millisecond},
		{2, 2 * time.Second, 2500 * time.Millisecond},
		{10, retryMax, retryMax * 5 / 4},
	}
	for _, c := range cases {
		if got := backoff(c.attempt); got < c.lo || got > c.hi {
			t.Errorf("backoff(%d) = %v outside [%v, %v]", c.attempt, got, c.lo, c.hi)
		}
	}
}

func TestIsUnknownNode(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{ErrUnknownNode, true},
		{fmt.Errorf("heartbeat: %w", ErrUnknownNode), true},
		{errors.New("rpc error: Node not found"), true},
		{errors.New("unknown node abc"), true},
		{errors.New("no cluster leader"), false},
	}
	for _, c := range cases {
		if got := isUnknownNode(c.err); got != c.want {
			t.Errorf("isUnknownNode(%v) = %v", c.err, got)
		}
	}
}

type recordingServers struct {
	Servers
	fail  bool
	calls [][]*structs.Allocation
}

func (r *recordingServers) UpdateAllocs(_ context.Context, req *structs.AllocUpdateRequest) (*structs.GenericResponse, error) {
	r.calls = append(r.calls, req.Allocs)
	if r.fail {
		return nil, errors.New("down")
	}
	return &structs.GenericResponse{}, nil
}

func TestAllocSyncerCoalescesAndRetries(t *testing.T) {
	rs := &recordingServers{}
	node := func() *structs.Node { return &structs.Node{ID: "n", SecretID: "s"} }
	s := newAllocSyncer(rs, node, time.Millisecond, hclog.NewNullLogger())
	ctx := context.Background()

	s.Report(&structs.Allocation{ID: "a", ClientStatus: structs.AllocClientStatusPending})
	s.Report(&structs.Allocation{ID: "a", ClientStatus: structs.AllocClientStatusRunning})
	s.Report(&structs.Allocation{ID: "b", ClientStatus: structs.AllocClientStatusRunning})
	rs.fail = true
	if err := s.flush(ctx); err == nil {
		t.Fatal("flush did not report the failure")
	}
	// A newer state arriving during the failed call must win over the
	// batch that goes back.
	s.Report(&structs.Allocation{ID: "b", ClientStatus: structs.AllocClientStatusComplete})
	rs.fail = false
	if err := s.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rs.calls) != 2 {
		t.Fatalf("%d calls", len(rs.calls))
	}
	got := map[string]string{}
	for _, a := range rs.calls[1] {
		got[a.ID] = a.ClientStatus
	}
	want := map[string]string{"a": structs.AllocClientStatusRunning, "b": structs.AllocClientStatusComplete}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("second batch %v, want %v", got, want)
	}
	if err := s.flush(ctx); err != nil || len(rs.calls) != 2 {
		t.Fatalf("empty flush called the servers: %v, %d calls", err, len(rs.calls))
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"ok", Config{DataDir: "/tmp/x"}, true},
		{"no data dir", Config{}, false},
		{"negative reserve", Config{DataDir: "/tmp/x", Reserved: Reserved{CPU: -1}}, false},
		{"own node pool", Config{DataDir: "/tmp/x", NodePool: "gpu"}, true},
		{"node pool all", Config{DataDir: "/tmp/x", NodePool: "all"}, false},
	}
	for _, c := range cases {
		if err := c.cfg.validate(); (err == nil) != c.ok {
			t.Errorf("%s: validate() = %v", c.name, err)
		}
	}
}
