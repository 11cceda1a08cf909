// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"strings"
	"testing"
	"time"
)

func TestAutopilotBlock(t *testing.T) {
	c, err := Parse("a.hcl", []byte(`autopilot {
  cleanup_dead_servers      = false
  last_contact_threshold    = "200ms"
  server_stabilization_time = "10s"
  min_quorum                = 3
}
`))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Autopilot
	if a.CleanupDeadServers == nil || *a.CleanupDeadServers || a.LastContactThreshold != 200*time.Millisecond ||
		a.ServerStabilizationTime != 10*time.Second || a.MinQuorum != 3 {
		t.Fatalf("autopilot = %+v", a)
	}
	// Unset stays unset through a merge; a later file wins.
	merged := Default().Merge(c).Merge(&Config{})
	if merged.Autopilot.CleanupDeadServers == nil || *merged.Autopilot.CleanupDeadServers {
		t.Fatalf("merge lost cleanup_dead_servers: %+v", merged.Autopilot)
	}
	if d := Default(); d.Autopilot.CleanupDeadServers != nil {
		t.Fatal("default should leave cleanup_dead_servers unset (true)")
	}

	_, err = Parse("b.hcl", []byte("autopilot {\n  cleanup_dead_servers = \"yes\"\n  max_trailing_logs = 250\n}\n"))
	if err == nil || !strings.Contains(err.Error(), "b.hcl:2") || !strings.Contains(err.Error(), "max_trailing_logs") {
		t.Fatalf("errors: %v", err)
	}
}
