// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package fingerprint

import (
	"strings"
	"testing"

	"github.com/droverhq/drover/structs"
)

func TestNetworkFingerprint(t *testing.T) {
	cases := []struct {
		name       string
		opts       Options
		wantIP     string
		wantDevice string
		wantMin    int
		wantMax    int
		wantAlias  map[string]string // host network alias → address
		wantErr    string
	}{
		{
			name:   "dev mode is loopback with Nomad's port range",
			opts:   Options{DevMode: true},
			wantIP: "127.0.0.1", wantDevice: "lo", wantMin: 20000, wantMax: 32000,
			wantAlias: map[string]string{"default": "127.0.0.1"},
		},
		{
			name:   "network_interface overrides, port range configured",
			opts:   Options{NetworkInterface: "lo", MinDynamicPort: 25000, MaxDynamicPort: 25100},
			wantIP: "127.0.0.1", wantDevice: "lo", wantMin: 25000, wantMax: 25100,
		},
		{
			name: "host networks by cidr and by interface; one matching nothing is left out",
			opts: Options{DevMode: true, HostNetworks: []HostNetwork{
				{Name: "loop", CIDR: "127.0.0.0/8", ReservedPorts: "22"},
				{Name: "byname", Interface: "lo"},
				{Name: "absent", CIDR: "198.51.100.0/24"},
			}},
			wantIP: "127.0.0.1", wantDevice: "lo", wantMin: 20000, wantMax: 32000,
			wantAlias: map[string]string{"default": "127.0.0.1", "loop": "127.0.0.1", "byname": "127.0.0.1", "absent": ""},
		},
		{
			name:    "unknown interface",
			opts:    Options{NetworkInterface: "no-such-if0"},
			wantErr: `interface "no-such-if0"`,
		},
		{
			name:    "bad host network cidr",
			opts:    Options{DevMode: true, HostNetworks: []HostNetwork{{Name: "x", CIDR: "10.0.0.0/99"}}},
			wantErr: `host_network "x"`,
		},
		{
			name:    "empty port range",
			opts:    Options{DevMode: true, MinDynamicPort: 30000, MaxDynamicPort: 29000},
			wantErr: "dynamic port range 30000-29000",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Root = t.TempDir()
			h, err := FingerprintHost(c.opts)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := h.Resources
			if len(r.Networks) != 1 || r.Networks[0].IP != c.wantIP || r.Networks[0].Device != c.wantDevice || r.Networks[0].Mode != "host" {
				t.Fatalf("networks = %+v", r.Networks)
			}
			if r.MinDynamicPort != c.wantMin || r.MaxDynamicPort != c.wantMax {
				t.Errorf("range = %d-%d", r.MinDynamicPort, r.MaxDynamicPort)
			}
			node := &structs.Node{NodeResources: r, Attributes: h.Attributes}
			for alias, want := range c.wantAlias {
				got, ok := node.HostNetworkIP(alias)
				if got != want || ok != (want != "") {
					t.Errorf("host network %q = %q %v, want %q", alias, got, ok, want)
				}
			}
		})
	}
}
