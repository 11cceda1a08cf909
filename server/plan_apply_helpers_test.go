// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"testing"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// applierState is a state store holding node, job (canonicalised here)
// and running, the allocations already committed, for plan applier tests.
func applierState(t *testing.T, node *structs.Node, job *structs.Job, running ...*structs.Allocation) *state.StateStore {
	t.Helper()
	s, err := state.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertNode(1, node); err != nil {
		t.Fatal(err)
	}
	job.Canonicalize()
	if err := s.UpsertJob(2, job, nil); err != nil {
		t.Fatal(err)
	}
	if len(running) > 0 {
		if err := s.ApplyPlanResults(3, &structs.ApplyPlanResultsRequest{Job: job, AllocsUpdated: running}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// checkNodeCommitted evaluates plan against s and checks whether node
// n1's placements were committed, and that a refusal asks for a refresh.
func checkNodeCommitted(t *testing.T, s *state.StateStore, plan *structs.Plan, fits bool) *structs.PlanResult {
	t.Helper()
	result, err := evaluatePlan(s.Snapshot(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if _, committed := result.NodeAllocation["n1"]; committed != fits {
		t.Fatalf("committed = %v, want %v", committed, fits)
	}
	if !fits && result.RefreshIndex == 0 {
		t.Error("refused without a refresh index")
	}
	return result
}
