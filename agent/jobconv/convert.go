// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package jobconv converts jobs between the wire form (api.Job, Nomad's JSON
// shape, all pointers) and Drover's internal model (structs.Job, all
// values). It is the one place where the HTTP layer's input becomes
// something the server can store, so it is also where fields Drover cannot
// run yet are refused instead of dropped.
package jobconv

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/structs"
)

// APIJobToStructs converts a submitted job to the internal model.
//
// The input is not modified. A copy is first canonicalised with the API
// client's own Canonicalize, so every client-side default is exactly
// Nomad's. Fields that structs cannot hold are refused with an
// *UnsupportedError naming each one, unless they only carry what
// Canonicalize fills in anyway.
//
// The result still needs the server-side defaults and checks: call its
// Canonicalize and Validate before storing it.
func APIJobToStructs(job *api.Job) (*structs.Job, error) {
	if job == nil {
		return nil, errors.New("convert job: job is null")
	}
	if err := checkNulls(job); err != nil {
		return nil, fmt.Errorf("convert job: %w", err)
	}
	full, err := copyJob(job)
	if err != nil {
		return nil, fmt.Errorf("convert job: %w", err)
	}
	bare, err := copyJob(job)
	if err != nil {
		return nil, fmt.Errorf("convert job: %w", err)
	}
	stripUnsupported(bare)
	full.Canonicalize()
	bare.Canonicalize()
	if paths := unsupportedPaths(full, bare); len(paths) > 0 {
		return nil, &UnsupportedError{Paths: paths}
	}

	out := &structs.Job{
		ID:                *full.ID,
		ParentID:          *full.ParentID,
		Name:              *full.Name,
		Namespace:         *full.Namespace,
		Region:            *full.Region,
		Type:              *full.Type,
		Priority:          *full.Priority,
		AllAtOnce:         *full.AllAtOnce,
		Datacenters:       slices.Clone(full.Datacenters),
		NodePool:          *full.NodePool,
		Constraints:       constraints(full.Constraints),
		Meta:              maps.Clone(full.Meta),
		Stop:              *full.Stop,
		Status:            *full.Status,
		StatusDescription: *full.StatusDescription,
		Stable:            *full.Stable,
		Version:           *full.Version,
		SubmitTime:        deref(full.SubmitTime),
		CreateIndex:       *full.CreateIndex,
		ModifyIndex:       *full.ModifyIndex,
		JobModifyIndex:    *full.JobModifyIndex,
	}
	for i, tg := range full.TaskGroups {
		out.TaskGroups = append(out.TaskGroups, group(tg, job.TaskGroups[i]))
	}
	return out, nil
}

// checkNulls rejects null entries in lists and maps ("TaskGroups": [null],
// "Affinities": [null]), which the API's Canonicalize would dereference.
// Free-form values (task Config) may hold nulls and are not inspected.
func checkNulls(j *api.Job) error {
	var errs []error
	walkNulls(reflect.ValueOf(j).Elem(), "", &errs)
	return errors.Join(errs...)
}

func walkNulls(v reflect.Value, path string, errs *[]error) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkNulls(v.Elem(), path, errs)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				walkNulls(v.Field(i), joinPath(path, f.Name), errs)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkElem(v.Index(i), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			walkElem(iter.Value(), fmt.Sprintf("%s[%q]", path, iter.Key()), errs)
		}
	}
}

func walkElem(e reflect.Value, path string, errs *[]error) {
	if e.Kind() == reflect.Pointer && e.IsNil() {
		*errs = append(*errs, fmt.Errorf("%s: null entry", path))
		return
	}
	walkNulls(e, path, errs)
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// copyJob deep-copies a job through JSON, the form it arrived in, so that
// Canonicalize (which writes through every nested pointer) leaves the
// caller's job alone. It also applies the log block's deprecated "Enabled"
// flag, which Canonicalize would otherwise shadow with Disabled=false.
func copyJob(j *api.Job) (*api.Job, error) {
	buf, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("copy job: %w", err)
	}
	var c api.Job
	if err := json.Unmarshal(buf, &c); err != nil {
		return nil, fmt.Errorf("copy job: %w", err)
	}
	for _, tg := range c.TaskGroups {
		for _, t := range tg.Tasks {
			if lc := t.LogConfig; lc != nil && lc.Disabled == nil && lc.Enabled != nil {
				lc.Disabled = api.Ptr(!*lc.Enabled)
			}
		}
	}
	return &c, nil
}

// group converts a canonical group. orig is the submitted group, whose task
// configs are taken as they were: the JSON copy would turn their integers
// into floats.
func group(tg, orig *api.TaskGroup) *structs.TaskGroup {
	out := &structs.TaskGroup{
		Name:          *tg.Name,
		Count:         *tg.Count,
		Constraints:   constraints(tg.Constraints),
		RestartPolicy: restartPolicy(tg.RestartPolicy),
		Meta:          maps.Clone(tg.Meta),
	}
	if d := tg.EphemeralDisk; d != nil {
		out.EphemeralDisk = &structs.EphemeralDisk{
			Sticky:  deref(d.Sticky),
			SizeMB:  deref(d.SizeMB),
			Migrate: deref(d.Migrate),
		}
	}
	for i, t := range tg.Tasks {
		out.Tasks = append(out.Tasks, task(t, orig.Tasks[i].Config))
	}
	return out
}

func task(t *api.Task, config map[string]any) *structs.Task {
	out := &structs.Task{
		Name:          t.Name,
		Driver:        t.Driver,
		User:          t.User,
		Config:        maps.Clone(config),
		Env:           maps.Clone(t.Env),
		Constraints:   constraints(t.Constraints),
		RestartPolicy: restartPolicy(t.RestartPolicy),
		Meta:          maps.Clone(t.Meta),
		KillTimeout:   deref(t.KillTimeout),
		KillSignal:    t.KillSignal,
		Leader:        t.Leader,
	}
	if r := t.Resources; r != nil {
		out.Resources = &structs.Resources{
			CPU:         deref(r.CPU),
			Cores:       deref(r.Cores),
			MemoryMB:    deref(r.MemoryMB),
			MemoryMaxMB: deref(r.MemoryMaxMB),
			DiskMB:      deref(r.DiskMB),
		}
	}
	if lc := t.LogConfig; lc != nil {
		out.LogConfig = &structs.LogConfig{
			MaxFiles:      deref(lc.MaxFiles),
			MaxFileSizeMB: deref(lc.MaxFileSizeMB),
			Disabled:      deref(lc.Disabled),
		}
	}
	return out
}

func restartPolicy(rp *api.RestartPolicy) *structs.RestartPolicy {
	if rp == nil {
		return nil
	}
	return &structs.RestartPolicy{
		Attempts: deref(rp.Attempts),
		Interval: deref(rp.Interval),
		Delay:    deref(rp.Delay),
		Mode:     deref(rp.Mode),
	}
}

func constraints(cs []*api.Constraint) []*structs.Constraint {
	if cs == nil {
		return nil
	}
	out := make([]*structs.Constraint, 0, len(cs))
	for _, c := range cs {
		if c == nil {
			// A null entry constrains nothing.
			continue
		}
		out = append(out, &structs.Constraint{LTarget: c.LTarget, RTarget: c.RTarget, Operand: c.Operand})
	}
	return out
}

// deref returns *p, or the zero value for a nil p.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
