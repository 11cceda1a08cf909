// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobconv

import (
	"maps"
	"slices"

	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/structs"
)

// StructsJobToAPI converts a stored job back to the wire form, for callers
// that hold a structs.Job but talk api types (the CLI's tests, job diffs,
// `job inspect`-style output built on the client). It is the inverse of
// APIJobToStructs for every field structs holds.
func StructsJobToAPI(j *structs.Job) *api.Job {
	if j == nil {
		return nil
	}
	out := &api.Job{
		ID:                api.Ptr(j.ID),
		ParentID:          api.Ptr(j.ParentID),
		Name:              api.Ptr(j.Name),
		Namespace:         api.Ptr(j.Namespace),
		Region:            api.Ptr(j.Region),
		Type:              api.Ptr(j.Type),
		Priority:          api.Ptr(j.Priority),
		AllAtOnce:         api.Ptr(j.AllAtOnce),
		Datacenters:       slices.Clone(j.Datacenters),
		NodePool:          api.Ptr(j.NodePool),
		Constraints:       apiConstraints(j.Constraints),
		Meta:              maps.Clone(j.Meta),
		Stop:              api.Ptr(j.Stop),
		Status:            api.Ptr(j.Status),
		StatusDescription: api.Ptr(j.StatusDescription),
		Stable:            api.Ptr(j.Stable),
		Version:           api.Ptr(j.Version),
		SubmitTime:        api.Ptr(j.SubmitTime),
		CreateIndex:       api.Ptr(j.CreateIndex),
		ModifyIndex:       api.Ptr(j.ModifyIndex),
		JobModifyIndex:    api.Ptr(j.JobModifyIndex),
	}
	for _, tg := range j.TaskGroups {
		if tg == nil {
			continue
		}
		out.TaskGroups = append(out.TaskGroups, apiGroup(tg))
	}
	return out
}

func apiGroup(tg *structs.TaskGroup) *api.TaskGroup {
	out := &api.TaskGroup{
		Name:          api.Ptr(tg.Name),
		Count:         api.Ptr(tg.Count),
		Constraints:   apiConstraints(tg.Constraints),
		RestartPolicy: apiRestartPolicy(tg.RestartPolicy),
		Meta:          maps.Clone(tg.Meta),
	}
	if d := tg.EphemeralDisk; d != nil {
		out.EphemeralDisk = &api.EphemeralDisk{
			Sticky:  api.Ptr(d.Sticky),
			Migrate: api.Ptr(d.Migrate),
			SizeMB:  api.Ptr(d.SizeMB),
		}
	}
	for _, t := range tg.Tasks {
		if t == nil {
			continue
		}
		out.Tasks = append(out.Tasks, apiTask(t))
	}
	return out
}

func apiTask(t *structs.Task) *api.Task {
	out := &api.Task{
		Name:          t.Name,
		Driver:        t.Driver,
		User:          t.User,
		Config:        maps.Clone(t.Config),
		Env:           maps.Clone(t.Env),
		Constraints:   apiConstraints(t.Constraints),
		RestartPolicy: apiRestartPolicy(t.RestartPolicy),
		Meta:          maps.Clone(t.Meta),
		KillTimeout:   api.Ptr(t.KillTimeout),
		KillSignal:    t.KillSignal,
		Leader:        t.Leader,
	}
	if r := t.Resources; r != nil {
		out.Resources = &api.Resources{
			CPU:         api.Ptr(r.CPU),
			Cores:       api.Ptr(r.Cores),
			MemoryMB:    api.Ptr(r.MemoryMB),
			MemoryMaxMB: api.Ptr(r.MemoryMaxMB),
			DiskMB:      api.Ptr(r.DiskMB),
		}
	}
	if lc := t.LogConfig; lc != nil {
		out.LogConfig = &api.LogConfig{
			MaxFiles:      api.Ptr(lc.MaxFiles),
			MaxFileSizeMB: api.Ptr(lc.MaxFileSizeMB),
			Disabled:      api.Ptr(lc.Disabled),
		}
	}
	return out
}

func apiRestartPolicy(rp *structs.RestartPolicy) *api.RestartPolicy {
	if rp == nil {
		return nil
	}
	return &api.RestartPolicy{
		Attempts: api.Ptr(rp.Attempts),
		Interval: api.Ptr(rp.Interval),
		Delay:    api.Ptr(rp.Delay),
		Mode:     api.Ptr(rp.Mode),
	}
}

func apiConstraints(cs []*structs.Constraint) []*api.Constraint {
	if cs == nil {
		return nil
	}
	out := make([]*api.Constraint, 0, len(cs))
	for _, c := range cs {
		if c == nil {
			continue
		}
		out = append(out, &api.Constraint{LTarget: c.LTarget, RTarget: c.RTarget, Operand: c.Operand})
	}
	return out
}
