// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobdiff

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/structs"
)

func baseJob() *structs.Job {
	return &structs.Job{
		ID: "web", Name: "web", Namespace: "default", Type: "service", Priority: 50,
		Datacenters: []string{"dc1"},
		Meta:        map[string]string{"owner": "ops"},
		TaskGroups: []*structs.TaskGroup{{
			Name: "cache", Count: 1,
			Tasks: []*structs.Task{{
				Name: "redis", Driver: "raw_exec", KillTimeout: 5 * time.Second,
				Config:    map[string]any{"command": "/bin/sleep", "args": []any{"60"}},
				Resources: &structs.Resources{CPU: 100, MemoryMB: 300},
				Services:  []*structs.Service{{Name: "redis", PortLabel: "db"}},
			}},
		}},
		Status: "running", Version: 3, JobModifyIndex: 40, CreateIndex: 10, ModifyIndex: 41, SubmitTime: 12345,
	}
}

// summary renders a diff as compact lines ("Edited Job web", "  Edited
// Field Priority 50 -> 60") so cases read as what a user would see.
func summary(d *JobDiff) string {
	var b strings.Builder
	line := func(depth int, s string) {
		b.WriteString(strings.Repeat("  ", depth) + s + "\n")
	}
	fields := func(depth int, fs []*FieldDiff) {
		for _, f := range fs {
			s := f.Type + " Field " + f.Name + " " + f.Old + " -> " + f.New
			if len(f.Annotations) > 0 {
				s += " (" + strings.Join(f.Annotations, ", ") + ")"
			}
			line(depth, s)
		}
	}
	var objects func(int, []*ObjectDiff)
	objects = func(depth int, os []*ObjectDiff) {
		for _, o := range os {
			line(depth, o.Type+" Object "+o.Name)
			fields(depth+1, o.Fields)
			objects(depth+1, o.Objects)
		}
	}
	line(0, d.Type+" Job "+d.ID)
	fields(1, d.Fields)
	objects(1, d.Objects)
	for _, g := range d.TaskGroups {
		line(1, g.Type+" Group "+g.Name)
		fields(2, g.Fields)
		objects(2, g.Objects)
		for _, t := range g.Tasks {
			s := t.Type + " Task " + t.Name
			if len(t.Annotations) > 0 {
				s += " (" + strings.Join(t.Annotations, ", ") + ")"
			}
			line(2, s)
			fields(3, t.Fields)
			objects(3, t.Objects)
		}
	}
	return b.String()
}

func TestJobsTable(t *testing.T) {
	tests := []struct {
		name   string
		old    *structs.Job
		edit   func(j *structs.Job) // applied to a copy of baseJob
		delete bool
		// headers compares only the job, group and task lines.
		headers bool
		want    string
	}{
		{
			name: "unchanged, bookkeeping ignored",
			old:  baseJob(),
			edit: func(j *structs.Job) { j.Version, j.JobModifyIndex, j.Status, j.SubmitTime = 9, 99, "pending", 1 },
			want: "None Job web\n  None Group cache\n    None Task redis\n",
		},
		{
			name: "edited primitive field",
			old:  baseJob(),
			edit: func(j *structs.Job) { j.Priority = 60 },
			want: "Edited Job web\n  Edited Field Priority 50 -> 60\n  None Group cache\n    None Task redis\n",
		},
		{
			name: "added and deleted fields",
			old:  baseJob(),
			edit: func(j *structs.Job) { j.NodePool = "gpu"; j.Meta = nil },
			want: "Edited Job web\n  Deleted Field Meta[owner] ops -> \n  Added Field NodePool  -> gpu\n  None Group cache\n    None Task redis (forces create/destroy update)\n",
		},
		{
			name: "count up forces create",
			old:  baseJob(),
			edit: func(j *structs.Job) { j.TaskGroups[0].Count = 3 },
			want: "Edited Job web\n  Edited Group cache\n    Edited Field Count 1 -> 3 (forces create)\n    None Task redis\n",
		},
		{
			name: "count down forces destroy",
			old:  func() *structs.Job { j := baseJob(); j.TaskGroups[0].Count = 4; return j }(),
			edit: func(j *structs.Job) { j.TaskGroups[0].Count = 2 },
			want: "Edited Job web\n  Edited Group cache\n    Edited Field Count 4 -> 2 (forces destroy)\n    None Task redis\n",
		},
		{
			name: "datacenters as a set",
			old:  baseJob(),
			edit: func(j *structs.Job) { j.Datacenters = []string{"dc2"} },
			want: "Edited Job web\n  Edited Object Datacenters\n    Deleted Field Datacenters dc1 -> \n    Added Field Datacenters  -> dc2\n  None Group cache\n    None Task redis\n",
		},
		{
			name: "task config edit is destructive",
			old:  baseJob(),
			edit: func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Config["args"] = []any{"120"} },
			want: "Edited Job web\n  Edited Group cache\n    Edited Task redis (forces create/destroy update)\n      Edited Object Config\n        Edited Field args[0] 60 -> 120\n",
		},
		{
			name: "service edit is in place",
			old:  baseJob(),
			edit: func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Services[0].PortLabel = "http" },
			want: "Edited Job web\n  Edited Group cache\n    Edited Task redis (forces in-place update)\n      Edited Object Service\n        Edited Field PortLabel db -> http\n",
		},
		{
			name: "nested block edited",
			old:  baseJob(),
			edit: func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Resources.MemoryMB = 512 },
			want: "Edited Job web\n  Edited Group cache\n    Edited Task redis (forces create/destroy update)\n      Edited Object Resources\n        Edited Field MemoryMB 300 -> 512\n",
		},
		{
			name:    "group added and deleted",
			old:     baseJob(),
			edit:    func(j *structs.Job) { j.TaskGroups[0].Name = "db" },
			headers: true,
			want:    "Edited Job web\n  Deleted Group cache\n    Deleted Task redis (forces destroy)\n  Added Group db\n    Added Task redis (forces create)\n",
		},
		{
			name: "task added to an existing group",
			old:  baseJob(),
			edit: func(j *structs.Job) {
				j.TaskGroups[0].Tasks = append(j.TaskGroups[0].Tasks, &structs.Task{Name: "log", Driver: "raw_exec"})
			},
			headers: true,
			want:    "Edited Job web\n  Edited Group cache\n    Added Task log (forces create/destroy update)\n    None Task redis\n",
		},
		{
			name:   "deleted job",
			old:    baseJob(),
			delete: true,
			want:   "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var new *structs.Job
			if !tt.delete {
				new = tt.old.Copy()
				tt.edit(new)
			}
			d, err := Jobs(tt.old, new, false)
			if err != nil {
				t.Fatal(err)
			}
			if tt.delete {
				if d.Type != TypeDeleted || d.TaskGroups[0].Type != TypeDeleted || d.TaskGroups[0].Tasks[0].Annotations[0] != AnnotationForcesDestroy {
					t.Fatalf("deleted job diff:\n%s", summary(d))
				}
				return
			}
			got := summary(d)
			if tt.headers {
				got = headerLines(got)
			}
			if got != tt.want {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// headerLines keeps the job, group and task lines of a summary: cases
// that add whole groups or tasks would otherwise list every field of the
// model.
func headerLines(s string) string {
	var out []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.Contains(l, " Job ") || strings.Contains(l, " Group ") || strings.Contains(l, " Task ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

func TestNewJobIsAdded(t *testing.T) {
	d, err := Jobs(nil, baseJob(), false)
	if err != nil {
		t.Fatal(err)
	}
	if d.Type != TypeAdded || d.ID != "web" || len(d.TaskGroups) != 1 || d.TaskGroups[0].Type != TypeAdded {
		t.Fatalf("new job diff:\n%s", summary(d))
	}
	if got := d.TaskGroups[0].Tasks[0].Annotations; !reflect.DeepEqual(got, []string{AnnotationForcesCreate}) {
		t.Errorf("task annotations = %v", got)
	}
	// Bookkeeping fields never appear.
	for _, f := range d.Fields {
		if skipJob[f.Name] {
			t.Errorf("bookkeeping field %s in diff", f.Name)
		}
	}
}

func TestContextualIncludesUnchanged(t *testing.T) {
	old := baseJob()
	new := old.Copy()
	new.TaskGroups[0].Tasks[0].Config["args"] = []any{"120"}
	d, err := Jobs(old, new, true)
	if err != nil {
		t.Fatal(err)
	}
	task := d.TaskGroups[0].Tasks[0]
	var config *ObjectDiff
	for _, o := range task.Objects {
		if o.Name == "Config" {
			config = o
		}
	}
	if config == nil || config.Type != TypeEdited {
		t.Fatalf("no edited Config object:\n%s", summary(d))
	}
	want := []FieldDiff{
		{Type: TypeEdited, Name: "args[0]", Old: "60", New: "120"},
		{Type: TypeNone, Name: "command", Old: "/bin/sleep", New: "/bin/sleep"},
	}
	if len(config.Fields) != len(want) {
		t.Fatalf("config fields: %+v", config.Fields)
	}
	for i, f := range config.Fields {
		if !reflect.DeepEqual(*f, want[i]) {
			t.Errorf("config field %d = %+v, want %+v", i, *f, want[i])
		}
	}
	// Unchanged fields of the task are there too, typed None.
	found := false
	for _, f := range task.Fields {
		if f.Name == "Driver" && f.Type == TypeNone && f.Old == "raw_exec" {
			found = true
		}
	}
	if !found {
		t.Errorf("contextual diff lacks the unchanged Driver field:\n%s", summary(d))
	}
}

func TestMismatchedJobsRefused(t *testing.T) {
	other := baseJob()
	other.ID = "other"
	if _, err := Jobs(baseJob(), other, false); err == nil || !strings.Contains(err.Error(), `"other"`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Jobs(nil, nil, false); err == nil {
		t.Fatal("diff of two missing jobs succeeded")
	}
}

// The diff must decode as Nomad's api.JobDiff, field for field.
func TestJSONMatchesNomadAPI(t *testing.T) {
	old := baseJob()
	new := old.Copy()
	new.TaskGroups[0].Count = 2
	new.TaskGroups[0].Tasks[0].Env = map[string]string{"A": "1"}
	d, err := Jobs(old, new, true)
	if err != nil {
		t.Fatal(err)
	}
	d.TaskGroups[0].Updates = map[string]uint64{UpdateTypeCreate: 1}
	buf, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var api nomad.JobDiff
	dec := json.NewDecoder(strings.NewReader(string(buf)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&api); err != nil {
		t.Fatalf("decode as api.JobDiff: %v", err)
	}
	back, err := json.Marshal(&api)
	if err != nil {
		t.Fatal(err)
	}
	if string(back) != string(buf) {
		t.Errorf("round trip through api.JobDiff changed the JSON:\n%s\n%s", buf, back)
	}
	if api.TaskGroups[0].Updates["create"] != 1 || api.TaskGroups[0].Fields[0].Annotations[0] != AnnotationForcesCreate {
		t.Errorf("api diff: %+v", api.TaskGroups[0])
	}
}

func TestSingular(t *testing.T) {
	for in, want := range map[string]string{
		"Constraints": "Constraint", "Affinities": "Affinity", "Services": "Service",
		"Volumes": "Volume", "Address": "Address", "Config": "Config",
	} {
		if got := singular(in); got != want {
			t.Errorf("singular(%q) = %q, want %q", in, got, want)
		}
	}
}
