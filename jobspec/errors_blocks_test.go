// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

// blockErrorCases extend TestParseErrors to the blocks of the full job
// specification: wrong types, unknown arguments, bad durations and enum
// values, missing labels and arguments, and duplicate single blocks.
// Each source is a job with the broken part inside group "g" / task "t".
var blockErrorCases = func() []struct {
	name string
	src  string
	opts *ParseOptions
	want []string
} {
	type tc = struct {
		name string
		src  string
		//lint:ignore U1000 the shape of TestParseErrors' cases; these need no options
		opts *ParseOptions
		want []string
	}
	// inGroup and inTask put body at line 3 (group) or line 4 (task),
	// indented by 4 and 6 spaces.
	inGroup := func(body string) string {
		return "job \"x\" {\n  group \"g\" {\n" + body + "\n  }\n}\n"
	}
	inTask := func(body string) string {
		return "job \"x\" {\n  group \"g\" {\n    task \"t\" {\n" + body + "\n    }\n  }\n}\n"
	}
	return []tc{
		{name: "update: bad duration", src: "job \"x\" {\n  update {\n    min_healthy_time = \"soon\"\n  }\n}\n",
			want: []string{`e.hcl:3:24: Invalid duration for "min_healthy_time"; "soon" is not a duration`}},
		{name: "update: bad health_check", src: "job \"x\" {\n  update {\n    health_check = \"maybe\"\n  }\n}\n",
			want: []string{`e.hcl:3:20: Invalid value for "health_check"; "maybe" is not one of "checks", "task_states", "manual".`}},
		{name: "update: duplicate", src: "job \"x\" {\n  update {}\n  update {}\n}\n",
			want: []string{`e.hcl:3:3: Duplicate update block; Only one update block is allowed in a job; another was defined at line 2.`}},
		{name: "periodic: crons not a list", src: "job \"x\" {\n  periodic {\n    crons = 5\n  }\n}\n",
			want: []string{`e.hcl:3:13: Invalid value for "crons"; list of string required, but have number.`}},
		{name: "parameterized: bad payload", src: "job \"x\" {\n  parameterized {\n    payload = \"sometimes\"\n  }\n}\n",
			want: []string{`e.hcl:3:15: Invalid value for "payload"; "sometimes" is not one of "optional", "required", "forbidden".`}},
		{name: "multiregion: region without label", src: "job \"x\" {\n  multiregion {\n    region {}\n  }\n}\n",
			want: []string{`e.hcl:3:12: Missing name for region; All region blocks must have 1 labels (name).`}},
		{name: "spread: percent too large", src: "job \"x\" {\n  spread {\n    attribute = \"${node.datacenter}\"\n    target \"dc1\" {\n      percent = 300\n    }\n  }\n}\n",
			want: []string{`e.hcl:5:17: Invalid value for "percent"; a whole number from 0 to 255 is required.`}},
		{name: "affinity: zero weight", src: "job \"x\" {\n  affinity {\n    attribute = \"${attr.a}\"\n    value = \"b\"\n    weight = 0\n  }\n}\n",
			want: []string{`e.hcl:5:14: Invalid affinity weight; weight must be from -100 to 100 and not 0, not 0.`}},
		{name: "affinity: distinct_hosts is not a preference", src: "job \"x\" {\n  affinity {\n    distinct_hosts = true\n  }\n}\n",
			want: []string{`e.hcl:3:5: Unsupported argument; An argument named "distinct_hosts" is not expected here.`}},
		{name: "ui: link with unknown argument", src: "job \"x\" {\n  ui {\n    link {\n      href = \"x\"\n    }\n  }\n}\n",
			want: []string{`e.hcl:4:7: Unsupported argument; An argument named "href" is not expected here.`}},
		{name: "network: port without label", src: inGroup("    network {\n      port {}\n    }"),
			want: []string{`e.hcl:4:12: Missing label for port; All port blocks must have 1 labels (label).`}},
		{name: "network: duplicate port", src: inGroup("    network {\n      port \"a\" {}\n      port \"a\" {}\n    }"),
			want: []string{`e.hcl:5:12: Duplicate port; This network already has a port labelled "a".`}},
		{name: "network: static port out of range", src: inGroup("    network {\n      port \"a\" {\n        static = 70000\n      }\n    }"),
			want: []string{`e.hcl:5:18: Invalid value for "static"; a port number from 0 to 65535 is required, not 70000.`}},
		{name: "network: dns servers wrong type", src: inGroup("    network {\n      dns {\n        servers = \"8.8.8.8\"\n      }\n    }"),
			want: []string{`e.hcl:5:19: Invalid value for "servers"; list of string required, but have string.`}},
		{name: "volume: missing label", src: inGroup("    volume {\n      type = \"host\"\n    }"),
			want: []string{`e.hcl:3:12: Missing name for volume; All volume blocks must have 1 labels (name).`}},
		{name: "volume: bad type", src: inGroup("    volume \"v\" {\n      type = \"nfs\"\n    }"),
			want: []string{`e.hcl:4:14: Invalid value for "type"; "nfs" is not one of "host", "csi".`}},
		{name: "volume: duplicate label", src: inGroup("    volume \"v\" {}\n    volume \"v\" {}"),
			want: []string{`e.hcl:4:12: Duplicate volume block; Another volume block here is already labelled "v"; labels must be unique.`}},
		{name: "service: tags not a list", src: inGroup("    service {\n      tags = \"web\"\n    }"),
			want: []string{`e.hcl:4:14: Invalid value for "tags"; list of string required, but have string.`}},
		{name: "check: bad interval and type", src: inGroup("    service {\n      check {\n        type = \"ping\"\n        interval = 10\n      }\n    }"),
			want: []string{
				`e.hcl:5:16: Invalid value for "type"; "ping" is not one of "grpc", "http", "script", "tcp".`,
				`e.hcl:6:20: Invalid duration for "interval"; "10" is not a duration`,
			}},
		{name: "check: header values must be lists", src: inGroup("    service {\n      check {\n        header {\n          A = \"b\"\n        }\n      }\n    }"),
			want: []string{`e.hcl:6:15: Invalid value for "A"; list of string required, but have string.`}},
		{name: "connect: unknown block in proxy", src: inGroup("    service {\n      connect {\n        sidecar_service {\n          proxy {\n            upstream {}\n          }\n        }\n      }\n    }"),
			want: []string{`e.hcl:7:13: Unsupported block type; Blocks of type "upstream" are not expected here. Did you mean "upstreams"?`}},
		{name: "connect: duplicate sidecar_service", src: inGroup("    service {\n      connect {\n        sidecar_service {}\n        sidecar_service {}\n      }\n    }"),
			want: []string{`e.hcl:6:9: Duplicate sidecar_service block; Only one sidecar_service block is allowed in a connect`}},
		{name: "disconnect: bad reconcile", src: inGroup("    disconnect {\n      reconcile = \"newest\"\n    }"),
			want: []string{`e.hcl:4:19: Invalid value for "reconcile"; "newest" is not one of "keep_original", "keep_replacement", "best_score", "longest_running".`}},
		{name: "scaling: min not a number", src: inGroup("    scaling {\n      min = \"one\"\n    }"),
			want: []string{`e.hcl:4:13: Invalid value for "min"; a number is required.`}},
		{name: "reschedule: bad delay_function", src: inGroup("    reschedule {\n      delay_function = \"linear\"\n    }"),
			want: []string{`e.hcl:4:24: Invalid value for "delay_function"; "linear" is not one of "constant", "exponential", "fibonacci".`}},
		{name: "group: bad max_client_disconnect", src: inGroup("    max_client_disconnect = \"1 hour\""),
			want: []string{`e.hcl:3:29: Invalid duration for "max_client_disconnect"; "1 hour" is not a duration`}},
		{name: "lifecycle: missing hook", src: inTask("      lifecycle {\n        sidecar = true\n      }"),
			want: []string{`e.hcl:4:17: Missing required argument; The argument "hook" is required, but no definition was found.`}},
		{name: "lifecycle: bad hook", src: inTask("      lifecycle {\n        hook = \"prestop\"\n      }"),
			want: []string{`e.hcl:5:16: Invalid value for "hook"; "prestop" is not one of "prestart", "poststart", "poststop".`}},
		{name: "template: bad splay and change_mode", src: inTask("      template {\n        splay = \"x\"\n        change_mode = \"reload\"\n      }"),
			want: []string{
				`e.hcl:5:17: Invalid duration for "splay"`,
				`e.hcl:6:23: Invalid value for "change_mode"; "reload" is not one of "noop", "restart", "signal", "script".`,
			}},
		{name: "template: change_script without command", src: inTask("      template {\n        change_script {}\n      }"),
			want: []string{`e.hcl:5:23: Missing required argument; The argument "command" is required, but no definition was found.`}},
		{name: "template: duplicate wait", src: inTask("      template {\n        wait {}\n        wait {}\n      }"),
			want: []string{`e.hcl:6:9: Duplicate wait block; Only one wait block is allowed in a template; another was defined at line 5.`}},
		{name: "artifact: options of wrong type", src: inTask("      artifact {\n        options = [\"a\"]\n      }"),
			want: []string{`e.hcl:5:19: Invalid value for "options"; map of string required.`}},
		{name: "artifact: bad mode", src: inTask("      artifact {\n        mode = \"tar\"\n      }"),
			want: []string{`e.hcl:5:16: Invalid value for "mode"; "tar" is not one of "any", "file", "dir".`}},
		{name: "resources: device count negative", src: inTask("      resources {\n        device \"gpu\" {\n          count = -1\n        }\n      }"),
			want: []string{`e.hcl:6:19: Invalid value for "count"; a whole number from 0 to 18446744073709551615 is required.`}},
		{name: "resources: device without label", src: inTask("      resources {\n        device {}\n      }"),
			want: []string{`e.hcl:5:16: Missing name for device; All device blocks must have 1 labels (name).`}},
		{name: "resources: bad numa affinity", src: inTask("      resources {\n        numa {\n          affinity = \"always\"\n        }\n      }"),
			want: []string{`e.hcl:6:22: Invalid value for "affinity"; "always" is not one of "none", "prefer", "require".`}},
		{name: "vault: policies wrong type", src: inTask("      vault {\n        policies = \"a\"\n      }"),
			want: []string{`e.hcl:5:20: Invalid value for "policies"; list of string required, but have string.`}},
		{name: "vault: duplicate", src: inTask("      vault {}\n      vault {}"),
			want: []string{`e.hcl:5:7: Duplicate vault block; Only one vault block is allowed in a task; another was defined at line 4.`}},
		{name: "identity: bad ttl", src: inTask("      identity {\n        ttl = \"forever\"\n      }"),
			want: []string{`e.hcl:5:15: Invalid duration for "ttl"; "forever" is not a duration`}},
		{name: "consul: unknown argument", src: inTask("      consul {\n        token = \"x\"\n      }"),
			want: []string{`e.hcl:5:9: Unsupported argument; An argument named "token" is not expected here.`}},
		{name: "volume_mount: bad propagation", src: inTask("      volume_mount {\n        propagation_mode = \"shared\"\n      }"),
			want: []string{`e.hcl:5:28: Invalid value for "propagation_mode"; "shared" is not one of "private", "host-to-task", "bidirectional".`}},
		{name: "csi_plugin: bad type and timeout", src: inTask("      csi_plugin {\n        type = \"both\"\n        health_timeout = \"long\"\n      }"),
			want: []string{
				`e.hcl:5:16: Invalid value for "type"; "both" is not one of "controller", "node", "monolith".`,
				`e.hcl:6:26: Invalid duration for "health_timeout"`,
			}},
		{name: "action: missing label", src: inTask("      action {\n        command = \"x\"\n      }"),
			want: []string{`e.hcl:4:14: Missing name for action; All action blocks must have 1 labels (name).`}},
		{name: "action: duplicate name", src: inTask("      action \"a\" {\n        command = \"x\"\n      }\n      action \"a\" {\n        command = \"y\"\n      }"),
			want: []string{`e.hcl:7:14: Duplicate action block; Another action block here is already labelled "a"; labels must be unique.`}},
		{name: "task scaling: bad label", src: inTask("      scaling \"disk\" {}"),
			want: []string{`e.hcl:4:15: Invalid scaling block; A task's scaling block is labelled "cpu" or "mem", not "disk".`}},
		{name: "dispatch_payload: file wrong type", src: inTask("      dispatch_payload {\n        file = [\"a\"]\n      }"),
			want: []string{`e.hcl:5:16: Invalid value for "file"; string required, but have tuple.`}},
		{name: "secret: config is free-form but env is a map", src: inTask("      secret \"s\" {\n        env = \"x\"\n      }"),
			want: []string{`e.hcl:5:15: Invalid value for "env"; map of string required, but have string.`}},
	}
}()
