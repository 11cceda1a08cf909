// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import "testing"

// TestNodePool checks client { node_pool }: any pool but the built-in
// "all" (which only jobs may name) is taken, in HCL and JSON.
func TestNodePool(t *testing.T) {
	cases := []struct {
		name, file, src string
		want            string // the pool read
		wantErr         string
	}{
		{"own pool", "a.hcl", "client {\n  node_pool = \"gpu\"\n}\n", "gpu", ""},
		{"default pool", "a.hcl", "client {\n  node_pool = \"default\"\n}\n", "default", ""},
		{"all refused", "a.hcl", "client {\n  node_pool = \"all\"\n}\n", "",
			`a.hcl:2:15: Invalid value for "node_pool"; node pool "all" is reserved: it holds every node and only jobs may name it, nodes may not join it; use "default" or a pool of your own.`},
		{"all refused in json", "a.json", "{\"client\": {\"node_pool\": \"all\"}}", "",
			`a.json:1:26: Invalid value for "node_pool"; node pool "all" is reserved: it holds every node and only jobs may name it, nodes may not join it; use "default" or a pool of your own.`},
		{"not a string", "a.hcl", "client { node_pool = [\"a\"] }", "",
			`a.hcl:1:22: Invalid value for "node_pool"; a string is required.`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.file, []byte(tc.src))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error:\n%v\nwant:\n%s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Client.NodePool != tc.want {
				t.Fatalf("node_pool = %q, want %q", c.Client.NodePool, tc.want)
			}
		})
	}
}
