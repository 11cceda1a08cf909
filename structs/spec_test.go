// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// fillAll sets every field reachable from v to a non-zero value, so the
// copy test covers fields added later.
func fillAll(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillAll(p.Elem())
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillAll(v.Field(i))
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillAll(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fillAll(k)
		e := reflect.New(v.Type().Elem()).Elem()
		fillAll(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{"nested": []any{"x"}}))
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	}
}

// mutateAll changes every scalar reachable from v, through every pointer,
// slice, map and interface.
func mutateAll(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			mutateAll(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				mutateAll(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			mutateAll(v.Index(i))
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(iter.Value())
			if e.Kind() != reflect.Pointer && e.Kind() != reflect.Map && e.Kind() != reflect.Slice && e.Kind() != reflect.Interface {
				mutateAll(e)
				v.SetMapIndex(iter.Key(), e)
				continue
			}
			mutateAll(e)
		}
	case reflect.Interface:
		if !v.IsNil() {
			mutateAll(v.Elem())
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString("changed")
		}
	case reflect.Bool:
		v.SetBool(false)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(9)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(9)
	}
}

func TestCopyIsIndependent(t *testing.T) {
	orig := new(Job)
	fillAll(reflect.ValueOf(orig).Elem())
	snapshot := deepCopy(orig)
	c := orig.Copy()
	if !reflect.DeepEqual(c, orig) {
		t.Fatal("copy differs from original")
	}
	mutateAll(reflect.ValueOf(c))
	if !reflect.DeepEqual(orig, snapshot) {
		t.Fatal("mutating the copy changed the original: a pointer, slice or map is shared")
	}
	if reflect.DeepEqual(c, orig) {
		t.Fatal("mutateAll changed nothing; the test cannot fail")
	}
	tg := orig.TaskGroups[0].Copy()
	mutateAll(reflect.ValueOf(tg))
	task := orig.TaskGroups[0].Tasks[0].Copy()
	mutateAll(reflect.ValueOf(task))
	if !reflect.DeepEqual(orig, snapshot) {
		t.Fatal("group or task copy shares state with the original")
	}
}

func TestCanonicalizeBlocks(t *testing.T) {
	j := bareJob(JobTypeService)
	tg := j.TaskGroups[0]
	tg.Networks = []*NetworkResource{{DynamicPorts: []Port{{Label: "http"}}}}
	tg.Services = []*Service{{PortLabel: "http", Checks: []*ServiceCheck{{Type: "http", Path: "/"}}}}
	tg.Volumes = map[string]*VolumeRequest{"data": {Type: "host", Source: "d"}}
	task := tg.Tasks[0]
	task.Services = []*Service{{Name: "${JOB}-${TASK}-x"}, {}}
	task.Templates = []*Template{{DestPath: "local/a", EmbeddedTmpl: "a"}}
	task.Artifacts = []*TaskArtifact{{GetterSource: "https://x"}}
	task.Lifecycle = &TaskLifecycle{}
	task.VolumeMounts = []*VolumeMount{{Volume: "data", Destination: "/d"}}
	task.Vault = &Vault{}
	j.Periodic = &PeriodicConfig{Spec: "@daily"}
	j.ParameterizedJob = &ParameterizedJobConfig{}
	j.Affinities = []*Affinity{{LTarget: "a", RTarget: "b"}}
	j.Canonicalize()

	checks := []struct {
		name      string
		got, want any
	}{
		{"network mode", tg.Networks[0].Mode, "host"},
		{"host network", tg.Networks[0].DynamicPorts[0].HostNetwork, "default"},
		{"group service name", tg.Services[0].Name, "web-app"},
		{"service provider", tg.Services[0].Provider, "consul"},
		{"check name", tg.Services[0].Checks[0].Name, `service: "web-app" check`},
		{"check protocol", tg.Services[0].Checks[0].Protocol, "http"},
		{"interpolated name", task.Services[0].Name, "web-server-x"},
		{"task service name", task.Services[1].Name, "web-app-server"},
		{"volume name", tg.Volumes["data"].Name, "data"},
		{"template change mode", task.Templates[0].ChangeMode, "restart"},
		{"template perms", task.Templates[0].Perms, "0644"},
		{"artifact dest", task.Artifacts[0].RelativeDest, "local/"},
		{"empty lifecycle", task.Lifecycle, (*TaskLifecycle)(nil)},
		{"propagation", task.VolumeMounts[0].PropagationMode, "private"},
		{"vault change mode", task.Vault.ChangeMode, "restart"},
		{"periodic type", j.Periodic.SpecType, "cron"},
		{"periodic tz", j.Periodic.TimeZone, "UTC"},
		{"payload", j.ParameterizedJob.Payload, "optional"},
		{"affinity weight", j.Affinities[0].Weight, int8(50)},
		{"update", *tg.Update, *DefaultUpdateStrategy()},
		{"migrate", *tg.Migrate, *DefaultMigrateStrategy()},
		{"reschedule", *tg.ReschedulePolicy, *DefaultReschedulePolicy(JobTypeService)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	again := j.Copy()
	again.Canonicalize()
	if !reflect.DeepEqual(again, j) {
		t.Error("Canonicalize is not idempotent")
	}
}

func TestCanonicalizeStrategiesPerType(t *testing.T) {
	for _, typ := range []string{JobTypeBatch, JobTypeSysbatch, JobTypeSystem} {
		j := bareJob(typ)
		j.Update = DefaultUpdateStrategy()
		j.TaskGroups[0].Count = 0
		j.Canonicalize()
		tg := j.TaskGroups[0]
		if batch := typ != JobTypeSystem; batch && (j.Update != nil || tg.Update != nil) {
			t.Errorf("%s keeps an update block", typ)
		}
		if tg.Migrate != nil {
			t.Errorf("%s got a migrate block", typ)
		}
		if typ != JobTypeBatch && tg.ReschedulePolicy != nil {
			t.Errorf("%s got a reschedule policy", typ)
		}
		if typ != JobTypeBatch && tg.Count != 1 {
			t.Errorf("%s count = %d, want 1", typ, tg.Count)
		}
	}
}

// specJob is a valid service job using most blocks; each validation case
// breaks one rule.
func specJob() *Job {
	j := bareJob(JobTypeService)
	tg := j.TaskGroups[0]
	tg.Networks = []*NetworkResource{{Mode: "bridge",
		ReservedPorts: []Port{{Label: "admin", Value: 9000}},
		DynamicPorts:  []Port{{Label: "http", To: 8080}}}}
	tg.Services = []*Service{{Name: "web", PortLabel: "http", Checks: []*ServiceCheck{
		{Type: "http", Path: "/health", Interval: 10 * time.Second, Timeout: 2 * time.Second}}}}
	tg.Volumes = map[string]*VolumeRequest{"data": {Type: "host", Source: "data"}}
	tg.Scaling = &ScalingPolicy{Min: 1, Max: 5, Enabled: true}
	tg.Disconnect = &DisconnectStrategy{LostAfter: time.Hour}
	task := tg.Tasks[0]
	task.Templates = []*Template{{EmbeddedTmpl: "x", DestPath: "local/x"}}
	task.Artifacts = []*TaskArtifact{{GetterSource: "https://example.com/x"}}
	task.VolumeMounts = []*VolumeMount{{Volume: "data", Destination: "/data"}}
	task.Actions = []*Action{{Name: "reload", Command: "/bin/true"}}
	task.Identities = []*WorkloadIdentity{{Name: "vault", Audience: []string{"vault.io"}}}
	tg.Tasks = append(tg.Tasks, &Task{Name: "init", Driver: "exec", Lifecycle: &TaskLifecycle{Hook: "prestart"}})
	j.Canonicalize()
	return j
}

func TestValidateSpecRules(t *testing.T) {
	grp := func(j *Job) *TaskGroup { return j.TaskGroups[0] }
	task := func(j *Job) *Task { return j.TaskGroups[0].Tasks[0] }
	batch := func(j *Job) {
		j.Type = JobTypeBatch
		j.Canonicalize()
	}
	cases := []struct {
		name   string
		mutate func(j *Job)
		want   string
	}{
		{"periodic on service", func(j *Job) { j.Periodic = &PeriodicConfig{Spec: "@daily", SpecType: "cron", TimeZone: "UTC"} },
			`Periodic can only be used with "batch" or "sysbatch" scheduler`},
		{"bad cron", func(j *Job) {
			batch(j)
			j.Periodic = &PeriodicConfig{Spec: "61 * * * *", SpecType: "cron", TimeZone: "UTC"}
		},
			`Periodic: Invalid cron spec "61 * * * *"`},
		{"bad time zone", func(j *Job) {
			batch(j)
			j.Periodic = &PeriodicConfig{Spec: "@daily", SpecType: "cron", TimeZone: "Mars/Olympus"}
		},
			`Periodic: Invalid time zone "Mars/Olympus"`},
		{"bad payload", func(j *Job) { batch(j); j.ParameterizedJob = &ParameterizedJobConfig{Payload: "maybe"} },
			`Parameterized job: Unknown payload requirement: "maybe"`},
		{"update max_parallel", func(j *Job) { grp(j).Update.Canary = -1 }, `Update: Canary count can not be less than zero`},
		{"auto promote", func(j *Job) { grp(j).Update.AutoPromote = true }, `Auto Promote requires a Canary count greater than zero`},
		{"update deadlines", func(j *Job) { grp(j).Update.MinHealthyTime = time.Hour }, `Minimum healthy time must be less than healthy deadline`},
		{"migrate check", func(j *Job) { grp(j).Migrate.HealthCheck = "manual" }, `Migrate: Invalid health check given: "manual"`},
		{"reschedule delay", func(j *Job) { grp(j).ReschedulePolicy.Delay = time.Second }, `Reschedule policy: Delay cannot be less than 5s`},
		{"reschedule function", func(j *Job) { grp(j).ReschedulePolicy.DelayFunction = "random" }, `Invalid delay function "random"`},
		{"duplicate port", func(j *Job) { grp(j).Networks[0].DynamicPorts[0].Label = "admin" }, `Port label "admin" already in use`},
		{"static port range", func(j *Job) { grp(j).Networks[0].ReservedPorts[0].Value = 70000 }, `invalid static value 70000`},
		{"network mode", func(j *Job) { grp(j).Networks[0].Mode = "overlay" }, `Invalid network mode "overlay"`},
		{"service name", func(j *Job) { grp(j).Services[0].Name = "web_app" }, `Service name must be valid per RFC 1123`},
		{"service port", func(j *Job) { grp(j).Services[0].PortLabel = "grpc" }, `Port label "grpc" referenced by service`},
		{"check type", func(j *Job) { grp(j).Services[0].Checks[0].Type = "ping" }, `Invalid check type: "ping"`},
		{"check interval", func(j *Job) { grp(j).Services[0].Checks[0].Interval = 0 }, `Interval must be at least 1s`},
		{"template dest", func(j *Job) { task(j).Templates[0].DestPath = "" }, `Template 1: Must specify a destination`},
		{"template signal", func(j *Job) { task(j).Templates[0].ChangeMode = "signal" }, `Must specify signal value when change mode is signal`},
		{"template change mode", func(j *Job) { task(j).Templates[0].ChangeMode = "reload" }, `Invalid change mode "reload"`},
		{"artifact source", func(j *Job) { task(j).Artifacts[0].GetterSource = "" }, `Artifact 1: Source must be specified`},
		{"volume mount", func(j *Job) { task(j).VolumeMounts[0].Volume = "logs" }, `references undefined volume "logs"`},
		{"lifecycle hook", func(j *Job) { grp(j).Tasks[1].Lifecycle.Hook = "prerun" }, `Lifecycle: invalid hook "prerun"`},
		{"poststop sidecar", func(j *Job) { grp(j).Tasks[1].Lifecycle = &TaskLifecycle{Hook: "poststop", Sidecar: true} },
			`sidecar is not supported with hook "poststop"`},
		{"no main task", func(j *Job) { task(j).Lifecycle = &TaskLifecycle{Hook: "poststart"} }, `at least one main task`},
		{"vault root", func(j *Job) { task(j).Vault = &Vault{Policies: []string{"root"}, ChangeMode: "restart"} }, `Can not specify "root" policy`},
		{"identity signal", func(j *Job) { task(j).Identities[0].ChangeMode = "signal" }, `change_signal must be set`},
		{"duplicate identity", func(j *Job) { task(j).Identities = append(task(j).Identities, task(j).Identities[0]) }, `Duplicate identity name "vault"`},
		{"dispatch payload", func(j *Job) {
			batch(j)
			j.ParameterizedJob = &ParameterizedJobConfig{Payload: "optional"}
			task(j).DispatchPayload = &DispatchPayloadConfig{File: "../../etc/passwd"}
		}, `must be a relative path inside the task's local directory`},
		{"scaling bounds", func(j *Job) { grp(j).Scaling.Max = 1; grp(j).Count = 3 }, `Task group count must be between minimum and maximum`},
		{"scaling min max", func(j *Job) { grp(j).Scaling.Min = 6 }, `Maximum count must not be less than minimum count`},
		{"disconnect both", func(j *Job) { grp(j).Disconnect.StopOnClientAfter = time.Minute }, `only one of lost_after or stop_on_client_after`},
		{"disconnect deprecated", func(j *Job) { d := time.Minute; grp(j).MaxClientDisconnect = &d }, `deprecated max_client_disconnect`},
		{"duplicate action", func(j *Job) { task(j).Actions = append(task(j).Actions, &Action{Name: "reload", Command: "x"}) }, `duplicate action name "reload"`},
		{"csi plugin type", func(j *Job) { task(j).CSIPluginConfig = &TaskCSIPluginConfig{ID: "p", Type: "sidecar"} }, `PluginType must be one of`},
		{"affinity weight", func(j *Job) { j.Affinities = []*Affinity{{LTarget: "a", RTarget: "b", Operand: "=", Weight: 0}} }, `Affinity weight must be within the range`},
		{"spread sum", func(j *Job) {
			j.Spreads = []*Spread{{Attribute: "${node.datacenter}", Weight: 50, SpreadTarget: []*SpreadTarget{{Value: "a", Percent: 60}, {Value: "b", Percent: 60}}}}
		}, `Sum of spread target percentages must not be greater than 100%`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := specJob()
			if err := j.Validate(); err != nil {
				t.Fatalf("base job invalid: %v", err)
			}
			tc.mutate(j)
			err := j.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateSpecReportsAllProblems(t *testing.T) {
	j := specJob()
	j.TaskGroups[0].Networks[0].ReservedPorts[0].Value = 0
	j.TaskGroups[0].Tasks[0].Templates[0].DestPath = ""
	j.TaskGroups[0].Tasks[0].Artifacts[0].GetterSource = ""
	err := j.Validate()
	ve, ok := err.(*ValidationError)
	if !ok || len(ve.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	for _, want := range []string{`Task group "app": Network 1: Port "admin"`, `Task group "app": Task "server": Template 1`, `Task group "app": Task "server": Artifact 1`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in\n%v", want, err)
		}
	}
}

func TestUnsupportedFeatures(t *testing.T) {
	if got := bareJob(JobTypeService).UnsupportedFeatures(); got != nil {
		t.Fatalf("plain job: %q", got)
	}
	j := specJob()
	j.Affinities = []*Affinity{{LTarget: "a", RTarget: "b", Operand: "=", Weight: 10}}
	j.Spreads = []*Spread{{Attribute: "${node.datacenter}", Weight: 50}}
	j.TaskGroups[0].Update.Canary = 1
	want := []string{
		`TaskGroups[0].Networks[0].Mode ("bridge": only host networking is supported)`, "TaskGroups[0].Services", "TaskGroups[0].Volumes",
		"TaskGroups[0].Update", "TaskGroups[0].Scaling", "TaskGroups[0].Disconnect",
		"TaskGroups[0].Tasks[0].Templates",
		"TaskGroups[0].Tasks[0].VolumeMounts", "TaskGroups[0].Tasks[0].Identities",
		"TaskGroups[0].Tasks[0].Actions",
	}
	got := j.UnsupportedFeatures()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	sys := bareJob(JobTypeSystem)
	sys.Canonicalize()
	if got := sys.UnsupportedFeatures(); got != nil {
		t.Fatalf("system job: %q", got)
	}
	def := bareJob(JobTypeService)
	def.TaskGroups[0].Tasks[0].Identity = &WorkloadIdentity{Name: "default"}
	def.Canonicalize()
	if got := def.UnsupportedFeatures(); got != nil {
		t.Fatalf("default identity listed: %q", got)
	}
}
