// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskenv

import (
	"testing"

	"github.com/droverhq/drover/structs"
)

// TestCoresEnv: a task holding exclusive cores gets them in
// NOMAD_CPU_CORES (cpu list notation) and their MHz in NOMAD_CPU_LIMIT; a
// task without cores gets no NOMAD_CPU_CORES.
func TestCoresEnv(t *testing.T) {
	cases := []struct {
		name      string
		cores     []uint16
		shares    int64
		wantCores string // "" means unset
		wantLimit string
	}{
		{"no cores", nil, 250, "", "250"},
		{"one core", []uint16{1}, 2400, "1", "2400"},
		{"two apart", []uint16{0, 2}, 4800, "0,2", "4800"},
		{"a run", []uint16{5, 3, 4, 7}, 9600, "3-5,7", "9600"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			node, alloc, task := testFixture()
			alloc.AllocatedResources.Tasks[task.Name].Cpu = structs.AllocatedCpuResources{CpuShares: tc.shares, ReservedCores: tc.cores}
			env := NewBuilder(node, alloc, task).Build()
			got, ok := env.Get(CPUCores)
			if ok != (tc.wantCores != "") || got != tc.wantCores {
				t.Errorf("%s = %q (set %v), want %q", CPUCores, got, ok, tc.wantCores)
			}
			if got, _ := env.Get(CPULimit); got != tc.wantLimit {
				t.Errorf("%s = %q, want %q", CPULimit, got, tc.wantLimit)
			}
		})
	}
}
