// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
)

// PauseEvalBroker holds evaluations pending; clearing it lets them run.
func TestPauseEvalBrokerHoldsEvaluations(t *testing.T) {
	s := testServer(t)
	var resp structs.NodeUpdateResponse
	if err := s.Node().Register(&structs.NodeRegisterRequest{Node: testNode(4000, 8192)}, &resp); err != nil {
		t.Fatal(err)
	}
	cfg := structs.DefaultSchedulerConfiguration()
	cfg.PauseEvalBroker = true
	if _, err := s.SetSchedulerConfig(cfg, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "broker paused", s.broker.Paused)
	evalID, _, err := s.RegisterJob(testJob("web", 1))
	if err != nil {
		t.Fatal(err)
	}
	// Give a worker every chance to pick it up: it must not.
	time.Sleep(300 * time.Millisecond)
	if e, _ := s.State().Snapshot().EvalByID(evalID); e == nil || e.Status != structs.EvalStatusPending {
		t.Fatalf("evaluation while paused: %+v", e)
	}
	cfg.PauseEvalBroker = false
	if _, err := s.SetSchedulerConfig(cfg, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "placement after resume", func() bool { return len(liveAllocs(t, s, "web")) == 1 })
}
