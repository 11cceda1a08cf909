// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/structs"
)

func planJob(count int) *nomad.Job {
	job := nomad.NewServiceJob("web", "web", "global", 50)
	job.Datacenters = []string{"dc1"}
	task := nomad.NewTask("t", "raw_exec").SetConfig("command", "/bin/sleep").SetConfig("args", []string{"60"})
	task.Resources = &nomad.Resources{CPU: new(500), MemoryMB: new(128)}
	job.AddTaskGroup(nomad.NewTaskGroup("g", count).AddTask(task))
	return job
}

// The official client's Plan and EnforceRegister work unchanged: a plan
// shows the diff and the scheduler's decisions without writing anything,
// and its JobModifyIndex guards the registration that follows.
func TestJobPlanAndCheckIndexWithOfficialClient(t *testing.T) {
	a, base := testServerAgent(t)
	// A node that never runs anything: placements stay pending, which is
	// all the scheduler needs. 2000 MHz hold four allocations.
	node := &structs.Node{
		ID: structs.GenerateUUID(), SecretID: structs.GenerateUUID(), Name: "n1", Datacenter: "dc1",
		Attributes:    map[string]string{"kernel.name": "linux"},
		Drivers:       map[string]*structs.DriverInfo{"raw_exec": {Detected: true, Healthy: true}},
		NodeResources: &structs.NodeResources{Cpu: structs.NodeCpuResources{CpuShares: 2000}, Memory: structs.NodeMemoryResources{MemoryMB: 4096}, Disk: structs.NodeDiskResources{DiskMB: 10000}},
	}
	registerNode(t, a, node)
	client := officialClient(t, base)
	jobs := client.Jobs()

	before := a.server.State().LatestIndex()
	plan, _, err := jobs.Plan(planJob(1), true, nil)
	if err != nil {
		t.Fatalf("plan new job: %v", err)
	}
	if plan.JobModifyIndex != 0 || plan.Diff == nil || plan.Diff.Type != "Added" || len(plan.FailedTGAllocs) != 0 {
		t.Fatalf("plan of a new job: %+v", plan)
	}
	if du := plan.Annotations.DesiredTGUpdates["g"]; du == nil || du.Place != 1 {
		t.Fatalf("desired updates: %+v", plan.Annotations.DesiredTGUpdates)
	}
	tg := plan.Diff.TaskGroups[0]
	if tg.Name != "g" || tg.Updates["create"] != 1 || tg.Tasks[0].Annotations[0] != "forces create" {
		t.Fatalf("group diff: %+v", tg)
	}
	if after := a.server.State().LatestIndex(); after != before {
		t.Fatalf("plan wrote state: index %d -> %d", before, after)
	}
	if list, _, err := jobs.List(nil); err != nil || len(list) != 0 {
		t.Fatalf("jobs after plan: %v %v", list, err)
	}

	// -check-index 0: only while the job does not exist.
	if _, _, err := jobs.EnforceRegister(planJob(1), 0, nil); err != nil {
		t.Fatalf("register with index 0: %v", err)
	}
	_, _, err = jobs.EnforceRegister(planJob(1), 0, nil)
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "Enforcing job modify index 0: job already exists") {
		t.Fatalf("second register with index 0: %v", err)
	}

	waitFor(t, 10*time.Second, func() bool {
		allocs, _, err := jobs.Allocations("web", false, nil)
		return err == nil && len(allocs) == 1
	})

	plan, _, err = jobs.Plan(planJob(6), true, nil)
	if err != nil {
		t.Fatalf("plan scale up: %v", err)
	}
	stored, _, err := jobs.Info("web", nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.JobModifyIndex != *stored.JobModifyIndex || plan.Diff.Type != "Edited" {
		t.Fatalf("plan of an update: index %d (stored %d), diff %s", plan.JobModifyIndex, *stored.JobModifyIndex, plan.Diff.Type)
	}
	var count *nomad.FieldDiff
	for _, f := range plan.Diff.TaskGroups[0].Fields {
		if f.Name == "Count" {
			count = f
		}
	}
	if count == nil || count.Type != "Edited" || count.Old != "1" || count.New != "6" || count.Annotations[0] != "forces create" {
		t.Fatalf("count diff: %+v", count)
	}
	if du := plan.Annotations.DesiredTGUpdates["g"]; du.Place != 5 || du.InPlaceUpdate != 1 {
		t.Fatalf("desired updates of scale up: %+v", du)
	}
	// Six do not fit in 2000 MHz: two placements fail, and say why.
	if m := plan.FailedTGAllocs["g"]; m == nil || m.NodesExhausted == 0 || m.CoalescedFailures != 1 {
		t.Fatalf("failed allocs: %+v", plan.FailedTGAllocs)
	}

	_, _, err = jobs.EnforceRegister(planJob(3), plan.JobModifyIndex+100, nil)
	if err == nil || !strings.Contains(err.Error(), "job exists with conflicting job modify index: ") {
		t.Fatalf("register with a stale index: %v", err)
	}
	if _, _, err := jobs.EnforceRegister(planJob(3), plan.JobModifyIndex, nil); err != nil {
		t.Fatalf("register with the planned index: %v", err)
	}
}

func TestJobPlanErrors(t *testing.T) {
	_, base := testServerAgent(t)
	tests := []struct {
		name, path, body string
		code             int
		contains         string
	}{
		{"bad body", "/v1/job/web/plan", "{", 400, "decode job plan request"},
		{"no job", "/v1/job/web/plan", "{}", 400, "has no Job"},
		{"id mismatch", "/v1/job/other/plan", jobBody, 400, "does not match"},
		{"invalid job", "/v1/job/x/plan", `{"Job": {"ID": "x", "Type": "service", "Datacenters": ["dc1"], "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t"}]}]}}`, 400, "Missing driver"},
		{"unknown node pool", "/v1/job/p/plan", jobInPool("p", "nowhere", ""), 400, "nonexistent node pool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, "PUT", base+tt.path, tt.body)
			if r.code != tt.code || !strings.Contains(r.body, tt.contains) {
				t.Fatalf("PUT %s = %d %q, want %d containing %q", tt.path, r.code, r.body, tt.code, tt.contains)
			}
		})
	}
}
