// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"slices"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	cases := []struct {
		in   string
		want []uint16
		err  bool
	}{
		{in: "", want: []uint16{}},
		{in: "0", want: []uint16{0}},
		{in: "0-3,8", want: []uint16{0, 1, 2, 3, 8}},
		{in: " 8, 0-1 ,1\n", want: []uint16{0, 1, 8}},
		{in: "2-2", want: []uint16{2}},
		{in: "3-1", err: true},
		{in: "a", err: true},
		{in: "1-", err: true},
		{in: "70000", err: true},
	}
	for _, tc := range cases {
		got, err := ParseCPUList(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseCPUList(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if !tc.err && !slices.Equal(got, tc.want) {
			t.Errorf("ParseCPUList(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFormatCPUList(t *testing.T) {
	cases := []struct {
		in   []uint16
		want string
	}{
		{nil, ""},
		{[]uint16{0}, "0"},
		{[]uint16{0, 2}, "0,2"},
		{[]uint16{3, 0, 1, 2, 7, 12, 13, 14}, "0-3,7,12-14"},
		{[]uint16{1, 1, 2}, "1-2"},
	}
	for _, tc := range cases {
		if got := FormatCPUList(tc.in); got != tc.want {
			t.Errorf("FormatCPUList(%v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := ParseCPUList(FormatCPUList(tc.in))
		if err != nil || len(back) != len(slices.Compact(slices.Sorted(slices.Values(tc.in)))) {
			t.Errorf("round trip of %v = %v, %v", tc.in, back, err)
		}
	}
}

func TestNodeReservableCores(t *testing.T) {
	n := &Node{
		NodeResources:     &NodeResources{Cpu: NodeCpuResources{CpuShares: 8000, TotalCpuCores: 4, ReservableCpuCores: []uint16{3, 1, 2, 0}}},
		ReservedResources: &NodeReservedResources{Cpu: NodeReservedCpuResources{ReservedCpuCores: []uint16{0, 2}}},
	}
	if got := n.ReservableCores(); !slices.Equal(got, []uint16{1, 3}) {
		t.Errorf("ReservableCores = %v", got)
	}
	if got := n.MHzPerCore(); got != 2000 {
		t.Errorf("MHzPerCore = %d", got)
	}
	c := n.Copy()
	c.ReservedResources.Cpu.ReservedCpuCores[0] = 9
	if n.ReservedResources.Cpu.ReservedCpuCores[0] != 0 {
		t.Error("Copy shares the reserved cores")
	}
	u := NewCoreUsage(n)
	a := &Allocation{AllocatedResources: &AllocatedResources{Tasks: map[string]*AllocatedTaskResources{"t": {Cpu: AllocatedCpuResources{ReservedCores: []uint16{3}}}}}}
	if !u.AddAlloc(a) || !slices.Equal(u.Free(), []uint16{1}) {
		t.Fatalf("after AddAlloc free = %v", u.Free())
	}
	if u.AddAlloc(a) {
		t.Error("the same core was given twice")
	}
	u.ReleaseAlloc(a)
	if !slices.Equal(u.Free(), []uint16{1, 3}) {
		t.Errorf("after ReleaseAlloc free = %v", u.Free())
	}
}
