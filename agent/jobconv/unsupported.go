// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobconv

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/droverhq/drover/api"
)

// UnsupportedError names the fields of a submitted job that Drover's model
// cannot hold yet. Conversion refuses such a job rather than run something
// other than what the user wrote.
type UnsupportedError struct {
	// Paths are Go field paths into the api.Job, e.g.
	// "TaskGroups[0].Networks".
	Paths []string
}

// Error lists one field per line.
func (e *UnsupportedError) Error() string {
	lines := make([]string, len(e.Paths))
	for i, p := range e.Paths {
		lines[i] = p + ": not supported by Drover yet"
	}
	return strings.Join(lines, "\n")
}

// The fields of each wire type, split into those structs holds (converted)
// and those it does not (refused when they matter). Every field of the wire
// type is in exactly one list; a test enforces it, so a new field in a
// nomad/api upgrade cannot be dropped silently.
var (
	jobSupported = []string{
		"Region", "Namespace", "ID", "Name", "Type", "Priority", "AllAtOnce",
		"Datacenters", "NodePool", "Constraints", "TaskGroups", "Meta", "Stop",
		"ParentID", "Status", "StatusDescription", "Stable", "Version",
		"SubmitTime", "CreateIndex", "ModifyIndex", "JobModifyIndex",
		// Set by the server from the request's token; never user input.
		"NomadTokenID",
	}
	jobUnsupported = []string{
		"Affinities", "Update", "Multiregion", "Spreads", "Periodic",
		"ParameterizedJob", "Reschedule", "Migrate", "UI", "Dispatched",
		"DispatchIdempotencyToken", "Payload", "ConsulNamespace",
		"VaultNamespace", "VersionTag",
	}
	groupSupported = []string{
		"Name", "Count", "Constraints", "Tasks", "RestartPolicy",
		"EphemeralDisk", "Meta",
	}
	groupUnsupported = []string{
		"Affinities", "Spreads", "Volumes", "Disconnect", "ReschedulePolicy",
		"Update", "Migrate", "Networks", "Services", "ShutdownDelay",
		"MaxRunDuration", "StopAfterClientDisconnect", "MaxClientDisconnect",
		"Scaling", "Consul", "PreventRescheduleOnLost",
	}
	taskSupported = []string{
		"Name", "Driver", "User", "Config", "Constraints", "Env", "Resources",
		"RestartPolicy", "Meta", "KillTimeout", "LogConfig", "Leader",
		"KillSignal",
	}
	taskUnsupported = []string{
		"Lifecycle", "Affinities", "Services", "Artifacts", "Vault", "Consul",
		"Templates", "DispatchPayload", "VolumeMounts", "CSIPluginConfig",
		"ShutdownDelay", "Kind", "ScalingPolicies", "Secrets", "Identity",
		"Identities", "Actions", "Schedule",
	}
	resourcesSupported   = []string{"CPU", "Cores", "MemoryMB", "MemoryMaxMB", "DiskMB"}
	resourcesUnsupported = []string{"Networks", "Devices", "NUMA", "SecretsMB", "IOPS"}
	restartSupported     = []string{"Interval", "Attempts", "Delay", "Mode"}
	restartUnsupported   = []string{"RenderTemplates"}
)

// stripUnsupported zeroes every unsupported field of j, in place.
func stripUnsupported(j *api.Job) {
	clearFields(j, jobUnsupported)
	for _, tg := range j.TaskGroups {
		clearFields(tg, groupUnsupported)
		if tg.RestartPolicy != nil {
			clearFields(tg.RestartPolicy, restartUnsupported)
		}
		for _, t := range tg.Tasks {
			clearFields(t, taskUnsupported)
			if t.Resources != nil {
				clearFields(t.Resources, resourcesUnsupported)
			}
			if t.RestartPolicy != nil {
				clearFields(t.RestartPolicy, restartUnsupported)
			}
		}
	}
}

// unsupportedPaths compares the canonical form of the job as submitted
// (full) with the canonical form of the same job without its unsupported
// fields (bare). A field is reported only where the two differ: one the
// user left out, or set to exactly what Canonicalize would fill in, loses
// nothing when dropped. Both jobs come from the same input, so their groups
// and tasks line up by index.
func unsupportedPaths(full, bare *api.Job) []string {
	var out []string
	out = diffFields(out, "", full, bare, jobUnsupported)
	for i, tg := range full.TaskGroups {
		btg := bare.TaskGroups[i]
		gp := fmt.Sprintf("TaskGroups[%d].", i)
		out = diffFields(out, gp, tg, btg, groupUnsupported)
		out = diffFields(out, gp+"RestartPolicy.", tg.RestartPolicy, btg.RestartPolicy, restartUnsupported)
		for k, t := range tg.Tasks {
			bt := btg.Tasks[k]
			tp := fmt.Sprintf("%sTasks[%d].", gp, k)
			out = diffFields(out, tp, t, bt, taskUnsupported)
			out = diffFields(out, tp+"Resources.", t.Resources, bt.Resources, resourcesUnsupported)
			out = diffFields(out, tp+"RestartPolicy.", t.RestartPolicy, bt.RestartPolicy, restartUnsupported)
		}
	}
	return out
}

// clearFields sets the named fields of the struct ptr points to to their
// zero values.
func clearFields(ptr any, names []string) {
	v := reflect.ValueOf(ptr).Elem()
	for _, name := range names {
		f := v.FieldByName(name)
		f.Set(reflect.Zero(f.Type()))
	}
}

// diffFields appends prefix+name for each named field that differs between
// the structs a and b point to. Nil pointers compare as empty structs.
func diffFields(out []string, prefix string, a, b any, names []string) []string {
	av, bv := reflect.ValueOf(a), reflect.ValueOf(b)
	if av.IsNil() && bv.IsNil() {
		return out
	}
	if av.IsNil() {
		av = reflect.New(av.Type().Elem())
	}
	if bv.IsNil() {
		bv = reflect.New(bv.Type().Elem())
	}
	av, bv = av.Elem(), bv.Elem()
	for _, name := range names {
		if !equivalent(av.FieldByName(name), bv.FieldByName(name)) {
			out = append(out, prefix+name)
		}
	}
	return out
}

// equivalent is reflect.DeepEqual, except that an empty slice or map equals
// nil: a JSON body with "Affinities": [] asks for nothing.
func equivalent(a, b reflect.Value) bool {
	if empty(a) && empty(b) {
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

func empty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return false
}
