// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package fsm

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// Node pools and the scheduler configuration go through raft and survive
// a snapshot round trip.
func TestApplyNodePoolsAndSchedulerConfigRoundTrip(t *testing.T) {
	f, _ := newFSM(t)
	pools := &structs.NodePoolUpsertRequest{NodePools: []*structs.NodePool{
		{Name: "prod", Description: "production", Meta: map[string]string{"tier": "1"}},
		{Name: "scratch"},
	}}
	if resp := apply(t, f, 1, structs.NodePoolUpsertRequestType, pools); resp != nil {
		t.Fatalf("upsert pools: %v", resp)
	}
	if resp := apply(t, f, 2, structs.NodePoolDeleteRequestType, &structs.NodePoolDeleteRequest{Names: []string{"scratch"}}); resp != nil {
		t.Fatalf("delete pool: %v", resp)
	}
	if resp := apply(t, f, 3, structs.NodePoolDeleteRequestType, &structs.NodePoolDeleteRequest{Names: []string{"default"}}); resp == nil ||
		!strings.Contains(resp.(error).Error(), "built in") {
		t.Fatalf("deleting the default pool: %v", resp)
	}
	cfg := &structs.SchedulerSetConfigRequest{Config: structs.SchedulerConfiguration{SchedulerAlgorithm: "spread", MemoryOversubscriptionEnabled: true}}
	if resp := apply(t, f, 4, structs.SchedulerConfigRequestType, cfg); resp != nil {
		t.Fatalf("set scheduler config: %v", resp)
	}
	stale := &structs.SchedulerSetConfigRequest{Config: structs.SchedulerConfiguration{ModifyIndex: 1}, CAS: true}
	if resp := apply(t, f, 5, structs.SchedulerConfigRequestType, stale); resp == nil || !errors.Is(resp.(error), state.ErrSchedulerConfigCAS) {
		t.Fatalf("stale CAS: %v", resp)
	}

	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	if err := snap.Persist(&s); err != nil {
		t.Fatal(err)
	}
	other, _ := newFSM(t)
	if err := other.Restore(io.NopCloser(&s.Buffer)); err != nil {
		t.Fatal(err)
	}
	st := other.State().Snapshot()
	if p, _ := st.NodePoolByName("prod"); p == nil || p.Description != "production" || p.Meta["tier"] != "1" || p.CreateIndex != 1 {
		t.Fatalf("prod after restore: %+v", p)
	}
	if p, _ := st.NodePoolByName("scratch"); p != nil {
		t.Fatalf("deleted pool came back: %+v", p)
	}
	got, _ := st.SchedulerConfig()
	if got.SchedulerAlgorithm != "spread" || !got.MemoryOversubscriptionEnabled || got.ModifyIndex != 4 {
		t.Fatalf("scheduler config after restore: %+v", got)
	}
}
