// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
)

func TestJoinAddr(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{in: "10.0.0.1", want: "10.0.0.1:4648"},
		{in: "10.0.0.1:5000", want: "10.0.0.1:5000"},
		{in: "server.example", want: "server.example:4648"},
		{in: "[::1]", want: "[::1]:4648"},
		{in: "[::1]:7", want: "[::1]:7"},
		{in: "provider=aws tag_key=x", err: "cloud auto-join"},
		{in: " ", err: "empty"},
	} {
		got, err := JoinAddr(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("JoinAddr(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("JoinAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestAdvertiseAddr(t *testing.T) {
	loop := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4647}
	any4 := &net.TCPAddr{IP: net.IPv4zero, Port: 4647}
	for _, tt := range []struct {
		name, configured string
		bound            net.Addr
		want, err        string
	}{
		{name: "bound address", bound: loop, want: "127.0.0.1:4647"},
		{name: "configured with port", configured: "10.1.2.3:5647", bound: loop, want: "10.1.2.3:5647"},
		{name: "configured without port", configured: "10.1.2.3", bound: any4, want: "10.1.2.3:4647"},
		{name: "configured unspecified", configured: "0.0.0.0", bound: loop, err: "unspecified"},
		{name: "configured unspecified v6", configured: "[::]:4647", bound: loop, err: "unspecified"},
	} {
		got, err := advertiseAddr("rpc", tt.configured, tt.bound)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	// Bound to 0.0.0.0 without advertise: a routable address of the host,
	// or an error that says what to set.
	got, err := advertiseAddr("rpc", "", any4)
	if err != nil {
		if !strings.Contains(err.Error(), "advertise") {
			t.Fatalf("unhelpful error: %v", err)
		}
	} else if host, _, _ := net.SplitHostPort(got); net.ParseIP(host).IsUnspecified() {
		t.Fatalf("advertised %s", got)
	}
}

// An evaluation whose worker dies (never acks) is delivered again after
// the nack timeout; after the delivery limit it is failed and a delayed
// follow-up evaluation is created.
func TestEvalRedeliveryAndFailedFollowUp(t *testing.T) {
	s, err := New(Config{
		DevMode: true, RPCAddr: "127.0.0.1:0", NodeName: t.Name(),
		NumSchedulers:     -1,
		EvalNackTimeout:   200 * time.Millisecond,
		EvalDeliveryLimit: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	waitFor(t, 5*time.Second, "leadership", func() bool { return s.IsLeader() && s.broker.Enabled() })
	evalID, _, err := s.RegisterJob(testJob("dies", 1))
	if err != nil {
		t.Fatal(err)
	}
	ep := &EvalEndpoint{srv: s}
	for attempt := 1; attempt <= 2; attempt++ {
		var d EvalDequeueReply
		if err := ep.Dequeue(&EvalDequeueArgs{Timeout: 5 * time.Second}, &d); err != nil {
			t.Fatal(err)
		}
		if d.Eval == nil || d.Eval.ID != evalID {
			t.Fatalf("delivery %d: got %+v, want eval %s", attempt, d.Eval, evalID)
		}
		// The "worker" dies here: no ack, no nack.
	}
	var followup *structs.Evaluation
	waitFor(t, 5*time.Second, "eval failed with a follow-up", func() bool {
		e, _ := s.State().Snapshot().EvalByID(evalID)
		if e == nil || e.Status != structs.EvalStatusFailed || e.NextEval == "" {
			return false
		}
		followup, _ = s.State().Snapshot().EvalByID(e.NextEval)
		return followup != nil
	})
	if followup.TriggeredBy != EvalTriggerFailedFollowUp || followup.Status != structs.EvalStatusPending ||
		followup.PreviousEval != evalID || followup.Wait < time.Minute || !followup.WaitUntil.After(time.Now()) {
		t.Fatalf("follow-up %+v", followup)
	}
	// The follow-up waits in the broker rather than being handed out now.
	var d EvalDequeueReply
	if err := ep.Dequeue(&EvalDequeueArgs{Timeout: 300 * time.Millisecond}, &d); err != nil || d.Eval != nil {
		t.Fatalf("dequeue during the follow-up's wait: %+v, %v", d.Eval, err)
	}
	if st := s.broker.Stats(); st.Delayed != 1 {
		t.Fatalf("broker stats %+v, want the follow-up delayed", st)
	}
}
