// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobconv

import (
	"encoding/json"

	"github.com/droverhq/drover/api"
	"testing"
)

// FuzzAPIJobToStructs feeds arbitrary PUT /v1/jobs bodies through the
// register path: conversion, defaults and validation must return errors,
// never panic.
func FuzzAPIJobToStructs(f *testing.F) {
	for _, j := range []any{minimalJob(""), minimalJob("batch"), fullJob()} {
		b, _ := json.Marshal(j)
		f.Add(b)
	}
	f.Add([]byte(`{"TaskGroups":[null]}`))
	f.Add([]byte(`{"TaskGroups":[{"Tasks":[{"Resources":null,"Services":[null]}],"Affinities":[null]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var j struct{ Job api.Job }
		if err := json.Unmarshal(body, &j.Job); err != nil {
			return
		}
		sj, err := APIJobToStructs(&j.Job)
		if err != nil {
			return
		}
		sj.Canonicalize()
		_ = sj.Validate()
	})
}
