// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package jobdiff computes the structured difference between two versions of
// a job, in the shape of Nomad's plan diff (api.JobDiff): what `job plan`
// shows before a job is submitted. It only compares; what the scheduler would
// do about the change is the plan endpoint's business (server/endpoint_job_plan.go).
//
// The types here marshal to the same JSON as Nomad's api.JobDiff and its
// parts, so the HTTP layer can answer with them directly.
package jobdiff

import (
	"fmt"
	"sort"

	"github.com/droverhq/drover/structs"
)

// Diff types, Nomad's names.
const (
	TypeNone    = "None"
	TypeAdded   = "Added"
	TypeDeleted = "Deleted"
	TypeEdited  = "Edited"
)

// JobDiff is the difference between two versions of a job.
type JobDiff struct {
	Type       string
	ID         string
	Fields     []*FieldDiff
	Objects    []*ObjectDiff
	TaskGroups []*TaskGroupDiff
}

// TaskGroupDiff is the difference of one task group, matched by name.
// Updates counts, by Nomad's update type ("create", "destroy", "ignore",
// "in-place update", "create/destroy update", "migrate", "canary"), what
// the scheduler would do to the group's allocations; the plan endpoint
// fills it in.
type TaskGroupDiff struct {
	Type    string
	Name    string
	Fields  []*FieldDiff
	Objects []*ObjectDiff
	Tasks   []*TaskDiff
	Updates map[string]uint64
}

// TaskDiff is the difference of one task, matched by name. Annotations say
// what the change forces ("forces create", "forces create/destroy update",
// ...).
type TaskDiff struct {
	Type        string
	Name        string
	Fields      []*FieldDiff
	Objects     []*ObjectDiff
	Annotations []string
}

// FieldDiff is the difference of one primitive value. Old or New is empty
// when the value is absent on that side.
type FieldDiff struct {
	Type        string
	Name        string
	Old, New    string
	Annotations []string
}

// ObjectDiff is the difference of one nested block.
type ObjectDiff struct {
	Type    string
	Name    string
	Fields  []*FieldDiff
	Objects []*ObjectDiff
}

// Task annotations and Nomad's update type names, shared with the plan
// endpoint and the CLI.
const (
	AnnotationForcesCreate            = "forces create"
	AnnotationForcesDestroy           = "forces destroy"
	AnnotationForcesInplaceUpdate     = "forces in-place update"
	AnnotationForcesDestructiveUpdate = "forces create/destroy update"

	UpdateTypeIgnore            = "ignore"
	UpdateTypeCreate            = "create"
	UpdateTypeDestroy           = "destroy"
	UpdateTypeMigrate           = "migrate"
	UpdateTypeCanary            = "canary"
	UpdateTypeInplaceUpdate     = "in-place update"
	UpdateTypeDestructiveUpdate = "create/destroy update"
)

// Bookkeeping fields the servers set: they are not part of what the user
// asked for, so they never show in a diff. ID and the names of groups and
// tasks are the keys diffs are matched by.
var (
	skipJob   = fields("ID", "TaskGroups", "Status", "StatusDescription", "Stable", "Version", "SubmitTime", "CreateIndex", "ModifyIndex", "JobModifyIndex")
	skipGroup = fields("Name", "Tasks")
	skipTask  = fields("Name")
)

func fields(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Jobs returns the difference from old (the stored job, nil when new) to
// new (the submitted one, nil when deleted). With contextual set, unchanged
// fields and blocks are included with Type None, so a reader sees changes
// in their surroundings; groups and tasks are always included. The two jobs
// must have the same ID.
func Jobs(old, new *structs.Job, contextual bool) (*JobDiff, error) {
	if old == nil && new == nil {
		return nil, fmt.Errorf("diff jobs: both versions are missing")
	}
	if old != nil && new != nil && (old.ID != new.ID || old.Namespace != new.Namespace) {
		return nil, fmt.Errorf("diff jobs: cannot diff job %q (namespace %q) against job %q (namespace %q)", old.ID, old.Namespace, new.ID, new.Namespace)
	}
	d := &JobDiff{}
	var oldGroups, newGroups []*structs.TaskGroup
	if old != nil {
		d.ID = old.ID
		oldGroups = old.TaskGroups
	}
	if new != nil {
		d.ID = new.ID
		newGroups = new.TaskGroups
	}
	d.Fields, d.Objects = diffStruct(structValue(old), structValue(new), skipJob, contextual)

	changed := false
	for _, p := range pairByName(oldGroups, newGroups, func(tg *structs.TaskGroup) string { return tg.Name }) {
		gd := taskGroup(p[0], p[1], contextual)
		changed = changed || gd.Type != TypeNone
		d.TaskGroups = append(d.TaskGroups, gd)
	}
	d.Type = diffType(old == nil, new == nil, changed || anyChange(d.Fields, d.Objects))
	annotateJobMeta(d)
	return d, nil
}

// taskGroup diffs two versions of a group; either may be nil.
func taskGroup(old, new *structs.TaskGroup, contextual bool) *TaskGroupDiff {
	d := &TaskGroupDiff{}
	var oldTasks, newTasks []*structs.Task
	if old != nil {
		d.Name = old.Name
		oldTasks = old.Tasks
	}
	if new != nil {
		d.Name = new.Name
		newTasks = new.Tasks
	}
	d.Fields, d.Objects = diffStruct(structValue(old), structValue(new), skipGroup, contextual)
	annotateCount(d.Fields)

	changed := false
	for _, p := range pairByName(oldTasks, newTasks, func(t *structs.Task) string { return t.Name }) {
		td := task(p[0], p[1], contextual)
		changed = changed || td.Type != TypeNone
		d.Tasks = append(d.Tasks, td)
	}
	d.Type = diffType(old == nil, new == nil, changed || anyChange(d.Fields, d.Objects))
	annotateTasks(d)
	return d
}

// task diffs two versions of a task; either may be nil.
func task(old, new *structs.Task, contextual bool) *TaskDiff {
	d := &TaskDiff{}
	if old != nil {
		d.Name = old.Name
	}
	if new != nil {
		d.Name = new.Name
	}
	d.Fields, d.Objects = diffStruct(structValue(old), structValue(new), skipTask, contextual)
	d.Type = diffType(old == nil, new == nil, anyChange(d.Fields, d.Objects))
	return d
}

// pairByName matches the old and new versions of a job's groups or a
// group's tasks by name, sorted by name: [old, new], with nil on the side
// where the name is missing.
func pairByName[T any](olds, news []*T, name func(*T) string) [][2]*T {
	oldByName := map[string]*T{}
	for _, o := range olds {
		oldByName[name(o)] = o
	}
	seen := map[string]bool{}
	var pairs [][2]*T
	for _, n := range news {
		seen[name(n)] = true
		pairs = append(pairs, [2]*T{oldByName[name(n)], n})
	}
	for _, o := range olds {
		if !seen[name(o)] {
			pairs = append(pairs, [2]*T{o, nil})
		}
	}
	pairName := func(p [2]*T) string {
		if p[1] != nil {
			return name(p[1])
		}
		return name(p[0])
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairName(pairs[i]) < pairName(pairs[j]) })
	return pairs
}

// diffType is the Type of a diff between two versions, either of which may
// be missing; changed says whether anything in them differs.
func diffType(oldMissing, newMissing, changed bool) string {
	switch {
	case oldMissing:
		return TypeAdded
	case newMissing:
		return TypeDeleted
	case changed:
		return TypeEdited
	default:
		return TypeNone
	}
}

// anyChange reports whether any field or object is not None.
func anyChange(fs []*FieldDiff, os []*ObjectDiff) bool {
	for _, f := range fs {
		if f.Type != TypeNone {
			return true
		}
	}
	for _, o := range os {
		if o.Type != TypeNone {
			return true
		}
	}
	return false
}
