// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"strings"
	"testing"

	"github.com/droverhq/drover/structs"
)

func TestDefaultSchedulerConfigBlock(t *testing.T) {
	hcl := `server {
  enabled = true
  default_scheduler_config {
    scheduler_algorithm             = "spread"
    memory_oversubscription_enabled = true
    preemption_config {
      service_scheduler_enabled = true
      system_scheduler_enabled  = false
    }
  }
}
`
	json := `{"server": {"default_scheduler_config": {"scheduler_algorithm": "spread", "memory_oversubscription_enabled": true,
  "preemption_config": {"service_scheduler_enabled": true, "system_scheduler_enabled": false}}}}`
	for name, src := range map[string]string{"a.hcl": hcl, "a.json": json} {
		c, err := Parse(name, []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := c.Server.DefaultSchedulerConfig.Structs()
		want := &structs.SchedulerConfiguration{
			SchedulerAlgorithm: "spread", MemoryOversubscriptionEnabled: true,
			PreemptionConfig: structs.PreemptionConfig{ServiceSchedulerEnabled: true},
		}
		if *got != *want {
			t.Fatalf("%s: config = %+v, want %+v", name, got, want)
		}
	}

	// No block: nil (the servers' default); a later file overrides only
	// what it sets, and the first file's block is left as it was.
	if c, _ := Parse("b.hcl", []byte(`server { enabled = true }`)); c.Server.DefaultSchedulerConfig.Structs() != nil {
		t.Fatal("no block should give no configuration")
	}
	first, _ := Parse("1.hcl", []byte(hcl))
	second, _ := Parse("2.hcl", []byte("server {\n  default_scheduler_config {\n    scheduler_algorithm = \"binpack\"\n  }\n}\n"))
	merged := Default().Merge(first).Merge(second).Server.DefaultSchedulerConfig.Structs()
	if merged.SchedulerAlgorithm != "binpack" || !merged.MemoryOversubscriptionEnabled || !merged.PreemptionConfig.ServiceSchedulerEnabled {
		t.Fatalf("merged = %+v", merged)
	}
	if first.Server.DefaultSchedulerConfig.SchedulerAlgorithm != "spread" {
		t.Fatal("merge changed the first file's block")
	}
	// Unset preemption keeps Nomad's default (system on).
	if c := (&SchedulerConfig{}).Structs(); !c.PreemptionConfig.SystemSchedulerEnabled || c.SchedulerAlgorithm != "binpack" {
		t.Fatalf("empty block = %+v", c)
	}

	_, err := Parse("c.hcl", []byte("server {\n  default_scheduler_config {\n    memory_oversubscription_enabled = \"maybe\"\n    colour = 1\n  }\n}\n"))
	if err == nil || !strings.Contains(err.Error(), "c.hcl:3") || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("errors: %v", err)
	}
}
