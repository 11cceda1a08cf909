// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskenv

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/droverhq/drover/structs"
)

func testFixture() (*structs.Node, *structs.Allocation, *structs.Task) {
	node := &structs.Node{
		ID:         "node-1",
		Name:       "host-a",
		Datacenter: "dc1",
		NodeClass:  "big",
		NodePool:   "default",
		Attributes: map[string]string{"kernel.name": "linux", "driver.raw_exec": "1"},
		Meta:       map[string]string{"rack": "r7"},
	}
	task := &structs.Task{
		Name:      "web",
		Driver:    "raw_exec",
		Resources: &structs.Resources{CPU: 100, MemoryMB: 64},
		Meta:      map[string]string{"owner": "task-team"},
		Env: map[string]string{
			"GREETING": "hi ${NOMAD_TASK_NAME} on ${attr.kernel.name}",
			"RACK":     "${meta.rack}",
			"WHERE":    "${node.datacenter}/${node.unique.name}/${node.class}/${node.pool}/${node.region}",
			"VIA_ENV":  `${env["NOMAD_ALLOC_INDEX"]}`,
			"UNKNOWN":  "${attr.nope} ${NOPE}",
			"SELF":     "${GREETING}",
		},
	}
	job := &structs.Job{
		ID: "example", Name: "example-name", ParentID: "parent", Namespace: "default", Region: "global",
		Meta: map[string]string{"owner": "job-team", "Tier": "gold"},
		TaskGroups: []*structs.TaskGroup{{
			Name: "cache", Tasks: []*structs.Task{task}, Meta: map[string]string{"group_key": "g"},
		}},
	}
	alloc := &structs.Allocation{
		ID:        "0123456789abcdef",
		Name:      "example.cache[3]",
		Namespace: "default",
		TaskGroup: "cache",
		Job:       job,
		AllocatedResources: &structs.AllocatedResources{Tasks: map[string]*structs.AllocatedTaskResources{
			"web": {Cpu: structs.AllocatedCpuResources{CpuShares: 250}, Memory: structs.AllocatedMemoryResources{MemoryMB: 128, MemoryMaxMB: 256}},
		}},
	}
	return node, alloc, task
}

func TestBuild(t *testing.T) {
	node, alloc, task := testFixture()
	env := NewBuilder(node, alloc, task).
		SetHostEnv(FilterHostEnv([]string{"PATH=/bin", "VAULT_TOKEN=secret", "NOMAD_TASK_NAME=host"}, DefaultEnvDenylist)).
		SetDirs("/a/alloc", "/a/web/local", "/a/web/secrets").
		Build()

	cases := []struct{ name, want string }{
		{"NOMAD_ALLOC_DIR", "/a/alloc"},
		{"NOMAD_TASK_DIR", "/a/web/local"},
		{"NOMAD_SECRETS_DIR", "/a/web/secrets"},
		{"NOMAD_ALLOC_ID", "0123456789abcdef"},
		{"NOMAD_SHORT_ALLOC_ID", "01234567"},
		{"NOMAD_ALLOC_NAME", "example.cache[3]"},
		{"NOMAD_ALLOC_INDEX", "3"},
		{"NOMAD_GROUP_NAME", "cache"},
		{"NOMAD_TASK_NAME", "web"}, // NOMAD_* wins over the host's
		{"NOMAD_JOB_ID", "example"},
		{"NOMAD_JOB_NAME", "example-name"},
		{"NOMAD_JOB_PARENT_ID", "parent"},
		{"NOMAD_NAMESPACE", "default"},
		{"NOMAD_REGION", "global"},
		{"NOMAD_DC", "dc1"},
		{"NOMAD_CPU_LIMIT", "250"}, // allocated, not asked
		{"NOMAD_MEMORY_LIMIT", "128"},
		{"NOMAD_MEMORY_MAX_LIMIT", "256"},
		{"NOMAD_META_OWNER", "task-team"}, // task meta beats job meta
		{"NOMAD_META_owner", "task-team"},
		{"NOMAD_META_TIER", "gold"},
		{"NOMAD_META_Tier", "gold"},
		{"NOMAD_META_GROUP_KEY", "g"},
		{"PATH", "/bin"},
		{"GREETING", "hi web on linux"},
		{"RACK", "r7"},
		{"WHERE", "dc1/host-a/big/default/global"},
		{"VIA_ENV", "3"},
		{"UNKNOWN", "${attr.nope} ${NOPE}"},
		{"SELF", "${GREETING}"}, // the env block does not see itself
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := env.Get(c.name)
			if !ok || got != c.want {
				t.Fatalf("%s = %q (set %v), want %q", c.name, got, ok, c.want)
			}
		})
	}
	if _, ok := env.Get("VAULT_TOKEN"); ok {
		t.Fatal("denylisted host variable leaked into the task")
	}
}

func TestBuildWithoutAllocatedResources(t *testing.T) {
	node, alloc, task := testFixture()
	alloc.AllocatedResources = nil
	alloc.Job.ParentID = ""
	env := NewBuilder(node, alloc, task).Build()
	if got, _ := env.Get(CPULimit); got != "100" {
		t.Fatalf("cpu limit = %q, want the task's 100", got)
	}
	if _, ok := env.Get(MemMaxLimit); ok {
		t.Fatal("memory max limit set without memory_max")
	}
	if _, ok := env.Get(JobParentID); ok {
		t.Fatal("parent id set for a job without parent")
	}
}

func TestReplaceEnv(t *testing.T) {
	node, alloc, task := testFixture()
	env := NewBuilder(node, alloc, task).Build()
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"${NOMAD_ALLOC_ID}", "0123456789abcdef"},
		{"${ NOMAD_GROUP_NAME }", "cache"},
		{"a-${attr.driver.raw_exec}-b", "a-1-b"},
		{"${node.unique.id}", "node-1"},
		{`${env["NOMAD_JOB_ID"]}`, "example"},
		{`${env['NOMAD_JOB_ID']}`, "example"},
		{"${missing}", "${missing}"},
		{"unterminated ${NOMAD_JOB_ID", "unterminated ${NOMAD_JOB_ID"},
		{"$${NOMAD_JOB_ID}", "$example"},
		{"${meta.rack}${meta.rack}", "r7r7"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := env.ReplaceEnv(c.in); got != c.want {
				t.Fatalf("ReplaceEnv(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestReplaceConfig(t *testing.T) {
	node, alloc, task := testFixture()
	env := NewBuilder(node, alloc, task).SetDirs("/a/alloc", "/a/web/local", "/a/web/secrets").Build()
	cfg := map[string]any{
		"command": "${NOMAD_TASK_DIR}/run.sh",
		"args":    []any{"--dc", "${node.datacenter}", 3},
		"nested":  []map[string]any{{"path": "${NOMAD_ALLOC_DIR}/data"}},
		"flag":    true,
		"labels":  map[string]any{"${NOMAD_TASK_NAME}": "${attr.kernel.name}"},
	}
	got := env.ReplaceConfig(cfg)
	want := map[string]any{
		"command": "/a/web/local/run.sh",
		"args":    []any{"--dc", "dc1", 3},
		"nested":  []map[string]any{{"path": "/a/alloc/data"}},
		"flag":    true,
		"labels":  map[string]any{"web": "linux"},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("ReplaceConfig:\n got %s\nwant %s", g, w)
	}
	if cfg["command"] != "${NOMAD_TASK_DIR}/run.sh" {
		t.Fatal("ReplaceConfig modified its input")
	}
}
