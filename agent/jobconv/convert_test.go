// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobconv

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/structs"
	nomad "github.com/hashicorp/nomad/api"
)

// minimalJob is the smallest job a user submits: everything else defaults.
func minimalJob(typ string) *api.Job {
	j := &api.Job{
		ID:          api.Ptr("web"),
		Datacenters: []string{"dc1"},
		TaskGroups: []*api.TaskGroup{{
			Name:  api.Ptr("app"),
			Tasks: []*api.Task{{Name: "server", Driver: "raw_exec"}},
		}},
	}
	if typ != "" {
		j.Type = api.Ptr(typ)
	}
	return j
}

// defaultTask is what minimalJob's task becomes under policy rp.
func defaultTask(rp *structs.RestartPolicy) *structs.Task {
	return &structs.Task{
		Name:          "server",
		Driver:        "raw_exec",
		Resources:     &structs.Resources{CPU: 100, MemoryMB: 300},
		RestartPolicy: rp,
		KillTimeout:   5 * time.Second,
		LogConfig:     &structs.LogConfig{MaxFiles: 10, MaxFileSizeMB: 10},
	}
}

func defaultJob(typ string, rp func() *structs.RestartPolicy) *structs.Job {
	return &structs.Job{
		ID:          "web",
		Name:        "web",
		Namespace:   "default",
		Region:      "global",
		Type:        typ,
		Priority:    50,
		Datacenters: []string{"dc1"},
		TaskGroups: []*structs.TaskGroup{{
			Name:          "app",
			Count:         1,
			RestartPolicy: rp(),
			EphemeralDisk: &structs.EphemeralDisk{SizeMB: 300},
			Tasks:         []*structs.Task{defaultTask(rp())},
		}},
	}
}

// fullJob sets every field Drover supports.
func fullJob() *api.Job {
	return &api.Job{
		Region:            api.Ptr("eu"),
		Namespace:         api.Ptr("team"),
		ID:                api.Ptr("etl"),
		Name:              api.Ptr("nightly-etl"),
		Type:              api.Ptr("batch"),
		Priority:          api.Ptr(70),
		AllAtOnce:         api.Ptr(true),
		Datacenters:       []string{"dc1", "dc2"},
		NodePool:          api.Ptr("gpu"),
		Constraints:       []*api.Constraint{{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "="}},
		Meta:              map[string]string{"owner": "data"},
		Stop:              api.Ptr(false),
		ParentID:          api.Ptr("parent"),
		Status:            api.Ptr("pending"),
		StatusDescription: api.Ptr("waiting"),
		Stable:            api.Ptr(true),
		Version:           api.Ptr(uint64(3)),
		SubmitTime:        api.Ptr(int64(1700000000)),
		CreateIndex:       api.Ptr(uint64(10)),
		ModifyIndex:       api.Ptr(uint64(12)),
		JobModifyIndex:    api.Ptr(uint64(11)),
		TaskGroups: []*api.TaskGroup{{
			Name:        api.Ptr("extract"),
			Count:       api.Ptr(0),
			Constraints: []*api.Constraint{{Operand: "distinct_hosts", RTarget: "true"}},
			RestartPolicy: &api.RestartPolicy{
				Attempts: api.Ptr(1),
				Interval: api.Ptr(time.Hour),
				Delay:    api.Ptr(time.Minute),
				Mode:     api.Ptr("delay"),
			},
			EphemeralDisk: &api.EphemeralDisk{Sticky: api.Ptr(true), Migrate: api.Ptr(true), SizeMB: api.Ptr(1000)},
			Meta:          map[string]string{"tier": "1"},
			Tasks: []*api.Task{
				{
					Name:   "pull",
					Driver: "exec",
					User:   "nobody",
					Config: map[string]any{"command": "/bin/pull", "args": []any{"-v"}, "retries": 3},
					Env:    map[string]string{"MODE": "full"},
					Constraints: []*api.Constraint{
						{LTarget: "${attr.cpu.arch}", RTarget: "amd64|arm64", Operand: "regexp"},
					},
					Resources: &api.Resources{
						CPU: api.Ptr(500), MemoryMB: api.Ptr(256), MemoryMaxMB: api.Ptr(512), DiskMB: api.Ptr(50),
					},
					// Only attempts: the rest merges from the group.
					RestartPolicy: &api.RestartPolicy{Attempts: api.Ptr(4)},
					Meta:          map[string]string{"step": "1"},
					KillTimeout:   api.Ptr(30 * time.Second),
					KillSignal:    "SIGTERM",
					LogConfig:     &api.LogConfig{MaxFiles: api.Ptr(3), MaxFileSizeMB: api.Ptr(20), Disabled: api.Ptr(true)},
					Leader:        true,
				},
				{
					Name:      "crunch",
					Driver:    "exec",
					Resources: &api.Resources{Cores: api.Ptr(2), MemoryMB: api.Ptr(1024)},
					// Deprecated form of Disabled=true.
					LogConfig: &api.LogConfig{Enabled: api.Ptr(false)},
				},
			},
		}},
	}
}

func fullJobWant() *structs.Job {
	groupRP := &structs.RestartPolicy{Attempts: 1, Interval: time.Hour, Delay: time.Minute, Mode: "delay"}
	return &structs.Job{
		Region:            "eu",
		Namespace:         "team",
		ID:                "etl",
		Name:              "nightly-etl",
		Type:              "batch",
		Priority:          70,
		AllAtOnce:         true,
		Datacenters:       []string{"dc1", "dc2"},
		NodePool:          "gpu",
		Constraints:       []*structs.Constraint{{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "="}},
		Meta:              map[string]string{"owner": "data"},
		ParentID:          "parent",
		Status:            "pending",
		StatusDescription: "waiting",
		Stable:            true,
		Version:           3,
		SubmitTime:        1700000000,
		CreateIndex:       10,
		ModifyIndex:       12,
		JobModifyIndex:    11,
		TaskGroups: []*structs.TaskGroup{{
			Name:          "extract",
			Count:         0,
			Constraints:   []*structs.Constraint{{Operand: "distinct_hosts", RTarget: "true"}},
			RestartPolicy: groupRP,
			EphemeralDisk: &structs.EphemeralDisk{Sticky: true, Migrate: true, SizeMB: 1000},
			Meta:          map[string]string{"tier": "1"},
			Tasks: []*structs.Task{
				{
					Name:        "pull",
					Driver:      "exec",
					User:        "nobody",
					Config:      map[string]any{"command": "/bin/pull", "args": []any{"-v"}, "retries": 3},
					Env:         map[string]string{"MODE": "full"},
					Constraints: []*structs.Constraint{{LTarget: "${attr.cpu.arch}", RTarget: "amd64|arm64", Operand: "regexp"}},
					Resources:   &structs.Resources{CPU: 500, MemoryMB: 256, MemoryMaxMB: 512, DiskMB: 50},
					RestartPolicy: &structs.RestartPolicy{
						Attempts: 4, Interval: time.Hour, Delay: time.Minute, Mode: "delay",
					},
					Meta:        map[string]string{"step": "1"},
					KillTimeout: 30 * time.Second,
					KillSignal:  "SIGTERM",
					LogConfig:   &structs.LogConfig{MaxFiles: 3, MaxFileSizeMB: 20, Disabled: true},
					Leader:      true,
				},
				{
					Name:          "crunch",
					Driver:        "exec",
					Resources:     &structs.Resources{Cores: 2, MemoryMB: 1024},
					RestartPolicy: &structs.RestartPolicy{Attempts: 1, Interval: time.Hour, Delay: time.Minute, Mode: "delay"},
					KillTimeout:   5 * time.Second,
					LogConfig:     &structs.LogConfig{MaxFiles: 10, MaxFileSizeMB: 10, Disabled: true},
				},
			},
		}},
	}
}

func TestAPIJobToStructs(t *testing.T) {
	cases := []struct {
		name string
		in   *api.Job
		want *structs.Job
	}{
		{"service defaults", minimalJob(""), defaultJob("service", structs.DefaultServiceRestartPolicy)},
		{"batch defaults", minimalJob("batch"), defaultJob("batch", structs.DefaultBatchRestartPolicy)},
		{"every supported field", fullJob(), fullJobWant()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := APIJobToStructs(tc.in)
			if err != nil {
				t.Fatalf("APIJobToStructs: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(tc.want, "", " ")
				t.Fatalf("got\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestAPIJobToStructsLeavesInputAlone(t *testing.T) {
	in := fullJob()
	before, _ := json.Marshal(in)
	if _, err := APIJobToStructs(in); err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(in)
	if string(before) != string(after) {
		t.Fatalf("input changed:\nbefore %s\nafter  %s", before, after)
	}
	// Config values keep their Go types (the JSON copy would make floats).
	got, _ := APIJobToStructs(in)
	if v := got.TaskGroups[0].Tasks[0].Config["retries"]; v != 3 {
		t.Fatalf("Config retries = %#v, want int 3", v)
	}
}

func TestAPIJobToStructsUnsupported(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(j *api.Job)
		want   []string
	}{
		{"group network", func(j *api.Job) {
			j.TaskGroups[0].Networks = []*api.NetworkResource{{Mode: "bridge"}}
		}, []string{"TaskGroups[0].Networks"}},
		{"task service and template", func(j *api.Job) {
			j.TaskGroups[0].Tasks[0].Services = []*nomad.Service{{Name: "web"}}
			j.TaskGroups[0].Tasks[0].Templates = []*nomad.Template{{EmbeddedTmpl: api.Ptr("x")}}
		}, []string{"TaskGroups[0].Tasks[0].Services", "TaskGroups[0].Tasks[0].Templates"}},
		{"periodic job", func(j *api.Job) {
			j.Type = api.Ptr("batch")
			j.Periodic = &nomad.PeriodicConfig{Spec: api.Ptr("@daily")}
		}, []string{"Periodic"}},
		{"non-default update", func(j *api.Job) {
			j.Update = &nomad.UpdateStrategy{MaxParallel: api.Ptr(3)}
		}, []string{"Update", "TaskGroups[0].Update"}},
		{"render templates", func(j *api.Job) {
			j.TaskGroups[0].RestartPolicy = &api.RestartPolicy{RenderTemplates: api.Ptr(true)}
		}, []string{"TaskGroups[0].RestartPolicy.RenderTemplates", "TaskGroups[0].Tasks[0].RestartPolicy.RenderTemplates"}},
		{"task resources", func(j *api.Job) {
			j.TaskGroups[0].Tasks[0].Resources = &api.Resources{Devices: []*nomad.RequestedDevice{{Name: "nvidia/gpu"}}}
		}, []string{"TaskGroups[0].Tasks[0].Resources.Devices"}},
		{"unset and default values pass", func(j *api.Job) {
			j.Update = nomad.DefaultUpdateStrategy()
			j.Affinities = []*nomad.Affinity{}
			j.TaskGroups[0].Services = []*nomad.Service{}
			j.TaskGroups[0].Migrate = &nomad.MigrateStrategy{}
		}, nil},
		{"already canonical input passes", func(j *api.Job) { j.Canonicalize() }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := minimalJob("")
			tc.mutate(in)
			got, err := APIJobToStructs(in)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got == nil {
					t.Fatal("nil job without error")
				}
				return
			}
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("error = %v, want *UnsupportedError", err)
			}
			if !slices.Equal(ue.Paths, tc.want) {
				t.Fatalf("paths = %q, want %q", ue.Paths, tc.want)
			}
			for _, p := range tc.want {
				if !strings.Contains(err.Error(), p+": not supported by Drover yet") {
					t.Fatalf("message %q does not name %s", err, p)
				}
			}
		})
	}
}

func TestAPIJobToStructsNulls(t *testing.T) {
	if _, err := APIJobToStructs(nil); err == nil {
		t.Fatal("nil job: no error")
	}
	j := minimalJob("")
	j.TaskGroups = append(j.TaskGroups, nil)
	j.TaskGroups[0].Tasks = append(j.TaskGroups[0].Tasks, nil)
	_, err := APIJobToStructs(j)
	if err == nil || !strings.Contains(err.Error(), "TaskGroups[1]: null entry") ||
		!strings.Contains(err.Error(), "TaskGroups[0].Tasks[1]: null entry") {
		t.Fatalf("error = %v", err)
	}
}

// TestFieldsClassified makes every field of the wire types either converted
// or refused, so a nomad/api upgrade that adds one fails here first.
func TestFieldsClassified(t *testing.T) {
	cases := []struct {
		typ               any
		supported, refuse []string
	}{
		{api.Job{}, jobSupported, jobUnsupported},
		{api.TaskGroup{}, groupSupported, groupUnsupported},
		{api.Task{}, taskSupported, taskUnsupported},
		{api.Resources{}, resourcesSupported, resourcesUnsupported},
		{api.RestartPolicy{}, restartSupported, restartUnsupported},
	}
	for _, tc := range cases {
		rt := reflect.TypeOf(tc.typ)
		listed := map[string]int{}
		for _, n := range append(slices.Clone(tc.supported), tc.refuse...) {
			listed[n]++
			if _, ok := rt.FieldByName(n); !ok {
				t.Errorf("%s has no field %s", rt.Name(), n)
			}
		}
		for i := range rt.NumField() {
			n := rt.Field(i).Name
			if listed[n] != 1 {
				t.Errorf("%s.%s listed %d times, want once", rt.Name(), n, listed[n])
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, in := range []*api.Job{minimalJob(""), minimalJob("batch"), fullJob()} {
		first, err := APIJobToStructs(in)
		if err != nil {
			t.Fatal(err)
		}
		second, err := APIJobToStructs(StructsJobToAPI(first))
		if err != nil {
			t.Fatalf("convert back: %v", err)
		}
		if !reflect.DeepEqual(first, second) {
			t.Fatalf("round trip changed job %s", first.ID)
		}
	}
}

// TestConvertedJobsValidate runs the register path: convert, server
// defaults, validation.
func TestConvertedJobsValidate(t *testing.T) {
	for _, in := range []*api.Job{minimalJob(""), minimalJob("batch"), fullJob()} {
		j, err := APIJobToStructs(in)
		if err != nil {
			t.Fatal(err)
		}
		j.Canonicalize()
		if err := j.Validate(); err != nil {
			t.Fatalf("job %s: %v", j.ID, err)
		}
	}
	j, err := APIJobToStructs(minimalJob("system"))
	if err != nil {
		t.Fatal(err)
	}
	j.Canonicalize()
	if err := j.Validate(); err == nil || !strings.Contains(err.Error(), `job type "system" is not supported by Drover yet`) {
		t.Fatalf("system job: %v", err)
	}
}
