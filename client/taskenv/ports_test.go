// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskenv

import (
	"testing"

	"github.com/droverhq/drover/structs"
)

func TestPortVariables(t *testing.T) {
	node, alloc, task := testFixture()
	task.Env = map[string]string{"LISTEN": "--port=${NOMAD_PORT_http}", "PEER": "${NOMAD_ADDR_sidecar_admin}"}
	ar := alloc.AllocatedResources
	ar.Shared.Networks = []*structs.NetworkResource{{
		Mode: "host", IP: "10.0.0.5",
		ReservedPorts: []structs.Port{{Label: "db", Value: 5432}},
		DynamicPorts:  []structs.Port{{Label: "http", Value: 23456}, {Label: "grpc", Value: 24000, To: 9090}},
	}}
	ar.Shared.Ports = []structs.PortMapping{
		{Label: "db", Value: 5432, HostIP: "10.0.0.5"},
		{Label: "http", Value: 23456, HostIP: "10.0.0.5"},
		{Label: "grpc", Value: 24000, To: 9090, HostIP: "10.0.0.5"},
	}
	ar.Tasks["web"].Networks = []*structs.NetworkResource{{IP: "10.0.0.5", DynamicPorts: []structs.Port{{Label: "legacy", Value: 25000}}}}
	ar.Tasks["sidecar"] = &structs.AllocatedTaskResources{Networks: []*structs.NetworkResource{{IP: "10.0.0.5", ReservedPorts: []structs.Port{{Label: "admin", Value: 8081}}}}}

	env := NewBuilder(node, alloc, task).Build()
	want := map[string]string{
		"NOMAD_PORT_http":          "23456",
		"NOMAD_HOST_PORT_http":     "23456",
		"NOMAD_IP_http":            "10.0.0.5",
		"NOMAD_ADDR_http":          "10.0.0.5:23456",
		"NOMAD_HOST_IP_http":       "10.0.0.5",
		"NOMAD_HOST_ADDR_http":     "10.0.0.5:23456",
		"NOMAD_ALLOC_PORT_http":    "23456",
		"NOMAD_ALLOC_IP_http":      "10.0.0.5",
		"NOMAD_ALLOC_ADDR_http":    "10.0.0.5:23456",
		"NOMAD_PORT_db":            "5432",
		"NOMAD_PORT_grpc":          "9090",
		"NOMAD_HOST_PORT_grpc":     "24000",
		"NOMAD_ADDR_grpc":          "10.0.0.5:9090",
		"NOMAD_HOST_ADDR_grpc":     "10.0.0.5:24000",
		"NOMAD_ALLOC_PORT_grpc":    "9090",
		"NOMAD_PORT_legacy":        "25000",
		"NOMAD_PORT_web_legacy":    "25000",
		"NOMAD_ADDR_sidecar_admin": "10.0.0.5:8081",
		"LISTEN":                   "--port=23456",
		"PEER":                     "10.0.0.5:8081",
	}
	for k, v := range want {
		if got, _ := env.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// Another task's deprecated network is not the task's own.
	if got, ok := env.Get("NOMAD_PORT_admin"); ok {
		t.Errorf("NOMAD_PORT_admin = %q, want unset for task web", got)
	}
	cfg := env.ReplaceConfig(map[string]any{"args": []any{"-m", "http.server", "${NOMAD_PORT_http}"}, "bind": "${NOMAD_IP_http}"})
	if args := cfg["args"].([]any); args[2] != "23456" || cfg["bind"] != "10.0.0.5" {
		t.Errorf("interpolated config = %v", cfg)
	}
}

func TestPortVariablesFromNetworksOnly(t *testing.T) {
	node, alloc, task := testFixture()
	alloc.AllocatedResources.Shared.Networks = []*structs.NetworkResource{{IP: "192.0.2.1", DynamicPorts: []structs.Port{{Label: "http", Value: 21000, To: 8080}}}}
	env := NewBuilder(node, alloc, task).Build()
	for k, v := range map[string]string{"NOMAD_PORT_http": "8080", "NOMAD_HOST_PORT_http": "21000", "NOMAD_ADDR_http": "192.0.2.1:8080"} {
		if got, _ := env.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestNoPortsNoVariables(t *testing.T) {
	node, alloc, task := testFixture()
	env := NewBuilder(node, alloc, task).Build()
	for k := range env.Map() {
		for _, p := range []string{PortPrefix, HostPortPrefix, AddrPrefix, IPPrefix} {
			if len(k) >= len(p) && k[:len(p)] == p {
				t.Errorf("unexpected %s without ports", k)
			}
		}
	}
}
