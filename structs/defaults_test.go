// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"reflect"
	"testing"
	"time"
)

// bareJob has only what a user must say; every default is left to fill.
func bareJob(typ string) *Job {
	return &Job{
		ID:          "web",
		Type:        typ,
		Datacenters: []string{"dc1"},
		Constraints: []*Constraint{{LTarget: "${attr.os.name}", RTarget: "ubuntu"}},
		TaskGroups: []*TaskGroup{{
			Name:  "app",
			Count: 2,
			Tasks: []*Task{{Name: "server", Driver: "raw_exec"}},
		}},
	}
}

func canonicalJob(typ string, rp *RestartPolicy) *Job {
	taskRP := *rp
	j := &Job{
		ID:          "web",
		Name:        "web",
		Namespace:   "default",
		Region:      "global",
		NodePool:    "default",
		Type:        typ,
		Priority:    50,
		Datacenters: []string{"dc1"},
		Constraints: []*Constraint{{LTarget: "${attr.os.name}", RTarget: "ubuntu", Operand: "="}},
		TaskGroups: []*TaskGroup{{
			Name:          "app",
			Count:         2,
			RestartPolicy: rp,
			EphemeralDisk: &EphemeralDisk{SizeMB: 300},
			Tasks: []*Task{{
				Name:          "server",
				Driver:        "raw_exec",
				Resources:     &Resources{CPU: 100, MemoryMB: 300},
				RestartPolicy: &taskRP,
				LogConfig:     &LogConfig{MaxFiles: 10, MaxFileSizeMB: 10},
			}},
		}},
	}
	tg := j.TaskGroups[0]
	tg.ReschedulePolicy = DefaultReschedulePolicy(typ)
	if typ == JobTypeService {
		tg.Update = DefaultUpdateStrategy()
		tg.Migrate = DefaultMigrateStrategy()
	}
	return j
}

func TestCanonicalizeDefaultsPerType(t *testing.T) {
	service := &RestartPolicy{Attempts: 2, Interval: 30 * time.Minute, Delay: 15 * time.Second, Mode: "fail"}
	batch := &RestartPolicy{Attempts: 3, Interval: 24 * time.Hour, Delay: 15 * time.Second, Mode: "fail"}
	cases := []struct {
		name, in, wantType string
		rp                 *RestartPolicy
	}{
		{"empty type is service", "", JobTypeService, service},
		{"service", JobTypeService, JobTypeService, service},
		{"system", JobTypeSystem, JobTypeSystem, service},
		{"batch", JobTypeBatch, JobTypeBatch, batch},
		{"sysbatch", JobTypeSysbatch, JobTypeSysbatch, batch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := bareJob(tc.in)
			j.Canonicalize()
			want := canonicalJob(tc.wantType, tc.rp)
			if !reflect.DeepEqual(j, want) {
				t.Fatalf("got  %+v\nwant %+v", j.TaskGroups[0], want.TaskGroups[0])
			}
			// Idempotent.
			again := j.Copy()
			again.Canonicalize()
			if !reflect.DeepEqual(again, j) {
				t.Fatal("second Canonicalize changed the job")
			}
		})
	}
}

func TestCanonicalizeKeepsUserValues(t *testing.T) {
	groupRP := &RestartPolicy{Attempts: 0, Interval: time.Minute, Delay: 0, Mode: "fail"}
	taskRP := &RestartPolicy{Attempts: 5, Interval: time.Hour, Delay: time.Second, Mode: "delay"}
	j := &Job{
		ID: "a", Name: "named", Namespace: "ns", Region: "eu", NodePool: "pool",
		Type: JobTypeBatch, Priority: 90,
		TaskGroups: []*TaskGroup{{
			Name: "g", Count: 0, RestartPolicy: groupRP,
			EphemeralDisk: &EphemeralDisk{SizeMB: 50, Sticky: true},
			Tasks: []*Task{
				{
					Name: "cores", Resources: &Resources{Cores: 2, MemoryMB: 64},
					RestartPolicy: taskRP, KillTimeout: 0,
					LogConfig: &LogConfig{MaxFiles: 1, MaxFileSizeMB: 2},
				},
				{Name: "inherits"},
			},
		}},
	}
	j.Canonicalize()
	if j.Name != "named" || j.Namespace != "ns" || j.Region != "eu" || j.NodePool != "pool" || j.Priority != 90 {
		t.Fatalf("job fields overwritten: %+v", j)
	}
	tg := j.TaskGroups[0]
	if tg.Count != 0 {
		t.Fatalf("Count = %d, want 0 kept (a scaled-down group)", tg.Count)
	}
	if *tg.RestartPolicy != (RestartPolicy{Interval: time.Minute, Mode: "fail"}) {
		t.Fatalf("group restart policy changed: %+v", tg.RestartPolicy)
	}
	if *tg.EphemeralDisk != (EphemeralDisk{SizeMB: 50, Sticky: true}) {
		t.Fatalf("disk changed: %+v", tg.EphemeralDisk)
	}
	cores := tg.Tasks[0]
	if !reflect.DeepEqual(*cores.Resources, Resources{Cores: 2, MemoryMB: 64}) {
		t.Fatalf("a cores task got a CPU share: %+v", cores.Resources)
	}
	if *cores.RestartPolicy != *taskRP || cores.KillTimeout != 0 || *cores.LogConfig != (LogConfig{MaxFiles: 1, MaxFileSizeMB: 2}) {
		t.Fatalf("task values changed: %+v", cores)
	}
	inh := tg.Tasks[1]
	if *inh.RestartPolicy != *tg.RestartPolicy {
		t.Fatalf("task did not inherit the group policy: %+v", inh.RestartPolicy)
	}
	if inh.RestartPolicy == tg.RestartPolicy {
		t.Fatal("task shares the group's policy object")
	}
}

func TestCanonicalizeNil(t *testing.T) {
	var j *Job
	j.Canonicalize() // must not panic
	j = &Job{ID: "x", TaskGroups: []*TaskGroup{nil, {Name: "g", Tasks: []*Task{nil}}}, Constraints: []*Constraint{nil}}
	j.Canonicalize()
	if j.TaskGroups[1].RestartPolicy == nil {
		t.Fatal("group after a nil group not canonicalised")
	}
}
