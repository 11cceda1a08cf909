// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/bench/simnode"
)

// Allocation size of every benchmark task: with simnode.NodeShape
// (64,000 MHz) a node holds 220 of them, so 5,000 nodes hold 1,100,000:
// C1M fits with 10% to spare and binpacking cannot pile everything on a
// few nodes.
const (
	taskCPU      = 64_000 / 220
	taskMemoryMB = 256
	taskDiskMB   = 150
)

// racks is the number of distinct meta.rack values over the nodes.
const racks = 25

// scenario is one benchmark: a cluster size and the jobs submitted to it.
type scenario struct {
	name  string
	about string
	nodes int
	// jobs builds the jobs to submit at the given scale (1 = the issue's
	// sizes) and says how many allocations must end up running.
	jobs func(scale float64, nodes int) (jobs []*api.Job, want int)
}

// scenarios are issue 5's, in the order `make bench` runs them.
var scenarios = []scenario{
	{
		name: "service10k", about: "5,000 nodes; one service job with count 10,000", nodes: 5000,
		jobs: func(scale float64, _ int) ([]*api.Job, int) {
			n := scaled(10_000, scale)
			return []*api.Job{serviceJob("service10k", n)}, n
		},
	},
	{
		name: "c1m", about: "5,000 nodes; 1,000 service jobs x 1,000 allocations, submitted as fast as the API accepts them", nodes: 5000,
		jobs: func(scale float64, _ int) ([]*api.Job, int) {
			jobs, per := scaled(1000, scale), scaled(1000, scale)
			out := make([]*api.Job, jobs)
			for i := range out {
				out[i] = serviceJob(fmt.Sprintf("c1m-%04d", i), per)
			}
			return out, jobs * per
		},
	},
	{
		name: "system5k", about: "a system job on 5,000 nodes", nodes: 5000,
		jobs: func(_ float64, nodes int) ([]*api.Job, int) {
			return []*api.Job{systemJob("system5k")}, nodes
		},
	},
	{
		name: "spread10k", about: "service10k with a spread over racks and two constraints", nodes: 5000,
		jobs: func(scale float64, _ int) ([]*api.Job, int) {
			n := scaled(10_000, scale)
			job := serviceJob("spread10k", n)
			job.AddSpread(api.NewSpread("${meta.rack}", 100, nil))
			job.Constrain(api.NewConstraint("${attr.kernel.name}", "=", "linux"))
			job.Constrain(api.NewConstraint("${meta.rack}", "set_contains_any", firstHalfRacks()))
			return []*api.Job{job}, n
		},
	},
}

func findScenario(name string) (scenario, error) {
	var names []string
	for _, s := range scenarios {
		if s.name == name {
			return s, nil
		}
		names = append(names, s.name)
	}
	sort.Strings(names)
	return scenario{}, fmt.Errorf("unknown scenario %q: choose one of %s, or all", name, strings.Join(names, ", "))
}

// scaled is n*scale, at least 1.
func scaled(n int, scale float64) int {
	return max(1, int(float64(n)*scale+0.5))
}

// firstHalfRacks is the rack list of the spread scenario's constraint.
func firstHalfRacks() string {
	names := make([]string, racks/2+1)
	for i := range names {
		names[i] = fmt.Sprintf("r%d", i)
	}
	return strings.Join(names, ",")
}

// task is the benchmark's task: a sleep the simulated clients never
// start, on the one driver they advertise.
func task() *api.Task {
	cpu, mem := taskCPU, taskMemoryMB
	return api.NewTask("app", simnode.Driver).
		SetConfig("command", "/bin/sleep").
		SetConfig("args", []string{"3600"}).
		Require(&api.Resources{CPU: &cpu, MemoryMB: &mem})
}

func group(count int) *api.TaskGroup {
	disk := taskDiskMB
	return api.NewTaskGroup("app", count).
		RequireDisk(&api.EphemeralDisk{SizeMB: &disk}).
		AddTask(task())
}

func serviceJob(id string, count int) *api.Job {
	job := api.NewServiceJob(id, id, "global", 50)
	job.Datacenters = []string{"dc1"}
	return job.AddTaskGroup(group(count))
}

func systemJob(id string) *api.Job {
	job := api.NewSystemJob(id, id, "global", 50)
	job.Datacenters = []string{"dc1"}
	return job.AddTaskGroup(group(1))
}
