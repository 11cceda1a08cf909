// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"encoding/json"
	"reflect"
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
		t.Fatalf("HCL and JSON differ:\nhcl:  %#v\njson: %#v", fromHCL.Plugins["docker"], fromJSON.Plugins["docker"])
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
				"volumes":        []map[string]interface{}{{"enabled": true}},
				"allow_caps":     []interface{}{"net_raw"},
				"gc_image_delay": 3,
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

// TestParseNomadConfigs feeds configurations written the way Nomad users
// write them (the documentation's samples and HCL1-only syntax) and
// checks the whole Config each one gives.
func TestParseNomadConfigs(t *testing.T) {
	rawExec := map[string]*Plugin{"raw_exec": {Name: "raw_exec", Config: map[string]interface{}{"enabled": true}}}
	cases := []struct {
		name, file, src string
		want            *Config
	}{
		{"docs client and server sample", "a.hcl", `
data_dir  = "/var/lib/nomad"
bind_addr = "0.0.0.0" # the default

advertise {
  # Defaults to the first private IP address.
  http = "1.2.3.4"
  rpc  = "1.2.3.4"
  serf = "1.2.3.4:5648" # non-default ports may be specified
}

server {
  enabled          = true
  bootstrap_expect = 5
}

client {
  enabled = true
}
`, &Config{DataDir: "/var/lib/nomad", BindAddr: "0.0.0.0",
			Advertise: Addresses{HTTP: "1.2.3.4", RPC: "1.2.3.4", Serf: "1.2.3.4:5648"},
			Server:    Server{Enabled: true, BootstrapExpect: 5}, Client: Client{Enabled: true}}},
		{"docs dev agent", "dev.hcl", `
enable_debug = true
log_level = "DEBUG"
data_dir = "/tmp/nomad-devagent"
client {
  enabled = true
}
server {
  enabled = true
  bootstrap_expect = 1
  num_schedulers = 1
}
plugin "raw_exec" {
  config {
    enabled = true
  }
}
`, &Config{EnableDebug: true, LogLevel: "DEBUG", DataDir: "/tmp/nomad-devagent", Client: Client{Enabled: true},
			Server: Server{Enabled: true, BootstrapExpect: 1, NumSchedulers: 1}, Plugins: rawExec}},
		{"single-line blocks with several attributes", "a.hcl",
			"ports { http = 5656 rpc = 5657 serf = 5658 }\naddresses { http = \"127.0.0.1\" rpc = \"10.0.0.1\" }\n" +
				"client { enabled = true reserved { cpu = 100 memory = 256 } }\n",
			&Config{Ports: Ports{HTTP: 5656, RPC: 5657, Serf: 5658}, Addresses: Addresses{HTTP: "127.0.0.1", RPC: "10.0.0.1"},
				Client: Client{Enabled: true, Reserved: Reserved{CPU: 100, MemoryMB: 256}}}},
		{"quoted keys and meta as a block", "a.hcl", `
"name" = "n1"
client {
  meta {
    "owner"   = "ops"
    "rack.id" = "r1"
    zone      = 3
  }
}
`, &Config{Name: "n1", Client: Client{Meta: map[string]string{"owner": "ops", "rack.id": "r1", "zone": "3"}}}},
		{"meta with =, merged with meta as a block", "a.hcl", `
client {
  meta = { "a" = "1", b = "2" }
  meta { b = "3" }
}
`, &Config{Client: Client{Meta: map[string]string{"a": "1", "b": "3"}}}},
		{"every comment style and a heredoc", "a.hcl", `
// line comment
# hash comment
/* block
   comment */
name = <<EOF
node-1
EOF
region = "eu" /* trailing */ // more
`, &Config{Name: "node-1\n", Region: "eu"}},
		{"blocks written with = and as lists of objects", "a.hcl", `
ports = { http = 1 }
server = [{ enabled = true, server_join = { retry_join = ["a"] } }]
`, &Config{Ports: Ports{HTTP: 1}, Server: Server{Enabled: true, ServerJoin: ServerJoin{RetryJoin: []string{"a"}}}}},
		{"HCL1 value conversions", "a.hcl", `
datacenter = 7
ports { http = "4646" rpc = 0x1237 }
server { bootstrap_expect = "3" }
`, &Config{Datacenter: "7", Ports: Ports{HTTP: 4646, RPC: 0x1237}, Server: Server{BootstrapExpect: 3}}},
		{"keys match case-insensitively", "a.hcl", "Ports { HTTP = 1 }\nSERVER { Enabled = true }\n",
			&Config{Ports: Ports{HTTP: 1}, Server: Server{Enabled: true}}},
		{"server_join arguments directly in server, repeated lists append", "a.hcl", `
server {
  retry_join     = ["10.0.0.1"]
  retry_join     = ["10.0.0.2"]
  retry_max      = 3
  retry_interval = "1m"
}
`, &Config{Server: Server{ServerJoin: ServerJoin{RetryJoin: []string{"10.0.0.1", "10.0.0.2"}, RetryMax: 3, RetryInterval: time.Minute}}}},
		{"several plugins, labels quoted or not, nested blocks", "a.hcl", `
plugin "raw_exec" { config { enabled = true } }
plugin docker {
  args = ["-debug"]
  config {
    allow_privileged = false
    volumes { enabled = true }
    auth { config = "/etc/docker-auth.json" }
    gc { image = true image_delay = "3m" }
    pull_activity_timeout = 1.5
  }
}
`, &Config{Plugins: map[string]*Plugin{
			"raw_exec": rawExec["raw_exec"],
			"docker": {Name: "docker", Args: []string{"-debug"}, Config: map[string]interface{}{
				"allow_privileged":      false,
				"volumes":               []map[string]interface{}{{"enabled": true}},
				"auth":                  []map[string]interface{}{{"config": "/etc/docker-auth.json"}},
				"gc":                    []map[string]interface{}{{"image": true, "image_delay": "3m"}},
				"pull_activity_timeout": 1.5,
			}},
		}}},
		{"JSON with Nomad's array-of-objects form", "a.json", `{
  "server": [{"enabled": true}],
  "client": {"meta": {"owner": "ops"}},
  "plugin": [{"raw_exec": [{"config": [{"enabled": true}]}]}]
}`, &Config{Server: Server{Enabled: true}, Client: Client{Meta: map[string]string{"owner": "ops"}}, Plugins: rawExec}},
		{"JSON objects holding only objects", "a.json",
			`{"client": {"reserved": {"cpu": 5}}, "plugin": {"docker": {"config": {"volumes": {"enabled": true}}}}}`,
			&Config{Client: Client{Reserved: Reserved{CPU: 5}}, Plugins: map[string]*Plugin{"docker": {Name: "docker",
				Config: map[string]interface{}{"volumes": []map[string]interface{}{{"enabled": true}}}}}}},
		{"empty file", "a.hcl", "# nothing\n", &Config{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.file, []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v\nplugins got %#v", got, tc.want, got.Plugins)
			}
		})
	}
}

// TestPluginConfigShapes pins how free-form plugin config reaches the
// plugin: as HCL1 decodes it, whatever way the file writes it.
func TestPluginConfigShapes(t *testing.T) {
	want := map[string]interface{}{
		"n":       1,
		"f":       2.5,
		"s":       "x",
		"list":    []interface{}{"a", 1},
		"volumes": []map[string]interface{}{{"enabled": true}, {"selinuxlabel": "z"}},
		"a":       []map[string]interface{}{{"b": []map[string]interface{}{{"c": "d"}}}},
	}
	for name, src := range map[string]string{
		"blocks": `plugin "p" { config {
  n = 1
  f = 2.5
  s = "x"
  list = ["a", 1]
  volumes { enabled = true }
  volumes { selinuxlabel = "z" }
  a { b { c = "d" } }
} }`,
		"objects with =": `plugin "p" { config = {
  n = 1, f = 2.5, s = "x", list = ["a", 1]
  volumes = [{ enabled = true }, { selinuxlabel = "z" }]
  a = { b = { c = "d" } }
} }`,
		"HCL1 multi-key block": `plugin "p" { config {
  n = 1
  f = 2.5
  s = "x"
  list = ["a", 1]
  volumes { enabled = true }
  volumes { selinuxlabel = "z" }
  a b { c = "d" }
} }`,
		"json": `{"plugin": {"p": {"config": {"n": 1, "f": 2.5, "s": "x", "list": ["a", 1],
  "volumes": [{"enabled": true}, {"selinuxlabel": "z"}], "a": {"b": {"c": "d"}}}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Parse("p.hcl", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			// Plugins receive their config JSON-encoded, and that must not
			// depend on how the file is written.
			got := c.Plugins["p"].Config
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) {
				t.Fatalf("got  %s\nwant %s", gotJSON, wantJSON)
			}
			// Only HCL1 native syntax keeps `x = [{...}]` a list of
			// interface values; every other way gives Nomad's Go types.
			if name != "objects with =" && !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %#v\nwant %#v", got, want)
			}
		})
	}
}

// TestParseErrors checks the exact text and place of each error, and
// that all errors of a file are reported together.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, file, src, want string
	}{
		{"unknown top-level key", "a.hcl", "name = \"x\"\nbogus = 1\n",
			`a.hcl:2:1: Unsupported argument; An argument named "bogus" is not expected in the agent configuration.`},
		{"unknown key in a single-line block", "a.hcl", "ports { http = 1 htpp = 2 }\n",
			`a.hcl:1:18: Unsupported argument; An argument named "htpp" is not expected in the ports block.`},
		{"unknown key in server", "a.hcl", "server {\n  enabled = true\n  bootstrap = 1\n}\n",
			`a.hcl:3:3: Unsupported argument; An argument named "bootstrap" is not expected in the server block.`},
		{"unknown block", "a.hcl", "client {\n  bogus {}\n}\n",
			`a.hcl:2:3: Unsupported block type; Blocks of type "bogus" are not expected in the client block.`},
		{"not yet supported", "a.hcl", "telemetry {\n  prometheus_metrics = true\n}\nacl {}\nclient {\n  options { \"driver.allowlist\" = \"docker\" }\n  gc_interval = \"1m\"\n}\n",
			"a.hcl:1:1: Unsupported block type; block \"telemetry\" is not supported by Drover yet\n" +
				"a.hcl:4:1: Unsupported block type; block \"acl\" is not supported by Drover yet\n" +
				"a.hcl:6:3: Unsupported block type; block \"options\" is not supported by Drover yet\n" +
				"a.hcl:7:3: Unsupported argument; argument \"gc_interval\" is not supported by Drover yet"},
		{"wrong types", "a.hcl", "ports {\n  http = \"web\"\n  rpc = 1.5\n}\nserver { enabled = \"yes\" }\nname = true\n",
			"a.hcl:2:10: Invalid value for \"http\"; a number is required.\n" +
				"a.hcl:3:9: Invalid value for \"rpc\"; a number is required.\n" +
				"a.hcl:5:20: Invalid value for \"enabled\"; true or false is required.\n" +
				"a.hcl:6:8: Invalid value for \"name\"; a string is required."},
		{"number out of range", "a.hcl", "ports { http = 99999999999999999999 }",
			`a.hcl:1:16: Invalid value for "http"; 99999999999999999999 is out of range.`},
		{"block given a value", "a.hcl", "server = true\nclient { servers = \"a\" }\n",
			"a.hcl:1:10: Invalid value for \"server\"; a block ({ ... }) is required.\n" +
				"a.hcl:2:20: Invalid value for \"servers\"; a list of strings is required."},
		{"meta value not a string", "a.hcl", "client {\n  meta { a = { b = 1 } }\n}\n",
			`a.hcl:2:10: Invalid value for "a"; meta values must be strings.`},
		{"bad duration", "a.hcl", "server {\n  server_join {\n    retry_interval = \"soon\"\n  }\n}\n",
			`a.hcl:3:22: Invalid duration for "retry_interval"; "soon" is not a duration; use a number with a unit, such as "30s".`},
		{"bare number duration, as Nomad rejects it", "a.hcl", "server { retry_interval = 15 }",
			`a.hcl:1:27: Invalid duration for "retry_interval"; "15" is not a duration; use a number with a unit, such as "30s".`},
		{"duplicate block", "a.hcl", "server {}\nserver {}\n",
			`a.hcl:2:1: Duplicate server block; Only one server block is allowed in the agent configuration; another was defined at line 1.`},
		{"duplicate plugin", "a.hcl", "plugin \"x\" {}\nplugin \"x\" {}\n",
			`a.hcl:2:8: Duplicate plugin block; Plugin "x" is configured twice in this file.`},
		{"duplicate host network", "a.hcl", "client {\n  host_network \"lan\" {}\n  host_network \"lan\" { cidr = 1 }\n}\n",
			`a.hcl:3:16: Duplicate host_network block; Host network "lan" is configured twice in this file.`},
		{"bad plugin config", "a.hcl", "plugin \"x\" { config = 1 }\n",
			`a.hcl:1:23: Invalid value for "config"; a block ({ ... }) is required.`},
		{"json unknown key", "a.json", "{\n  \"server\": {\"enabled\": true, \"nope\": 1}\n}\n",
			`a.json:2:31: Unsupported argument; An argument named "nope" is not expected in the server block.`},
		{"json wrong type", "a.json", "{\"ports\": {\"http\": true}}",
			`a.json:1:20: Invalid value for "http"; a number is required.`},
		{"json syntax", "a.json", "{\n  \"name\": \n}\n",
			`a.json:3:1: Invalid configuration syntax; invalid character '}' looking for beginning of value`},
		{"json truncated", "a.json", "{\"name\": \"x\"",
			`a.json:1:13: Invalid configuration syntax; unexpected end of JSON input`},
		{"json trailing data", "a.json", "{}\n{}",
			`a.json:2:1: Invalid configuration syntax; unexpected { after the configuration object`},
		{"hcl unclosed block", "a.hcl", "server {\n",
			`a.hcl:2:2: Invalid configuration syntax; object expected closing RBRACE got: EOF`},
		{"hcl key without value", "a.hcl", "name\n",
			`a.hcl:2:1: Invalid configuration syntax; key 'name' expected start of object ('{') or assignment ('=')`},
		{"hcl bad escape", "a.hcl", `name = "\q"`,
			`a.hcl:1:10: Invalid configuration syntax; illegal char escape`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.file, []byte(tc.src))
			if err == nil {
				t.Fatalf("want an error, got %+v", c)
			}
			if err.Error() != tc.want {
				t.Fatalf("got:\n%s\nwant:\n%s", err, tc.want)
			}
		})
	}
}

// FuzzParse checks that no input makes Parse panic or return neither a
// Config nor an error. Inputs are bounded so a run stays fast.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"server { enabled = true }", `{"client": {"meta": {"a": "b"}}}`, "plugin \"x\" { config { a { b = [1] } } }",
		"ports { http = 1 rpc = 2 }", "client { meta = { \"k\" = \"v\" } }", "a b c { d = <<EOF\nx\nEOF\n}",
		`{"plugin": [{"x": [{"config": [{"a": 1e3}]}]}]}`, "server { retry_interval = \"1s\" }",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 4096 {
			src = src[:4096] // keep each run fast; every input is still parsed
		}
		c, err := Parse("fuzz.hcl", src)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("error without text")
		}
	})
}
