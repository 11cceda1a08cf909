// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package exec

import (
	"strings"
	"testing"
)

// TestCoresPinning: a task given exclusive cores runs on exactly those,
// one core and then the other, so the pin is not a coincidence of the
// machine's affinity.
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
		cfg := taskConfig(t, tc.id, "sh", "-c", "grep Cpus_allowed_list /proc/self/status")
		cfg.Cores = tc.cores
		res, out := run(t, d, cfg)
		if !res.Successful() {
			t.Fatalf("%s: exit %+v", tc.id, res)
		}
		_, got, _ := strings.Cut(out, ":")
		if strings.TrimSpace(got) != tc.want {
			t.Errorf("%s: task with cores %v sees %q", tc.id, tc.cores, strings.TrimSpace(out))
		}
		if err := d.DestroyTask(tc.id, false); err != nil {
			t.Fatal(err)
		}
	}
}
