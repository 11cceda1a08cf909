// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package jobconv converts jobs between the wire form (api.Job, Nomad's JSON
// shape, all pointers) and Drover's internal model (structs.Job, values).
// It is the one place where the HTTP layer's input becomes something the
// server can store, so it is also where the few wire fields Drover will not
// hold (multiregion and other Enterprise features) are refused instead of
// dropped.
//
// structs mirrors the wire types field for field, by name, so conversion
// is done by a name-driven walk (mapping.go) rather than by hand: a field
// added to both sides converts without code, and a test fails for any wire
// field that has no counterpart and is not explicitly refused or folded.
package jobconv

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/structs"
)

// APIJobToStructs converts a submitted job to the internal model.
//
// The input is not modified. A deep copy is first canonicalised with the
// API client's own Canonicalize, so every client-side default is exactly
// Nomad's. Refused fields (see unsupported.go) fail with an
// *UnsupportedError naming each one, unless they only carry what
// Canonicalize fills in anyway.
//
// The result still needs the server-side defaults and checks: call its
// Canonicalize and Validate before storing it, and UnsupportedFeatures
// before registering it.
func APIJobToStructs(job *api.Job) (*structs.Job, error) {
	if job == nil {
		return nil, errors.New("convert job: job is null")
	}
	if err := checkNulls(job); err != nil {
		return nil, fmt.Errorf("convert job: %w", err)
	}
	full := copyJob(job)
	bare := copyJob(full)
	stripRefused(reflect.ValueOf(bare))
	full.Canonicalize()
	bare.Canonicalize()
	if paths := refusedPaths(full, bare); len(paths) > 0 {
		return nil, &UnsupportedError{Paths: paths}
	}
	out := new(structs.Job)
	if err := convert(reflect.ValueOf(out).Elem(), reflect.ValueOf(full).Elem(), ""); err != nil {
		return nil, fmt.Errorf("convert job: %w", err)
	}
	return out, nil
}

// StructsJobToAPI converts a stored job back to the wire form, for callers
// that hold a structs.Job but talk api types (job inspect, plan diffs, the
// CLI's tests). It is the inverse of APIJobToStructs for every field.
func StructsJobToAPI(j *structs.Job) *api.Job {
	if j == nil {
		return nil
	}
	out := new(api.Job)
	if err := convert(reflect.ValueOf(out).Elem(), reflect.ValueOf(j).Elem(), ""); err != nil {
		// Every structs field has a wire counterpart of the same kind, which
		// TestFieldsClassified enforces; a failure here is a programming
		// error in the model, not bad input.
		panic(fmt.Sprintf("jobconv: structs and api types diverged: %v", err))
	}
	return out
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
	if e.Kind() == reflect.Interface {
		return // free-form values
	}
	walkNulls(e, path, errs)
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// copyJob deep-copies a job, so that Canonicalize (which writes through
// every nested pointer) leaves the caller's job alone; free-form values
// keep their Go types. It then folds deprecated wire fields into their
// current form, which Canonicalize would otherwise shadow.
func copyJob(j *api.Job) *api.Job {
	c := new(api.Job)
	structs.CopyValue(reflect.ValueOf(c).Elem(), reflect.ValueOf(j).Elem())
	foldDeprecated(c)
	return c
}

func foldDeprecated(j *api.Job) {
	if j.Multiregion != nil && len(j.Multiregion.Regions) == 0 {
		// Nomad treats a multiregion block without regions as absent.
		j.Multiregion = nil
	}
	for _, tg := range j.TaskGroups {
		foldServices(tg.Services)
		for _, t := range tg.Tasks {
			foldServices(t.Services)
			if lc := t.LogConfig; lc != nil && lc.Disabled == nil && lc.Enabled != nil {
				lc.Disabled = api.Ptr(!*lc.Enabled)
			}
			if lc := t.LogConfig; lc != nil {
				lc.Enabled = nil
			}
		}
	}
}

// foldServices moves a connect proxy's deprecated expose forms
// (ExposeConfig, Path) into Expose.Paths.
func foldServices(ss []*api.Service) {
	for _, s := range ss {
		if s.Connect == nil || s.Connect.SidecarService == nil || s.Connect.SidecarService.Proxy == nil {
			continue
		}
		p := s.Connect.SidecarService.Proxy
		if p.Expose == nil {
			p.Expose = p.ExposeConfig
		}
		p.ExposeConfig = nil
		if e := p.Expose; e != nil {
			e.Paths = append(e.Paths, e.Path...)
			e.Path = nil
		}
	}
}
