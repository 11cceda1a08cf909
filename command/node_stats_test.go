// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"strings"
	"testing"

	"github.com/droverhq/drover/api"
)

// Every section of `node status -stats` is laid out, the uptime too.
func TestFormatHostStats(t *testing.T) {
	out := formatHostStats(&api.HostStats{
		Memory: &api.HostMemoryStats{Total: 4 << 30, Available: 3 << 30, Used: 1 << 30, Free: 2 << 30},
		CPU:    []*api.HostCPUStats{{CPU: "cpu0", User: 12.5, System: 2.5, Idle: 85}},
		DiskStats: []*api.HostDiskStats{{Device: "/dev/vda", Mountpoint: "/", Size: 100 << 30, Used: 40 << 30,
			Available: 60 << 30, UsedPercent: 40, InodesUsedPercent: 3}},
		Uptime: 3723,
	})
	for _, want := range []string{
		"Total     = 4.0 GiB", "cpu0  12.50%  2.50%   85.00%", "/dev/vda  /", "Uptime = 1h2m3s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "|") {
		t.Errorf("unformatted separator in output:\n%s", out)
	}
}
