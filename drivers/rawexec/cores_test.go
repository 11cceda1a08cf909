// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package rawexec

import (
	"strings"
	"testing"
)

// TestCoresPinning: a raw_exec task given exclusive cores runs on exactly
// those; one that cannot be pinned (plugin not root) does not start.
func TestCoresPinning(t *testing.T) {
	requireRoot(t)
	d := newDriver(t, true)
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
			t.Fatalf("%s: exit %+v", tc.id, res)
		}
		out := readFile(cfg.StdoutPath + ".0")
		if _, got, _ := strings.Cut(out, ":"); strings.TrimSpace(got) != tc.want {
			t.Errorf("%s: task with cores %v sees %q", tc.id, tc.cores, out)
		}
		if err := d.DestroyTask(tc.id, true); err != nil {
			t.Fatal(err)
		}
	}

	asNonRoot(d)
	cfg := taskConfig(t, "c2", "true")
	cfg.Cores = []uint16{0}
	if _, err := d.StartTask(cfg); err == nil || !strings.Contains(err.Error(), "root") {
		t.Errorf("StartTask with cores as non-root: err = %v, want refusal", err)
	}
}
