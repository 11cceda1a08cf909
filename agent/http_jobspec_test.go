// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/droverhq/drover/api"
)

func TestJobsParse(t *testing.T) {
	_, base := testServerAgent(t)
	hcl := `variable "n" {
  type = number
}
job "p" {
  datacenters = ["dc1"]
  group "g" {
    count = var.n
    task "t" {
      driver = "raw_exec"
      config {
        command = "${NOMAD_TASK_DIR}/run"
      }
    }
  }
}`
	body, _ := json.Marshal(api.JobsParseRequest{JobHCL: hcl, Variables: "n = 4\n"})
	r := do(t, "PUT", base+"/v1/jobs/parse", string(body))
	if r.code != 200 {
		t.Fatalf("parse: %d %s", r.code, r.body)
	}
	var job api.Job
	if err := json.Unmarshal([]byte(r.body), &job); err != nil {
		t.Fatal(err)
	}
	if *job.ID != "p" || *job.TaskGroups[0].Count != 4 || job.TaskGroups[0].Tasks[0].Config["command"] != "${NOMAD_TASK_DIR}/run" || job.Priority != nil {
		t.Fatalf("parsed job: %s", r.body)
	}

	body, _ = json.Marshal(api.JobsParseRequest{JobHCL: hcl, Variables: "n = 1\n", Canonicalize: true})
	r = do(t, "POST", base+"/v1/jobs/parse", string(body))
	if r.code != 200 || !strings.Contains(r.body, `"Priority":50`) {
		t.Fatalf("canonicalized parse: %d %s", r.code, r.body)
	}

	for _, tt := range []struct{ body, want string }{
		{`{"JobHCL": "job \"x\" {\n  bogus = 1\n}\n"}`, "input.hcl:2:3"},
		{`{"JobHCL": "job \"x\" {\n  group \"g\" {\n    task \"t\" {\n      driver = file(\"/etc/passwd\")\n    }\n  }\n}\n"}`, "input.hcl:4"},
		{`{}`, "no JobHCL"},
	} {
		r := do(t, "PUT", base+"/v1/jobs/parse", tt.body)
		if r.code != 400 || !strings.Contains(r.body, tt.want) {
			t.Errorf("parse %s: %d %q, want 400 containing %q", tt.body, r.code, r.body, tt.want)
		}
	}
}

func TestValidateJob(t *testing.T) {
	_, base := testServerAgent(t)
	r := do(t, "PUT", base+"/v1/validate/job", jobBody)
	var resp api.JobValidateResponse
	if err := json.Unmarshal([]byte(r.body), &resp); err != nil || r.code != 200 || len(resp.ValidationErrors) != 0 || resp.Error != "" {
		t.Fatalf("valid job: %d %s", r.code, r.body)
	}
	bad := `{"Job": {"ID": "x", "Type": "service", "Priority": 500, "TaskGroups": [{"Name": "g", "Count": -1, "Tasks": [{"Name": "t"}]}]}}`
	r = do(t, "PUT", base+"/v1/validate/job", bad)
	resp = api.JobValidateResponse{}
	if err := json.Unmarshal([]byte(r.body), &resp); err != nil || r.code != 200 {
		t.Fatalf("invalid job: %d %s", r.code, r.body)
	}
	all := strings.Join(resp.ValidationErrors, "\n")
	for _, want := range []string{"Missing driver", "priority", "count"} {
		if !strings.Contains(strings.ToLower(all), strings.ToLower(want)) {
			t.Errorf("validation errors lack %q:\n%s", want, all)
		}
	}
	if len(resp.ValidationErrors) < 3 {
		t.Errorf("problems not reported together: %q", resp.ValidationErrors)
	}
	// Nothing was registered.
	if r := do(t, "GET", base+"/v1/job/x", ""); r.code != 404 {
		t.Fatalf("validate registered the job: %d", r.code)
	}
}
