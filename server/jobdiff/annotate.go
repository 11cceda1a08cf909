// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobdiff

import (
	"strconv"
	"strings"
)

// Annotations tell the reader of a plan why allocations change. They are
// the cheap, local part: what a field change forces by its nature. What the
// scheduler actually decides per group (TaskGroupDiff.Updates) comes from
// the dry run.

// destructiveTaskChanges are the task fields and blocks whose change means
// new processes. They mirror what the scheduler compares before it updates
// an allocation in place (server/scheduler/reconcile.go tasksUpdated).
var destructiveTaskChanges = map[string]bool{
	"Driver": true, "User": true, "Config": true, "Resources": true,
	"LogConfig": true, "Constraint": true,
}

// destructiveTaskPrefixes are the map fields ("Env[KEY]", "Meta[key]")
// whose change is destructive.
var destructiveTaskPrefixes = []string{"Env[", "Meta["}

// destructiveGroupChanges are the group fields and blocks whose change
// replaces every allocation of the group.
var destructiveGroupChanges = map[string]bool{"Constraint": true, "EphemeralDisk": true}

// annotateCount marks a group's count change with what it forces.
func annotateCount(fs []*FieldDiff) {
	for _, f := range fs {
		if f.Name != "Count" || f.Type != TypeEdited {
			continue
		}
		old, err1 := strconv.Atoi(f.Old)
		new, err2 := strconv.Atoi(f.New)
		switch {
		case err1 != nil || err2 != nil:
		case new > old:
			f.Annotations = append(f.Annotations, AnnotationForcesCreate)
		case new < old:
			f.Annotations = append(f.Annotations, AnnotationForcesDestroy)
		}
	}
}

// annotateTasks sets each task's annotation from its own change and its
// group's.
func annotateTasks(g *TaskGroupDiff) {
	groupDestructive := changedAny(g.Fields, g.Objects, destructiveGroupChanges, destructiveTaskPrefixes)
	for _, t := range g.Tasks {
		t.Annotations = nil
		switch {
		case g.Type == TypeAdded:
			t.Annotations = []string{AnnotationForcesCreate}
		case g.Type == TypeDeleted:
			t.Annotations = []string{AnnotationForcesDestroy}
		case t.Type == TypeAdded || t.Type == TypeDeleted:
			t.Annotations = []string{AnnotationForcesDestructiveUpdate}
		case groupDestructive || changedAny(t.Fields, t.Objects, destructiveTaskChanges, destructiveTaskPrefixes):
			t.Annotations = []string{AnnotationForcesDestructiveUpdate}
		case t.Type == TypeEdited:
			t.Annotations = []string{AnnotationForcesInplaceUpdate}
		}
	}
}

// annotateJobMeta marks every task of the job's existing groups for a
// destructive update when the job's own meta changed: tasks see the merged
// job, group and task meta.
func annotateJobMeta(d *JobDiff) {
	if !changedAny(d.Fields, nil, nil, []string{"Meta["}) {
		return
	}
	for _, g := range d.TaskGroups {
		if g.Type == TypeAdded || g.Type == TypeDeleted {
			continue
		}
		for _, t := range g.Tasks {
			if t.Type != TypeAdded && t.Type != TypeDeleted {
				t.Annotations = []string{AnnotationForcesDestructiveUpdate}
			}
		}
	}
}

// changedAny reports whether a changed field or object is named in names
// or starts with one of prefixes.
func changedAny(fs []*FieldDiff, objs []*ObjectDiff, names map[string]bool, prefixes []string) bool {
	match := func(name string) bool {
		if names[name] {
			return true
		}
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	for _, f := range fs {
		if f.Type != TypeNone && match(f.Name) {
			return true
		}
	}
	for _, o := range objs {
		if o.Type != TypeNone && match(o.Name) {
			return true
		}
	}
	return false
}
