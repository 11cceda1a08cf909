// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"strings"
	"testing"
)

// TestCoresPinning: a container given exclusive cores runs on exactly
// those, one core and then the other.
func TestCoresPinning(t *testing.T) {
	d := newDriver(t)
	for _, tc := range []struct {
		id    string
		cores []uint16
		want  string
	}{
		{"c0", []uint16{0}, "0"},
		{"c1", []uint16{1}, "1"},
	} {
		cfg := taskConfig(t, tc.id, "grep", "Cpus_allowed_list", "/proc/self/status")
		cfg.Cores = tc.cores
		start(t, d, cfg)
		if res := waitTask(t, d, tc.id); !res.Successful() {
			t.Fatalf("%s: exit %+v, stderr %q", tc.id, res, readFile(cfg.StderrPath+".0"))
		}
		eventually(t, "stdout", func() bool { return strings.Contains(readFile(cfg.StdoutPath+".0"), "\n") })
		_, got, _ := strings.Cut(readFile(cfg.StdoutPath+".0"), ":")
		if strings.TrimSpace(got) != tc.want {
			t.Errorf("%s: container with cores %v sees %q", tc.id, tc.cores, readFile(cfg.StdoutPath+".0"))
		}
	}
}
