// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	nomad "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/structs"
)

// The official client reads and writes the scheduler configuration, and
// job registration obeys it.
func TestSchedulerConfigurationWithOfficialClient(t *testing.T) {
	_, base := testServerAgent(t)
	client := officialClient(t, base)
	op := client.Operator()

	got, meta, err := op.SchedulerGetConfiguration(nil)
	if err != nil || meta.LastIndex == 0 {
		t.Fatalf("get: %v %+v", err, meta)
	}
	if c := got.SchedulerConfig; c.SchedulerAlgorithm != nomad.SchedulerAlgorithmBinpack || !c.PreemptionConfig.SystemSchedulerEnabled ||
		c.PreemptionConfig.ServiceSchedulerEnabled || c.MemoryOversubscriptionEnabled {
		t.Fatalf("default config: %+v", c)
	}

	// memory_max is accepted with a warning, as in Nomad, until
	// oversubscription is enabled.
	withMax := `{"CPU": 100, "MemoryMB": 128, "MemoryMaxMB": 512}`
	if r := do(t, "PUT", base+"/v1/jobs", jobInPool("burst", "default", withMax)); r.code != 200 || !strings.Contains(r.body, "Memory oversubscription is not enabled") {
		t.Fatalf("memory_max without oversubscription: %d %s", r.code, r.body)
	}

	set, wm, err := op.SchedulerSetConfiguration(&nomad.SchedulerConfiguration{
		SchedulerAlgorithm:            nomad.SchedulerAlgorithmSpread,
		MemoryOversubscriptionEnabled: true,
		PreemptionConfig:              nomad.PreemptionConfig{SystemSchedulerEnabled: true, ServiceSchedulerEnabled: true},
	}, nil)
	if err != nil || !set.Updated || wm.LastIndex == 0 {
		t.Fatalf("set: %v %+v %+v", err, set, wm)
	}
	got, _, _ = op.SchedulerGetConfiguration(nil)
	c := got.SchedulerConfig
	if c.SchedulerAlgorithm != nomad.SchedulerAlgorithmSpread || !c.MemoryOversubscriptionEnabled || !c.PreemptionConfig.ServiceSchedulerEnabled || c.ModifyIndex != wm.LastIndex {
		t.Fatalf("after set: %+v (write index %d)", c, wm.LastIndex)
	}
	if r := do(t, "PUT", base+"/v1/jobs", jobInPool("burst", "default", withMax)); r.code != 200 || strings.Contains(r.body, "oversubscription") {
		t.Fatalf("memory_max with oversubscription: %d %s", r.code, r.body)
	}

	// Compare-and-set: a stale index changes nothing, the current one wins.
	stale := *c
	stale.ModifyIndex = c.ModifyIndex - 1
	stale.SchedulerAlgorithm = nomad.SchedulerAlgorithmBinpack
	if res, _, err := op.SchedulerCASConfiguration(&stale, nil); err != nil || res.Updated {
		t.Fatalf("stale CAS: %v %+v", err, res)
	}
	fresh := *c
	fresh.RejectJobRegistration = true
	if res, _, err := op.SchedulerCASConfiguration(&fresh, nil); err != nil || !res.Updated {
		t.Fatalf("current CAS: %v %+v", err, res)
	}
	got, _, _ = op.SchedulerGetConfiguration(nil)
	if got.SchedulerConfig.SchedulerAlgorithm != nomad.SchedulerAlgorithmSpread || !got.SchedulerConfig.RejectJobRegistration {
		t.Fatalf("after CAS: %+v", got.SchedulerConfig)
	}
	if r := do(t, "PUT", base+"/v1/jobs", jobInPool("refused", "default", "")); r.code == 200 || !strings.Contains(r.body, "job registration, dispatch, and scale are disabled") {
		t.Fatalf("register while rejecting: %d %s", r.code, r.body)
	}

	if _, _, err := op.SchedulerSetConfiguration(&nomad.SchedulerConfiguration{SchedulerAlgorithm: "random"}, nil); err == nil ||
		!strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), `invalid scheduler algorithm "random"`) {
		t.Fatalf("invalid algorithm: %v", err)
	}
}

// default_scheduler_config is what a new cluster starts with.
func TestDefaultSchedulerConfigIsStoredByTheLeader(t *testing.T) {
	def := structs.DefaultSchedulerConfiguration()
	def.SchedulerAlgorithm = structs.SchedulerAlgorithmSpread
	def.PreemptionConfig.ServiceSchedulerEnabled = true
	a, err := Start(&Config{
		NodeName: "test", Region: "global", Datacenter: "dc1", DevMode: true,
		BindAddr: "127.0.0.1", Server: true, BootstrapExpect: 1,
		DefaultSchedulerConfig: def,
	}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown() })
	client := officialClient(t, "http://"+a.HTTPAddr())
	waitFor(t, 10*time.Second, func() bool {
		got, _, err := client.Operator().SchedulerGetConfiguration(nil)
		return err == nil && got.SchedulerConfig.SchedulerAlgorithm == nomad.SchedulerAlgorithmSpread &&
			got.SchedulerConfig.PreemptionConfig.ServiceSchedulerEnabled && got.SchedulerConfig.ModifyIndex > 0
	})
}
