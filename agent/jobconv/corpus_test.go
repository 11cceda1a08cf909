// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobconv

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/droverhq/drover/jobspec"
)

// TestCorpusIsValidOnTheServer: every job file of the parser's corpus is
// written the way Nomad users write them, so each must also pass the
// server's conversion, defaults and validation, as Nomad's server would
// accept it. Only the multiregion job is refused, by design.
func TestCorpusIsValidOnTheServer(t *testing.T) {
	files, err := filepath.Glob("../../jobspec/testdata/*.nomad.hcl")
	if err != nil || len(files) < 10 {
		t.Fatalf("corpus not found: %v (%d files)", err, len(files))
	}
	files = append(files, "../../jobspec/testdata/hello.json")
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			opts := &jobspec.ParseOptions{AllowFS: true}
			if name == "variables.nomad.hcl" {
				opts.Vars = map[string]string{"image_tag": "v1.2.3", "labels": `{ team = "api", tier = "1" }`}
				opts.VarFiles = []string{"../../jobspec/testdata/vars.hcl"}
			}
			job, err := jobspec.ParseFile(file, opts)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			sj, err := APIJobToStructs(job)
			if name == "secure.nomad.hcl" {
				var uerr *UnsupportedError
				if !errors.As(err, &uerr) || !strings.Contains(err.Error(), "multiregion") {
					t.Fatalf("multiregion job: err = %v, want the multiregion refusal", err)
				}
				// Also an Enterprise feature in the same file.
				job.Multiregion = nil
				for _, tg := range job.TaskGroups {
					for _, task := range tg.Tasks {
						task.ScalingPolicies = nil
					}
				}
				if sj, err = APIJobToStructs(job); err != nil {
					t.Fatalf("convert without multiregion: %v", err)
				}
			} else if err != nil {
				t.Fatalf("convert: %v", err)
			}
			sj.Canonicalize()
			if err := sj.Validate(); err != nil {
				t.Fatalf("the server refuses a corpus job:\n%v", err)
			}
			// The stored form converts back to the wire form and again
			// to the same job.
			again, err := APIJobToStructs(StructsJobToAPI(sj))
			if err != nil {
				t.Fatalf("round trip: %v", err)
			}
			again.Canonicalize()
			if err := again.Validate(); err != nil {
				t.Fatalf("round trip invalid: %v", err)
			}
		})
	}
}
