// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePortSpec(t *testing.T) {
	cases := []struct {
		in      string
		want    []int
		wantErr string
	}{
		{"", nil, ""},
		{" 22 , 80,8500-8502,80", []int{22, 80, 8500, 8501, 8502}, ""},
		{"65535", []int{65535}, ""},
		{"0", nil, `"0" is not a port`},
		{"70000", nil, `"70000" is not a port`},
		{"9-3", nil, "ends before it starts"},
		{"22,http", nil, `"http" is not a port`},
		{"1-", nil, `"" is not a port`},
	}
	for _, c := range cases {
		got, err := ParsePortSpec(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: err = %v, want %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestPortUsage(t *testing.T) {
	n := &Node{ID: "n1",
		NodeResources:     &NodeResources{NodeNetworks: []*NodeNetworkResource{{Addresses: []NodeNetworkAddress{{Alias: "public", Address: "203.0.113.7", ReservedPorts: "443"}}}}},
		ReservedResources: &NodeReservedResources{Networks: NodeReservedNetworkResources{ReservedHostPorts: "22"}}}
	u, err := NewPortUsage(n)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Used("10.0.0.1", 22) || !u.Used("203.0.113.7", 22) {
		t.Error("node reserved port must be taken on every address")
	}
	if !u.Used("203.0.113.7", 443) || u.Used("10.0.0.1", 443) {
		t.Error("host network reserved port must be taken on its address only")
	}
	alloc := func(port int, ignore bool) *Allocation {
		return &Allocation{AllocatedResources: &AllocatedResources{Shared: AllocatedSharedResources{
			Networks: []*NetworkResource{{IP: "10.0.0.1", DynamicPorts: []Port{{Label: "http", Value: port, IgnoreCollision: ignore}}}}}}}
	}
	if ok, _ := u.AddAlloc(alloc(8080, false)); !ok {
		t.Fatal("free port refused")
	}
	if ok, c := u.AddAlloc(alloc(8080, false)); ok || c.Value != 8080 || c.Label != "http" {
		t.Errorf("collision = %v %+v", ok, c)
	}
	if ok, _ := u.AddAlloc(alloc(8080, true)); !ok {
		t.Error("ignore_collision port refused")
	}
	if ok, _ := u.AddAlloc(alloc(0, false)); ok {
		t.Error("unassigned dynamic port accepted")
	}
	n.ReservedResources.Networks.ReservedHostPorts = "x"
	if _, err := NewPortUsage(n); err == nil {
		t.Error("bad reserved ports accepted")
	}
}
