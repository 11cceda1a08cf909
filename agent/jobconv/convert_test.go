// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobconv

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/structs"
	nomad "github.com/hashicorp/nomad/api"
)

// minimalJob is the smallest job a user submits: everything else defaults.
func minimalJob(typ string) *api.Job {
	j := &api.Job{
		ID:          api.Ptr("web"),
		Datacenters: []string{"dc1"},
		TaskGroups: []*api.TaskGroup{{
			Name:  api.Ptr("app"),
			Tasks: []*api.Task{{Name: "server", Driver: "raw_exec"}},
		}},
	}
	if typ != "" {
		j.Type = api.Ptr(typ)
	}
	return j
}

// fullJob is a realistic job touching most blocks, with a task Config that
// must keep its Go types.
func fullJob() *api.Job {
	j := minimalJob("service")
	j.Affinities = []*nomad.Affinity{{LTarget: "${node.class}", RTarget: "fast", Operand: "=", Weight: api.Ptr(int8(30))}}
	j.Spreads = []*nomad.Spread{{Attribute: "${node.datacenter}", SpreadTarget: []*nomad.SpreadTarget{{Value: "dc1", Percent: 60}}}}
	tg := j.TaskGroups[0]
	tg.Networks = []*api.NetworkResource{{Mode: "bridge", DynamicPorts: []nomad.Port{{Label: "http", To: 8080}}}}
	tg.Services = []*nomad.Service{{PortLabel: "http", Checks: []nomad.ServiceCheck{{
		Type: "http", Path: "/health", Interval: 10 * time.Second, Timeout: 2 * time.Second}}}}
	tg.Volumes = map[string]*nomad.VolumeRequest{"data": {Type: "host", Source: "data"}}
	t := tg.Tasks[0]
	t.Config = map[string]any{"command": "/bin/web", "args": []any{"-v"}, "retries": 3}
	t.Templates = []*nomad.Template{{EmbeddedTmpl: api.Ptr("x={{ env \"A\" }}"), DestPath: api.Ptr("local/x.env")}}
	t.Artifacts = []*nomad.TaskArtifact{{GetterSource: api.Ptr("https://example.com/a.tgz")}}
	t.VolumeMounts = []*nomad.VolumeMount{{Volume: api.Ptr("data"), Destination: api.Ptr("/data")}}
	t.Services = []*nomad.Service{{Name: "${TASK}-metrics", PortLabel: "http", Provider: "nomad"}}
	t.Actions = []*nomad.Action{{Name: "reload", Command: "/bin/kill", Args: []string{"-HUP", "1"}}}
	t.LogConfig = &api.LogConfig{Enabled: api.Ptr(false)} // deprecated form of Disabled
	return j
}

func TestAPIJobToStructsDefaults(t *testing.T) {
	cases := []struct {
		typ        string
		restart    *structs.RestartPolicy
		reschedule *structs.ReschedulePolicy
		update     bool
	}{
		{"service", structs.DefaultServiceRestartPolicy(), structs.DefaultReschedulePolicy("service"), true},
		{"batch", structs.DefaultBatchRestartPolicy(), structs.DefaultReschedulePolicy("batch"), false},
		{"system", structs.DefaultServiceRestartPolicy(), nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			j, err := APIJobToStructs(minimalJob(tc.typ))
			if err != nil {
				t.Fatal(err)
			}
			j.Canonicalize()
			tg := j.TaskGroups[0]
			if !reflect.DeepEqual(tg.RestartPolicy, tc.restart) {
				t.Errorf("restart = %+v, want %+v", tg.RestartPolicy, tc.restart)
			}
			if !reflect.DeepEqual(tg.ReschedulePolicy, tc.reschedule) {
				t.Errorf("reschedule = %+v, want %+v", tg.ReschedulePolicy, tc.reschedule)
			}
			if (tg.Update != nil) != tc.update {
				t.Errorf("update = %+v, want present=%v", tg.Update, tc.update)
			}
			task := tg.Tasks[0]
			if task.KillTimeout != 5*time.Second || task.Resources.CPU != 100 || task.Resources.MemoryMB != 300 ||
				task.LogConfig.MaxFiles != 10 || tg.EphemeralDisk.SizeMB != 300 {
				t.Errorf("task defaults: %+v %+v %+v", task, task.Resources, task.LogConfig)
			}
			if err := j.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
		})
	}
}

func TestAPIJobToStructsFullJob(t *testing.T) {
	in := fullJob()
	before, _ := json.Marshal(in)
	j, err := APIJobToStructs(in)
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := json.Marshal(in); string(before) != string(after) {
		t.Fatalf("input changed:\nbefore %s\nafter  %s", before, after)
	}
	j.Canonicalize()
	if err := j.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	task := j.TaskGroups[0].Tasks[0]
	if v := task.Config["retries"]; v != 3 {
		t.Errorf("Config retries = %#v, want int 3", v)
	}
	if !task.LogConfig.Disabled {
		t.Error("deprecated Enabled=false not folded into Disabled")
	}
	if got := task.Services[0].Name; got != "server-metrics" {
		t.Errorf("task service name = %q", got)
	}
	if got := j.TaskGroups[0].Services[0].Name; got != "web-app" {
		t.Errorf("group service name = %q, want web-app", got)
	}
	if a := j.Affinities[0]; a.Weight != 30 || j.Spreads[0].Weight != 50 {
		t.Errorf("affinity/spread = %+v %+v", a, j.Spreads[0])
	}
	if got := j.TaskGroups[0].Networks[0].DynamicPorts[0]; got.Label != "http" || got.To != 8080 {
		t.Errorf("port = %+v", got)
	}
	want := []string{
		`TaskGroups[0].Networks[0].Mode ("bridge": only host networking is supported)`, "TaskGroups[0].Services", "TaskGroups[0].Volumes",
		"TaskGroups[0].Tasks[0].Services", "TaskGroups[0].Tasks[0].Templates", "TaskGroups[0].Tasks[0].VolumeMounts",
		"TaskGroups[0].Tasks[0].Actions",
	}
	if got := j.UnsupportedFeatures(); !sameSet(got, want) {
		t.Errorf("UnsupportedFeatures = %q, want %q", got, want)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestAPIJobToStructsRefused(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(j *api.Job)
		want   []string
		reason string
	}{
		{"multiregion", func(j *api.Job) {
			j.Multiregion = &nomad.Multiregion{Regions: []*nomad.MultiregionRegion{{Name: "west"}}}
		}, []string{"Multiregion"}, "multiregion jobs are not supported by Drover"},
		{"task schedule", func(j *api.Job) {
			j.TaskGroups[0].Tasks[0].Schedule = &nomad.TaskSchedule{Cron: &nomad.TaskScheduleCron{Start: "0 9 * * *"}}
		}, []string{"TaskGroups[0].Tasks[0].Schedule"}, "Enterprise"},
		{"empty and default values pass", func(j *api.Job) {
			j.Multiregion = &nomad.Multiregion{}
			j.TaskGroups[0].Tasks[0].Resources = &api.Resources{Devices: []*nomad.RequestedDevice{}}
		}, nil, ""},
		{"already canonical input passes", func(j *api.Job) { j.Canonicalize() }, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := minimalJob("")
			tc.mutate(in)
			got, err := APIJobToStructs(in)
			if tc.want == nil {
				if err != nil || got == nil {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("error = %v, want *UnsupportedError", err)
			}
			if !slices.Equal(ue.Paths, tc.want) {
				t.Fatalf("paths = %q, want %q", ue.Paths, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want[0]+": ") || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("message %q does not name %s with %q", err, tc.want[0], tc.reason)
			}
		})
	}
}

func TestAPIJobToStructsNulls(t *testing.T) {
	if _, err := APIJobToStructs(nil); err == nil {
		t.Fatal("nil job: no error")
	}
	j := minimalJob("")
	j.TaskGroups = append(j.TaskGroups, nil)
	j.TaskGroups[0].Tasks = append(j.TaskGroups[0].Tasks, nil)
	j.TaskGroups[0].Services = []*nomad.Service{{Checks: []nomad.ServiceCheck{{Header: map[string][]string{"a": nil}}}}}
	j.TaskGroups[0].Volumes = map[string]*nomad.VolumeRequest{"v": nil}
	_, err := APIJobToStructs(j)
	for _, want := range []string{"TaskGroups[1]: null entry", "TaskGroups[0].Tasks[1]: null entry", `TaskGroups[0].Volumes["v"]: null entry`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error = %v, want %q", err, want)
		}
	}
}

// TestFieldsClassified walks the wire types and structs side by side from
// Job: every wire field is converted (a structs field of that name exists),
// refused or folded, exactly one of these; and every structs field has a
// wire counterpart. A nomad/api upgrade that adds a field fails here first.
func TestFieldsClassified(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(a, s reflect.Type, path string)
	walk = func(a, s reflect.Type, path string) {
		for a.Kind() == reflect.Pointer || a.Kind() == reflect.Slice || a.Kind() == reflect.Map {
			a = a.Elem()
		}
		for s.Kind() == reflect.Pointer || s.Kind() == reflect.Slice || s.Kind() == reflect.Map {
			s = s.Elem()
		}
		if a.Kind() != reflect.Struct || seen[a] {
			return
		}
		seen[a] = true
		for i := range a.NumField() {
			f := a.Field(i)
			_, isRefused := refused[a][f.Name]
			_, isFolded := folded[a][f.Name]
			sf, converted := s.FieldByName(f.Name)
			n := 0
			for _, b := range []bool{isRefused, isFolded, converted} {
				if b {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s.%s (%s): converted=%v refused=%v folded=%v, want exactly one", path, f.Name, a.Name(), converted, isRefused, isFolded)
				continue
			}
			if converted {
				walk(f.Type, sf.Type, path+"."+f.Name)
			}
		}
		for i := range s.NumField() {
			if !s.Field(i).IsExported() {
				continue // codec markers such as _struct
			}
			if _, ok := a.FieldByName(s.Field(i).Name); !ok {
				t.Errorf("structs %s.%s has no wire counterpart", s.Name(), s.Field(i).Name)
			}
		}
	}
	walk(reflect.TypeFor[api.Job](), reflect.TypeFor[structs.Job](), "Job")
	for typ, fields := range refused {
		for name := range fields {
			if _, ok := typ.FieldByName(name); !ok {
				t.Errorf("refused %s.%s does not exist", typ.Name(), name)
			}
		}
	}
}

// fill sets every field reachable from v to a non-zero value derived from
// its path, skipping refused and folded fields, so a conversion test covers
// fields added later without being edited.
func fill(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			_, r := refused[t][f.Name]
			_, fo := folded[t][f.Name]
			if !f.IsExported() || r || fo {
				continue
			}
			fill(v.Field(i), path+"."+f.Name)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), path+"[0]")
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, path+"key")
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, path+"[k]")
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf(path))
	case reflect.String:
		v.SetString(path)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(len(path)%50 + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(len(path)%50 + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	}
}

// TestRoundTripEveryField converts a job with every wire field set to
// structs and back: nothing may be lost, after the API's canonicalisation.
func TestRoundTripEveryField(t *testing.T) {
	in := new(api.Job)
	fill(reflect.ValueOf(in).Elem(), "Job")
	first, err := APIJobToStructs(in)
	if err != nil {
		t.Fatal(err)
	}
	if zero := zeroFields(reflect.ValueOf(first).Elem(), "Job"); len(zero) > 0 {
		t.Errorf("structs fields left empty by conversion: %q", zero)
	}
	back := StructsJobToAPI(first)
	want := copyJob(in)
	want.Canonicalize()
	back.Canonicalize()
	if !reflect.DeepEqual(back, want) {
		g, _ := json.MarshalIndent(back, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("round trip differs:\ngot  %s\nwant %s", g, w)
	}
	second, err := APIJobToStructs(back)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Fatal("api→structs→api→structs changed the job")
	}
}

// zeroFields lists the fields under v that hold their zero value.
func zeroFields(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return []string{path}
		}
		return zeroFields(v.Elem(), path)
	case reflect.Struct:
		var out []string
		for i := range v.NumField() {
			out = append(out, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return out
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			return []string{path}
		}
		if v.Kind() == reflect.Slice {
			return zeroFields(v.Index(0), path+"[0]")
		}
		var out []string
		iter := v.MapRange()
		for iter.Next() {
			out = append(out, zeroFields(iter.Value(), fmt.Sprintf("%s[%v]", path, iter.Key()))...)
		}
		return out
	}
	if v.IsZero() {
		return []string{path}
	}
	return nil
}

// TestConvertedJobsValidate runs the register path for each job type:
// convert, server defaults, validation; system jobs are valid but not yet
// runnable.
func TestConvertedJobsValidate(t *testing.T) {
	for _, typ := range []string{"service", "batch", "system", "sysbatch"} {
		j, err := APIJobToStructs(minimalJob(typ))
		if err != nil {
			t.Fatal(err)
		}
		j.Canonicalize()
		if err := j.Validate(); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		unsupported := j.UnsupportedFeatures()
		if len(unsupported) != 0 {
			t.Errorf("%s: UnsupportedFeatures = %q", typ, unsupported)
		}
	}
}
