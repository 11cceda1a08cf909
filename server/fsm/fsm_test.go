// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package fsm

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

type recorder struct{ evals []*structs.Evaluation }

func (r *recorder) EvalsCommitted(e []*structs.Evaluation) { r.evals = append(r.evals, e...) }

func newFSM(t *testing.T) (*FSM, *recorder) {
	t.Helper()
	st, err := state.New()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	return New(st, rec, hclog.NewNullLogger()), rec
}

func apply(t *testing.T, f *FSM, index uint64, mt structs.MessageType, msg any) any {
	t.Helper()
	buf, err := structs.Encode(mt, msg)
	if err != nil {
		t.Fatal(err)
	}
	return f.Apply(&raft.Log{Index: index, Data: buf})
}

func job() *structs.Job {
	j := &structs.Job{ID: "web", Type: structs.JobTypeService, Datacenters: []string{"dc1"},
		TaskGroups: []*structs.TaskGroup{{Name: "g", Count: 1, Tasks: []*structs.Task{{Name: "t", Driver: "raw_exec",
			Config: map[string]any{"command": "/bin/sh", "args": []any{"-c", "true"}, "nested": map[string]any{"k": "v"}}}}}}}
	j.Canonicalize()
	return j
}

func TestApplyJobRegisterKeepsFreeFormConfig(t *testing.T) {
	f, rec := newFSM(t)
	j := job()
	e := structs.NewEval(j, structs.EvalTriggerJobRegister, time.Unix(5, 0))
	if resp := apply(t, f, 3, structs.JobRegisterRequestType, &structs.JobRegisterRequest{Job: j, Eval: e}); resp != nil {
		t.Fatalf("apply: %v", resp)
	}
	got, _ := f.State().Snapshot().JobByID("default", "web")
	cfg := got.TaskGroups[0].Tasks[0].Config
	if got.CreateIndex != 3 || cfg["command"] != "/bin/sh" || cfg["nested"].(map[string]any)["k"] != "v" {
		t.Fatalf("stored job: %+v config %#v", got, cfg)
	}
	if len(rec.evals) != 1 || rec.evals[0].ID != e.ID {
		t.Fatalf("observer saw %v", rec.evals)
	}
}

func TestApplyRejectsUnknownAndCorrupt(t *testing.T) {
	f, _ := newFSM(t)
	if resp := f.Apply(&raft.Log{Index: 1, Data: []byte{200, 1, 2}}); resp == nil || !strings.Contains(resp.(error).Error(), "unknown raft message type 200") {
		t.Fatalf("unknown type: %v", resp)
	}
	if resp := f.Apply(&raft.Log{Index: 2, Data: []byte{byte(structs.JobRegisterRequestType), 0xc1}}); resp == nil {
		t.Fatal("corrupt entry applied")
	}
	if resp := f.Apply(&raft.Log{Index: 3}); resp == nil {
		t.Fatal("empty entry applied")
	}
}

type sink struct {
	bytes.Buffer
	cancelled bool
}

func (s *sink) ID() string    { return "test" }
func (s *sink) Cancel() error { s.cancelled = true; return nil }
func (s *sink) Close() error  { return nil }

func TestSnapshotRestore(t *testing.T) {
	f, _ := newFSM(t)
	j := job()
	apply(t, f, 1, structs.JobRegisterRequestType, &structs.JobRegisterRequest{Job: j, Eval: structs.NewEval(j, structs.EvalTriggerJobRegister, time.Unix(1, 0))})
	apply(t, f, 2, structs.NodeRegisterRequestType, &structs.NodeRegisterRequest{Node: &structs.Node{ID: "n1", SecretID: "secret", Status: structs.NodeStatusReady}})
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	if err := snap.Persist(&s); err != nil {
		t.Fatal(err)
	}
	other, _ := newFSM(t)
	if err := other.Restore(io.NopCloser(&s.Buffer)); err != nil {
		t.Fatal(err)
	}
	st := other.State().Snapshot()
	if j, _ := st.JobByID("default", "web"); j == nil || j.TaskGroups[0].Tasks[0].Config["command"] != "/bin/sh" {
		t.Fatalf("job after restore: %+v", j)
	}
	if n, _ := st.NodeByID("n1"); n == nil || n.SecretID != "secret" {
		t.Fatalf("node after restore: %+v", n)
	}
	if idx, _ := st.LatestIndex(); idx != 2 {
		t.Fatalf("index after restore: %d", idx)
	}
}
