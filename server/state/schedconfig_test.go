// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"errors"
	"reflect"
	"testing"

	"github.com/droverhq/drover/structs"
)

func TestSchedulerConfigDefaultAndCAS(t *testing.T) {
	s := newStore(t)
	got, err := s.Snapshot().SchedulerConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, structs.DefaultSchedulerConfiguration()) || !got.PreemptionConfig.SystemSchedulerEnabled {
		t.Fatalf("unset config = %+v, want the default", got)
	}

	spread := structs.SchedulerConfiguration{SchedulerAlgorithm: "spread", MemoryOversubscriptionEnabled: true}
	steps := []struct {
		name    string
		index   uint64
		req     structs.SchedulerSetConfigRequest
		wantCAS bool // ErrSchedulerConfigCAS expected
		wantErr bool
		algo    string
		modify  uint64
	}{
		{"cas 0 on empty store sets", 5, structs.SchedulerSetConfigRequest{Config: spread, CAS: true}, false, false, "spread", 5},
		{"cas with stale index refused", 6, structs.SchedulerSetConfigRequest{Config: structs.SchedulerConfiguration{ModifyIndex: 1}, CAS: true}, true, false, "spread", 5},
		{"cas 0 once set refused", 7, structs.SchedulerSetConfigRequest{CAS: true}, true, false, "spread", 5},
		{"cas with current index sets", 8, structs.SchedulerSetConfigRequest{Config: structs.SchedulerConfiguration{ModifyIndex: 5, SchedulerAlgorithm: "binpack"}, CAS: true}, false, false, "binpack", 8},
		{"invalid algorithm", 9, structs.SchedulerSetConfigRequest{Config: structs.SchedulerConfiguration{SchedulerAlgorithm: "random"}}, false, true, "binpack", 8},
		{"plain set, empty algorithm means binpack", 10, structs.SchedulerSetConfigRequest{Config: structs.SchedulerConfiguration{RejectJobRegistration: true}}, false, false, "binpack", 10},
	}
	for _, st := range steps {
		err := s.SetSchedulerConfig(st.index, &st.req)
		switch {
		case st.wantCAS && !errors.Is(err, ErrSchedulerConfigCAS):
			t.Fatalf("%s: err = %v, want CAS conflict", st.name, err)
		case st.wantErr && err == nil:
			t.Fatalf("%s: no error", st.name)
		case !st.wantCAS && !st.wantErr && err != nil:
			t.Fatalf("%s: %v", st.name, err)
		}
		cfg, _ := s.Snapshot().SchedulerConfig()
		if cfg.SchedulerAlgorithm != st.algo || cfg.ModifyIndex != st.modify || cfg.CreateIndex != 5 {
			t.Fatalf("%s: config = %+v, want algorithm %s modify %d create 5", st.name, cfg, st.algo, st.modify)
		}
	}
	cfg, _ := s.Snapshot().SchedulerConfig()
	if !cfg.RejectJobRegistration || cfg.MemoryOversubscriptionEnabled {
		t.Fatalf("a set replaces the whole configuration: %+v", cfg)
	}
}

func TestOperatorTablesSurviveDumpRestore(t *testing.T) {
	s := newStore(t)
	yes := true
	pool := &structs.NodePool{Name: "prod", Meta: map[string]string{"a": "b"},
		SchedulerConfiguration: &structs.NodePoolSchedulerConfiguration{SchedulerAlgorithm: "spread", MemoryOversubscriptionEnabled: &yes}}
	if err := s.UpsertNodePools(3, []*structs.NodePool{pool}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSchedulerConfig(4, &structs.SchedulerSetConfigRequest{Config: structs.SchedulerConfiguration{SchedulerAlgorithm: "spread"}}); err != nil {
		t.Fatal(err)
	}
	dump, err := s.Snapshot().Dump()
	if err != nil {
		t.Fatal(err)
	}
	restored := newStore(t)
	if err := restored.Restore(dump); err != nil {
		t.Fatal(err)
	}
	snap := restored.Snapshot()
	got, _ := snap.NodePoolByName("prod")
	if got == nil || got.SchedulerConfiguration.SchedulerAlgorithm != "spread" || got.Meta["a"] != "b" || got.ModifyIndex != 3 {
		t.Fatalf("restored pool = %+v", got)
	}
	cfg, _ := snap.SchedulerConfig()
	if cfg.SchedulerAlgorithm != "spread" || cfg.ModifyIndex != 4 {
		t.Fatalf("restored config = %+v", cfg)
	}
	if idx, _ := snap.Index(TableNodePools, TableSchedulerConfig); idx != 4 {
		t.Fatalf("restored index = %d, want 4", idx)
	}
}
