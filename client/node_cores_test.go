// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"slices"
	"testing"

	"github.com/droverhq/drover/structs"
)

// reservable_cores narrows the cores tasks may reserve; reserved { cores }
// keeps cores (and their MHz) for the host.
func TestApplyCoreConfig(t *testing.T) {
	cases := []struct {
		name            string
		reserved        string
		reservable      string
		wantReservable  []uint16
		wantReserved    []uint16
		wantReservedMHz uint64
		wantErr         bool
	}{
		{name: "nothing configured", wantReservable: []uint16{0, 1, 2, 3}},
		{name: "reservable subset", reservable: "1-2,9", wantReservable: []uint16{1, 2}},
		{name: "reserved cores", reserved: "0", wantReservable: []uint16{0, 1, 2, 3}, wantReserved: []uint16{0}, wantReservedMHz: 1000},
		{name: "reserved outside reservable is ignored", reserved: "0,3", reservable: "2-3",
			wantReservable: []uint16{2, 3}, wantReserved: []uint16{3}, wantReservedMHz: 1000},
		{name: "bad list", reserved: "x", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			node := &structs.Node{
				NodeResources: &structs.NodeResources{Cpu: structs.NodeCpuResources{
					CpuShares: 4000, TotalCpuCores: 4, ReservableCpuCores: []uint16{0, 1, 2, 3}}},
				ReservedResources: &structs.NodeReservedResources{},
			}
			cfg := &Config{ReservableCores: tc.reservable, Reserved: Reserved{Cores: tc.reserved}}
			err := applyCoreConfig(node, cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if got := node.NodeResources.Cpu.ReservableCpuCores; !slices.Equal(got, tc.wantReservable) {
				t.Errorf("reservable = %v, want %v", got, tc.wantReservable)
			}
			if got := node.ReservedResources.Cpu.ReservedCpuCores; !slices.Equal(got, tc.wantReserved) {
				t.Errorf("reserved = %v, want %v", got, tc.wantReserved)
			}
			if got := node.ReservedResources.Cpu.CpuShares; got != tc.wantReservedMHz {
				t.Errorf("reserved MHz = %d, want %d", got, tc.wantReservedMHz)
			}
		})
	}
}
