// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestParseHCLAndJSON checks that the HCL and JSON forms of one
// configuration decode to the same Config, and what that Config holds.
func TestParseHCLAndJSON(t *testing.T) {
	fromHCL, err := ParseFile("testdata/agent.hcl")
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ParseFile("testdata/agent.json")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromHCL, fromJSON) {
		t.Fatalf("HCL and JSON differ:\nhcl:  %+v\njson: %+v", fromHCL, fromJSON)
	}
	want := &Config{
		Name: "node-1", Region: "eu", Datacenter: "dc2", DataDir: "/var/lib/drover",
		BindAddr: "0.0.0.0", LogLevel: "DEBUG", LeaveOnInterrupt: true, LeaveOnTerminate: true,
		Ports:     Ports{HTTP: 5646, RPC: 5647, Serf: 5648},
		Addresses: Addresses{HTTP: "127.0.0.1"},
		Advertise: Addresses{RPC: "10.0.0.5", Serf: "10.0.0.5:5648"},
		Server: Server{Enabled: true, BootstrapExpect: 3, ServerJoin: ServerJoin{
			RetryJoin: []string{"10.0.0.6", "10.0.0.7"}, RetryInterval: 15 * time.Second}},
		Client: Client{Enabled: true, Servers: []string{"10.0.0.6:5647"}, NodeClass: "edge", NodePool: "gpu",
			Meta: map[string]string{"rack": "r1"}, Reserved: Reserved{CPU: 500, MemoryMB: 512, DiskMB: 1024}},
		Plugins: map[string]*Plugin{
			"raw_exec": {Name: "raw_exec", Config: map[string]interface{}{"enabled": true, "no_cgroups": false}},
			"docker": {Name: "docker", Args: []string{"-v"}, Config: map[string]interface{}{
				"volumes":        map[string]interface{}{"enabled": true},
				"allow_caps":     []interface{}{"net_raw"},
				"gc_image_delay": int64(3),
			}},
		},
	}
	if !reflect.DeepEqual(fromHCL, want) {
		t.Fatalf("got  %+v\nwant %+v", fromHCL, want)
	}
	// Plugin config must be JSON-encodable for the driver.
	if _, err := json.Marshal(fromHCL.Plugins["docker"].Config); err != nil {
		t.Fatal(err)
	}
}

func TestPluginNestedBlocks(t *testing.T) {
	src := `plugin "docker" {
  config {
    volumes {
      enabled = true
    }
    auth {
      config = "/etc/docker-auth.json"
    }
  }
}`
	c, err := Parse("p.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Plugins["docker"].Config
	want := map[string]interface{}{
		"volumes": []map[string]interface{}{{"enabled": true}},
		"auth":    []map[string]interface{}{{"config": "/etc/docker-auth.json"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func TestMetaAsArgument(t *testing.T) {
	c, err := Parse("m.hcl", []byte(`client {
  meta = { "rack.id" = "r9" }
}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Client.Meta["rack.id"] != "r9" {
		t.Fatalf("meta = %v", c.Client.Meta)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, file, src string
		want            []string
	}{
		{"unknown top-level key", "a.hcl", "name = \"x\"\nbogus = 1\n",
			[]string{`a.hcl:2:1: Unsupported argument; An argument named "bogus" is not expected here.`}},
		{"unknown key in server", "a.hcl", "server {\n  enabled = true\n  bootstrap = 1\n}\n",
			[]string{`a.hcl:3:3: Unsupported argument; An argument named "bootstrap" is not expected here.`}},
		{"unknown block", "a.hcl", "client {\n  options {}\n}\n",
			[]string{`a.hcl:2:3: Unsupported block type; Blocks of type "options" are not expected here.`}},
		{"not yet supported block", "a.hcl", "telemetry {\n  prometheus_metrics = true\n}\nacl {}\n",
			[]string{`a.hcl:1:1: Unsupported block type; block "telemetry" is not supported by Drover yet`,
				`a.hcl:4:1: Unsupported block type; block "acl" is not supported by Drover yet`}},
		{"wrong type", "a.hcl", "ports {\n  http = \"web\"\n}\n",
			[]string{`a.hcl:2:10: Invalid value for "http"; a number is required.`}},
		{"bad duration", "a.hcl", "server {\n  server_join {\n    retry_interval = \"soon\"\n  }\n}\n",
			[]string{`a.hcl:3:22: Invalid duration for "retry_interval"`}},
		{"duplicate block", "a.hcl", "server {}\nserver {}\n",
			[]string{`a.hcl:2:1: Duplicate server block`}},
		{"duplicate plugin", "a.hcl", "plugin \"x\" {}\nplugin \"x\" {}\n",
			[]string{`a.hcl:2:8: Duplicate plugin block; Plugin "x" is configured twice in this file.`}},
		{"json unknown key", "a.json", "{\n  \"server\": {\"enabled\": true, \"nope\": 1}\n}\n",
			[]string{`a.json:2:31: Extraneous JSON object property; No argument or block type is named "nope".`}},
		{"json syntax", "a.json", "{\n  \"name\": \n}\n",
			[]string{`a.json:3:1:`}},
		{"hcl syntax", "a.hcl", "server {\n",
			[]string{`a.hcl:1:8: Unclosed configuration block`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.file, []byte(tc.src))
			if err == nil {
				t.Fatal("want an error")
			}
			rest := err.Error()
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error does not contain %q (in order):\n%s", w, err)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

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

func FuzzParse(f *testing.F) {
	for _, s := range []string{"server { enabled = true }", `{"client": {"meta": {"a": "b"}}}`, "plugin \"x\" { config { a { b = [1] } } }"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("fuzz.hcl", src)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
	})
}
