// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseClientNetwork(t *testing.T) {
	want := Client{
		Enabled:          true,
		NetworkInterface: "eth0",
		ReservableCores:  "1-3",
		MinDynamicPort:   21000,
		MaxDynamicPort:   22000,
		Reserved:         Reserved{CPU: 100, ReservedPorts: "22,80,8500-8600", Cores: "0"},
		HostNetworks: map[string]*HostNetwork{
			"public":  {Name: "public", CIDR: "203.0.113.0/24", ReservedPorts: "22"},
			"private": {Name: "private", Interface: "eth1"},
		},
	}
	cases := []struct{ name, file, src string }{
		{"hcl", "a.hcl", `
client {
  enabled           = true
  network_interface = "eth0"
  reservable_cores  = "1-3"
  min_dynamic_port  = 21000
  max_dynamic_port  = 22000
  reserved {
    cpu            = 100
    reserved_ports = "22,80,8500-8600"
    cores          = "0"
  }
  host_network "public" {
    cidr           = "203.0.113.0/24"
    reserved_ports = "22"
  }
  host_network "private" {
    interface = "eth1"
  }
}
`},
		{"json", "a.json", `{"client": {"enabled": true, "network_interface": "eth0", "reservable_cores": "1-3", "min_dynamic_port": 21000,
  "max_dynamic_port": "22000", "reserved": {"cpu": 100, "reserved_ports": "22,80,8500-8600", "cores": "0"},
  "host_network": [{"public": {"cidr": "203.0.113.0/24", "reserved_ports": "22"}}, {"private": {"interface": "eth1"}}]}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse(c.file, []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.Client
			got.NodePool = "" // a default, not what this test is about
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("client = %+v\nwant     %+v", got, want)
			}
		})
	}
}

func TestClientNetworkMergeAndErrors(t *testing.T) {
	a, err := Parse("a.hcl", []byte(`client { min_dynamic_port = 21000 host_network "a" { cidr = "10.0.0.0/8" } }`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse("b.hcl", []byte(`client { max_dynamic_port = 23000 reserved { reserved_ports = "22" } host_network "b" { interface = "eth1" } }`))
	if err != nil {
		t.Fatal(err)
	}
	m := a.Merge(b)
	if c := m.Client; c.MinDynamicPort != 21000 || c.MaxDynamicPort != 23000 || c.Reserved.ReservedPorts != "22" || len(c.HostNetworks) != 2 {
		t.Fatalf("merged client = %+v", c)
	}
	_, err = Parse("c.hcl", []byte("client {\n  host_network \"a\" {\n    cidr = \"10.0.0.0/8\"\n    mtu = 9000\n  }\n}\n"))
	if err == nil || !strings.Contains(err.Error(), `c.hcl:4:5`) || !strings.Contains(err.Error(), `"mtu"`) {
		t.Fatalf("err = %v, want an unknown-argument error at c.hcl:4:5", err)
	}
}
