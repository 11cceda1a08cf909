// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"reflect"
	"testing"
)

func TestDefaults(t *testing.T) {
	d := Default()
	if d.Ports != (Ports{HTTP: 4646, RPC: 4647, Serf: 4648}) || d.BindAddr != "0.0.0.0" || d.Region != "global" ||
		d.Datacenter != "dc1" || d.Server.Enabled || d.Client.Enabled {
		t.Fatalf("Default() = %+v", d)
	}
	dev := DevConfig()
	if !dev.DevMode || !dev.Server.Enabled || !dev.Client.Enabled || dev.Server.BootstrapExpect != 1 ||
		dev.BindAddr != "127.0.0.1" || dev.LogLevel != "DEBUG" || dev.Ports.HTTP != 4646 ||
		dev.Plugins["raw_exec"] == nil || dev.Plugins["raw_exec"].Config["enabled"] != true {
		t.Fatalf("DevConfig() = %+v", dev)
	}
}

func TestMerge(t *testing.T) {
	base := Default()
	base.Client.Meta = map[string]string{"a": "1", "b": "1"}
	base.Client.Servers = []string{"s1"}
	base.Plugins["raw_exec"] = &Plugin{Name: "raw_exec", Config: map[string]interface{}{"enabled": true, "no_cgroups": true}}
	base.Plugins["exec"] = &Plugin{Name: "exec", Config: map[string]interface{}{"x": int64(1)}}
	base.Server.Enabled = true

	file, err := Parse("over.hcl", []byte(`
log_level = "warn"
ports {
  http = 8080
}
client {
  enabled = true
  servers = ["s1", "s2"]
  meta {
    b = "2"
    c = "2"
  }
}
plugin "raw_exec" {
  config {
    enabled = false
  }
}
plugin "docker" {
  config {
    y = "z"
  }
}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := base.Merge(file)

	if got.LogLevel != "WARN" || got.Ports != (Ports{HTTP: 8080, RPC: 4647, Serf: 4648}) {
		t.Errorf("later values must win and unset ones keep defaults: %+v %+v", got.LogLevel, got.Ports)
	}
	if !got.Server.Enabled || !got.Client.Enabled {
		t.Errorf("an empty value must not turn off an earlier true: server %v client %v", got.Server.Enabled, got.Client.Enabled)
	}
	if !reflect.DeepEqual(got.Client.Meta, map[string]string{"a": "1", "b": "2", "c": "2"}) {
		t.Errorf("meta must merge by key, later wins: %v", got.Client.Meta)
	}
	if !reflect.DeepEqual(got.Client.Servers, []string{"s1", "s2"}) {
		t.Errorf("servers = %v", got.Client.Servers)
	}
	if len(got.Plugins) != 3 || got.Plugins["exec"].Config["x"] != int64(1) || got.Plugins["docker"].Config["y"] != "z" {
		t.Errorf("plugins must merge by name: %+v", got.Plugins)
	}
	if !reflect.DeepEqual(got.Plugins["raw_exec"].Config, map[string]interface{}{"enabled": false}) {
		t.Errorf("a later plugin block replaces the earlier one whole: %v", got.Plugins["raw_exec"].Config)
	}

	// Merge must not modify its inputs.
	if base.LogLevel != "INFO" || base.Client.Meta["b"] != "1" || len(base.Client.Servers) != 1 ||
		base.Plugins["raw_exec"].Config["enabled"] != true || base.Plugins["docker"] != nil {
		t.Errorf("Merge modified its receiver: %+v", base)
	}
	got.Plugins["exec"].Config["x"] = int64(2)
	if base.Plugins["exec"].Config["x"] != int64(1) {
		t.Error("Merge result shares plugin config with its receiver")
	}
}
