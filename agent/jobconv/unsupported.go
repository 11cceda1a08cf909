// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobconv

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/droverhq/drover/api"
	// Types api does not alias; they are the same types.
	nomad "github.com/hashicorp/nomad/api"
)

// UnsupportedError names the fields of a submitted job that Drover refuses
// to hold. Conversion refuses such a job rather than run something other
// than what the user wrote.
type UnsupportedError struct {
	// Paths are Go field paths into the api.Job, e.g. "Multiregion" or
	// "TaskGroups[0].Tasks[1].Schedule".
	Paths []string
}

// Error lists one field per line, with why it is refused.
func (e *UnsupportedError) Error() string {
	lines := make([]string, len(e.Paths))
	for i, p := range e.Paths {
		lines[i] = p + ": " + refusalReason(p)
	}
	return strings.Join(lines, "\n")
}

// Reasons for refusing a wire field.
const (
	reasonNotYet     = "not supported by Drover yet"
	reasonEnterprise = "a Nomad Enterprise feature, not supported by Drover"
)

// refused lists, per wire type, the fields structs does not hold and why.
// A job that sets one (to anything but what Canonicalize fills in anyway)
// is refused. Fields that a later change to structs can hold move out of
// this table; TestFieldsClassified keeps it honest.
var refused = map[reflect.Type]map[string]string{
	reflect.TypeFor[api.Job](): {
		"Multiregion": "multiregion jobs are not supported by Drover",
	},
	reflect.TypeFor[api.Task](): {
		// Time-based task execution and dynamic application sizing.
		"Schedule":        reasonEnterprise,
		"ScalingPolicies": reasonEnterprise,
	},
}

// folded lists wire fields that have no structs counterpart because their
// content lives elsewhere; they are never refused.
var folded = map[reflect.Type]map[string]string{
	reflect.TypeFor[api.Job]():                  {"NomadTokenID": "set by the server from the request's token"},
	reflect.TypeFor[api.LogConfig]():            {"Enabled": "deprecated form of Disabled"},
	reflect.TypeFor[nomad.ConsulProxy]():        {"ExposeConfig": "deprecated form of Expose"},
	reflect.TypeFor[nomad.ConsulExposeConfig](): {"Path": "deprecated form of Paths"},
	reflect.TypeFor[nomad.VolumeRequest]():      {"ExtraKeysHCL": "HCL decoding detail"},
	reflect.TypeFor[nomad.CSIMountOptions]():    {"ExtraKeysHCL": "HCL decoding detail"},
	reflect.TypeFor[api.Resources]():            {"IOPS": "deprecated; ignored by Nomad"},
}

// refusalReason finds the reason for a path by its last field name.
func refusalReason(path string) string {
	name := path[strings.LastIndex(path, ".")+1:]
	for _, fields := range refused {
		if r, ok := fields[name]; ok {
			return r
		}
	}
	return reasonNotYet
}

// stripRefused zeroes every refused field reachable from v, in place.
func stripRefused(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			stripRefused(v.Elem())
		}
	case reflect.Struct:
		fields := refused[v.Type()]
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			if _, ok := fields[f.Name]; ok {
				v.Field(i).Set(reflect.Zero(f.Type))
				continue
			}
			stripRefused(v.Field(i))
		}
	case reflect.Slice:
		for i := range v.Len() {
			stripRefused(v.Index(i))
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.Pointer {
			return
		}
		iter := v.MapRange()
		for iter.Next() {
			stripRefused(iter.Value())
		}
	}
}

// refusedPaths compares the canonical form of the job as submitted (full)
// with the canonical form of the same job without its refused fields
// (bare). A field is reported only where the two differ: one the user left
// out, or set to exactly what Canonicalize fills in, loses nothing when
// dropped. Both come from the same input, so they have the same shape.
func refusedPaths(full, bare *api.Job) []string {
	var out []string
	diffRefused(reflect.ValueOf(full), reflect.ValueOf(bare), "", &out)
	sort.Strings(out)
	return out
}

func diffRefused(a, b reflect.Value, path string, out *[]string) {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() && refusedBelow(a.Type().Elem()) {
				*out = append(*out, path)
			}
			return
		}
		diffRefused(a.Elem(), b.Elem(), path, out)
	case reflect.Struct:
		fields := refused[a.Type()]
		for i := range a.NumField() {
			f := a.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			p := joinPath(path, f.Name)
			if _, ok := fields[f.Name]; ok {
				if !equivalent(a.Field(i), b.Field(i)) {
					*out = append(*out, p)
				}
				continue
			}
			diffRefused(a.Field(i), b.Field(i), p, out)
		}
	case reflect.Slice:
		if a.Len() != b.Len() {
			return
		}
		for i := range a.Len() {
			diffRefused(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	case reflect.Map:
		if a.Type().Elem().Kind() != reflect.Pointer {
			return
		}
		iter := a.MapRange()
		for iter.Next() {
			if bv := b.MapIndex(iter.Key()); bv.IsValid() {
				diffRefused(iter.Value(), bv, fmt.Sprintf("%s[%q]", path, iter.Key()), out)
			}
		}
	}
}

// refusedBelow reports whether a refused field can be reached from t.
func refusedBelow(t reflect.Type) bool {
	return reachesRefused(t, map[reflect.Type]bool{})
}

func reachesRefused(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return false
	}
	seen[t] = true
	if len(refused[t]) > 0 {
		return true
	}
	for i := range t.NumField() {
		if reachesRefused(t.Field(i).Type, seen) {
			return true
		}
	}
	return false
}

// equivalent is reflect.DeepEqual, except that an empty slice or map equals
// nil: a JSON body with "Devices": [] asks for nothing.
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
