// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package clienttest

import (
	"time"

	"github.com/droverhq/drover/structs"
)

// FastRestarts is a restart policy that keeps tests quick: two restarts,
// 10 ms apart, then fail.
var FastRestarts = &structs.RestartPolicy{
	Attempts: 2, Interval: time.Minute, Delay: 10 * time.Millisecond, Mode: structs.RestartPolicyModeFail,
}

// Alloc returns an allocation of a one-group job of the given type, with a
// task per config, each run by the mock driver. Tasks are named "t0",
// "t1", ...; the group restarts per FastRestarts.
func Alloc(jobType string, configs ...map[string]any) *structs.Allocation {
	tg := &structs.TaskGroup{Name: "group", Count: 1, RestartPolicy: FastRestarts}
	for i, cfg := range configs {
		tg.Tasks = append(tg.Tasks, &structs.Task{
			Name:        "t" + string(rune('0'+i)),
			Driver:      DriverName,
			Config:      cfg,
			Resources:   &structs.Resources{CPU: 100, MemoryMB: 32},
			KillTimeout: time.Second,
		})
	}
	job := &structs.Job{
		ID: "job-" + jobType, Name: "job-" + jobType, Namespace: structs.DefaultNamespace,
		Region: structs.DefaultRegion, Type: jobType, TaskGroups: []*structs.TaskGroup{tg},
	}
	id := structs.GenerateUUID()
	return &structs.Allocation{
		ID:            id,
		Namespace:     job.Namespace,
		Name:          structs.AllocName(job.ID, tg.Name, 0),
		JobID:         job.ID,
		Job:           job,
		TaskGroup:     tg.Name,
		DesiredStatus: structs.AllocDesiredStatusRun,
		ClientStatus:  structs.AllocClientStatusPending,
	}
}
