// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// validJob is a canonical job that passes Validate; each case breaks one rule.
func validJob() *Job {
	j := bareJob(JobTypeService)
	j.TaskGroups[0].Tasks = append(j.TaskGroups[0].Tasks, &Task{Name: "sidecar", Driver: "exec"})
	j.Canonicalize()
	return j
}

func TestValidateAcceptsValidJobs(t *testing.T) {
	for _, typ := range []string{JobTypeService, JobTypeBatch, JobTypeSystem, JobTypeSysbatch} {
		j := bareJob(typ)
		j.Canonicalize()
		if err := j.Validate(); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	if err := validJob().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRules(t *testing.T) {
	grp := func(j *Job) *TaskGroup { return j.TaskGroups[0] }
	task := func(j *Job) *Task { return j.TaskGroups[0].Tasks[0] }
	cases := []struct {
		name   string
		mutate func(j *Job)
		want   string
	}{
		{"missing ID", func(j *Job) { j.ID = "" }, "Missing job ID"},
		{"ID with space", func(j *Job) { j.ID = "my job" }, "Job ID contains a space"},
		{"ID with NUL", func(j *Job) { j.ID = "a\x00b" }, "Job ID contains a null character"},
		{"missing name", func(j *Job) { j.Name = "" }, "Missing job name"},
		{"missing namespace", func(j *Job) { j.Namespace = "" }, "Job must be in a namespace"},
		{"missing region", func(j *Job) { j.Region = "" }, "Missing job region"},
		{"missing type", func(j *Job) { j.Type = "" }, "Missing job type"},
		{"bad type", func(j *Job) { j.Type = "cron" }, `Invalid job type: "cron"`},
		{"priority low", func(j *Job) { j.Priority = 0 }, "Job priority must be between [1, 100]; got 0"},
		{"priority high", func(j *Job) { j.Priority = 101 }, "Job priority must be between [1, 100]; got 101"},
		{"no datacenters", func(j *Job) { j.Datacenters = nil }, "Missing job datacenters"},
		{"empty datacenter", func(j *Job) { j.Datacenters = []string{"dc1", ""} }, "Job datacenter must be non-empty string"},
		{"no groups", func(j *Job) { j.TaskGroups = nil }, "Missing job task groups"},
		{"null group", func(j *Job) { j.TaskGroups = append(j.TaskGroups, nil) }, "Task group 2 is null"},
		{"group missing name", func(j *Job) { grp(j).Name = "" }, "Job task group 1 missing name"},
		{"duplicate group", func(j *Job) { j.TaskGroups = append(j.TaskGroups, grp(j).Copy()) },
			`Job task group 2 redefines "app" from group 1`},
		{"negative count", func(j *Job) { grp(j).Count = -1 }, `Task group "app": Task group count can't be negative`},
		{"no tasks", func(j *Job) { grp(j).Tasks = nil }, `Task group "app": Missing tasks for task group`},
		{"no group restart", func(j *Job) { grp(j).RestartPolicy = nil }, `Task group "app": Missing restart policy`},
		{"no disk", func(j *Job) { grp(j).EphemeralDisk = nil }, `Task group "app": Missing ephemeral disk`},
		{"task missing name", func(j *Job) { task(j).Name = "" }, `Task group "app": Task 1 missing name`},
		{"task name slash", func(j *Job) { task(j).Name = "a/b" }, `Task group "app": Task "a/b": Task name may not contain '/'`},
		{"duplicate task", func(j *Job) { grp(j).Tasks[1].Name = "server" },
			`Task group "app": Task 2 redefines "server" from task 1`},
		{"missing driver", func(j *Job) { task(j).Driver = "" }, `Task group "app": Task "server": Missing driver`},
		{"two leaders", func(j *Job) { grp(j).Tasks[0].Leader = true; grp(j).Tasks[1].Leader = true },
			`Task group "app": Only one task may be marked as leader`},
		{"negative kill timeout", func(j *Job) { task(j).KillTimeout = -time.Second },
			`Task "server": KillTimeout must be a positive value`},
		{"no resources", func(j *Job) { task(j).Resources = nil }, `Task "server": Missing task resources`},
		{"cpu zero", func(j *Job) { task(j).Resources.CPU = 0 }, `Task "server": Resources: Minimum CPU value is 1; got 0`},
		{"cpu and cores", func(j *Job) { task(j).Resources.Cores = 2 }, "Task can only ask for 'cpu' or 'cores' resource, not both"},
		{"memory low", func(j *Job) { task(j).Resources.MemoryMB = 9 }, "Resources: Minimum MemoryMB value is 10; got 9"},
		{"memory max below memory", func(j *Job) { task(j).Resources.MemoryMaxMB = 200 },
			"MemoryMaxMB value (200) should be larger than MemoryMB value (300)"},
		{"restart mode", func(j *Job) { grp(j).RestartPolicy.Mode = "retry" },
			`Task group "app": Restart policy: Unsupported restart mode: "retry"`},
		{"restart attempts negative", func(j *Job) { task(j).RestartPolicy.Attempts = -1 },
			`Task "server": Restart policy: Attempts can't be negative; got -1`},
		{"restart delay with no attempts", func(j *Job) {
			task(j).RestartPolicy.Attempts = 0
			task(j).RestartPolicy.Mode = "delay"
		}, `Restart mode "delay" with 0 attempts is ambiguous`},
		{"restarts do not fit interval", func(j *Job) {
			*grp(j).RestartPolicy = RestartPolicy{Attempts: 3, Delay: time.Minute, Interval: 2 * time.Minute, Mode: "fail"}
		}, "Can't restart 3 times in an interval of 2m0s with a delay of 1m0s"},
		{"log files", func(j *Job) { task(j).LogConfig.MaxFiles = 0 }, "Log config: Minimum number of files is 1; got 0"},
		{"logs exceed disk", func(j *Job) { grp(j).EphemeralDisk.SizeMB = 50 },
			"Log storage (100 MB) must be less than requested disk capacity (50 MB)"},
		{"unknown operand", func(j *Job) { j.Constraints[0].Operand = "~=" },
			`Constraint 1 validation failed: Unknown constraint type "~="`},
		{"bad regexp", func(j *Job) {
			j.Constraints[0] = &Constraint{LTarget: "${attr.os.name}", Operand: "regexp", RTarget: "("}
		},
			"Constraint 1 validation failed: Regular expression failed to compile"},
		{"missing RTarget", func(j *Job) { grp(j).Constraints = []*Constraint{{LTarget: "${node.class}", Operand: "!="}} },
			`Task group "app": Constraint 1 validation failed: No RTarget provided but is required by constraint`},
		{"distinct_hosts on a task", func(j *Job) { task(j).Constraints = []*Constraint{{Operand: "distinct_hosts"}} },
			`Task "server": Constraint 1 validation failed: Operator "distinct_hosts" is only allowed on jobs and groups`},
		{"distinct_property limit", func(j *Job) {
			grp(j).Constraints = []*Constraint{{LTarget: "${meta.rack}", Operand: "distinct_property", RTarget: "x"}}
		}, `Operator "distinct_property" takes a positive allocation limit; got "x"`},
		{"is_set with value", func(j *Job) { j.Constraints[0] = &Constraint{LTarget: "${meta.a}", Operand: "is_set", RTarget: "1"} },
			`Operator "is_set" takes no RTarget; got "1"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := validJob()
			tc.mutate(j)
			err := j.Validate()
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateAcceptsEveryKnownOperand(t *testing.T) {
	ops := []string{"=", "==", "is", "!=", "not", "<", "<=", ">", ">=", "regexp",
		"set_contains", "set_contains_all", "set_contains_any", "version", "semver"}
	for _, op := range ops {
		j := validJob()
		j.Constraints = []*Constraint{{LTarget: "${attr.a}", RTarget: "1", Operand: op}}
		if err := j.Validate(); err != nil {
			t.Errorf("operand %q: %v", op, err)
		}
	}
	j := validJob()
	j.Constraints = []*Constraint{
		{LTarget: "${attr.a}", Operand: "is_set"},
		{LTarget: "${attr.b}", Operand: "is_not_set"},
		{Operand: "distinct_hosts", RTarget: "true"},
		{LTarget: "${meta.rack}", Operand: "distinct_property", RTarget: "2"},
	}
	if err := j.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	j := validJob()
	j.ID = ""
	j.Priority = 0
	j.Type = JobTypeBatch // keeps the service update block and reschedule policy
	j.TaskGroups[0].ReschedulePolicy.MaxDelay = 0
	j.TaskGroups[0].Tasks[0].Driver = ""
	j.TaskGroups[0].Tasks[1].Resources.MemoryMB = 1
	err := j.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %T, want *ValidationError", err)
	}
	want := []string{
		"Missing job ID",
		"Job priority must be between [1, 100]; got 0",
		`Task group "app": Job type "batch" does not allow update block`,
		`Task group "app": Reschedule policy: Max Delay cannot be less than Delay 30s (got 0s)`,
		`Task group "app": Task "server": Missing driver`,
		`Task group "app": Task "sidecar": Resources: Minimum MemoryMB value is 10; got 1`,
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got lines:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	if len(ve.Problems) != len(want) {
		t.Fatalf("%d problems, want %d", len(ve.Problems), len(want))
	}
}

func TestValidateNil(t *testing.T) {
	var j *Job
	if err := j.Validate(); err == nil {
		t.Fatal("nil job validated")
	}
}
