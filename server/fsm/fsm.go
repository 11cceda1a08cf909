// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package fsm applies committed raft log entries to the state store. Apply
// is deterministic: every server applies the same entries to the same
// result, so nothing here reads a clock, draws a random number or depends
// on whether this server leads. What only the leader does with a change
// (queueing evaluations) goes through the Observer.
package fsm

import (
	"fmt"
	"io"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// Observer hears of evaluations as they are committed. The server's
// implementation feeds the leader's eval broker and ignores them on
// followers.
type Observer interface {
	EvalsCommitted(evals []*structs.Evaluation)
}

// FSM is the raft finite state machine over the state store.
type FSM struct {
	state    *state.StateStore
	observer Observer
	logger   hclog.Logger
}

// New returns an FSM writing to st. observer may be nil.
func New(st *state.StateStore, observer Observer, logger hclog.Logger) *FSM {
	return &FSM{state: st, observer: observer, logger: logger.Named("fsm")}
}

// State returns the store the FSM writes.
func (f *FSM) State() *state.StateStore { return f.state }

// Apply implements raft.FSM. A decode or apply error is returned as the
// log's response: the write is refused identically on every server.
func (f *FSM) Apply(l *raft.Log) any {
	if len(l.Data) == 0 {
		return fmt.Errorf("empty raft log entry at index %d", l.Index)
	}
	t := structs.MessageType(l.Data[0])
	buf := l.Data[1:]
	switch t {
	case structs.JobRegisterRequestType:
		var req structs.JobRegisterRequest
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.UpsertJob(l.Index, req.Job, req.Eval); err != nil {
			return err
		}
		f.committed(req.Eval)
	case structs.JobDeregisterRequestType:
		var req structs.JobDeregisterRequest
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.DeregisterJob(l.Index, &req); err != nil {
			return err
		}
		f.committed(req.Eval)
	case structs.EvalUpdateRequestType:
		var req structs.EvalUpdateRequest
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.UpsertEvals(l.Index, req.Evals); err != nil {
			return err
		}
		f.committed(req.Evals...)
	case structs.ApplyPlanResultsRequestType:
		var req structs.ApplyPlanResultsRequest
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.ApplyPlanResults(l.Index, &req); err != nil {
			return err
		}
	case structs.NodeRegisterRequestType:
		var req structs.NodeRegisterRequest
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.UpsertNode(l.Index, req.Node); err != nil {
			return err
		}
	case structs.NodeUpdateStatusRequestType:
		var req structs.NodeStatusUpdate
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.UpdateNodeStatus(l.Index, &req); err != nil {
			return err
		}
		f.committed(req.Evals...)
	case structs.AllocClientUpdateRequestType:
		var req structs.AllocClientUpdate
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.UpdateAllocsFromClient(l.Index, &req); err != nil {
			return err
		}
		f.committed(req.Evals...)
	case structs.NodeUpdateDrainRequestType:
		var req structs.NodeDrainUpdate
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.UpdateNodeDrain(l.Index, &req); err != nil {
			return err
		}
		f.committed(req.Evals...)
	case structs.NodeUpdateEligibilityRequestType:
		var req structs.NodeEligibilityUpdate
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.UpdateNodeEligibility(l.Index, &req); err != nil {
			return err
		}
		f.committed(req.Evals...)
	case structs.AllocUpdateDesiredTransitionRequestType:
		var req structs.AllocDesiredTransitionUpdate
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.UpdateAllocsDesiredTransition(l.Index, &req); err != nil {
			return err
		}
		f.committed(req.Evals...)
	case structs.NodePoolUpsertRequestType:
		var req structs.NodePoolUpsertRequest
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.UpsertNodePools(l.Index, req.NodePools); err != nil {
			return err
		}
	case structs.NodePoolDeleteRequestType:
		var req structs.NodePoolDeleteRequest
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.DeleteNodePools(l.Index, req.Names); err != nil {
			return err
		}
	case structs.SchedulerConfigRequestType:
		var req structs.SchedulerSetConfigRequest
		if err := structs.Decode(buf, &req); err != nil {
			return f.decodeErr(t, l.Index, err)
		}
		if err := f.state.SetSchedulerConfig(l.Index, &req); err != nil {
			return err
		}
	default:
		// An unknown type means a newer server wrote this entry: refusing
		// it on every server keeps them identical.
		return fmt.Errorf("unknown raft message type %d at index %d", t, l.Index)
	}
	return nil
}

func (f *FSM) decodeErr(t structs.MessageType, index uint64, err error) error {
	f.logger.Error("cannot decode raft log entry", "type", t, "index", index, "error", err)
	return fmt.Errorf("decode raft message type %d at index %d: %w", t, index, err)
}

func (f *FSM) committed(evals ...*structs.Evaluation) {
	if f.observer == nil {
		return
	}
	var out []*structs.Evaluation
	for _, e := range evals {
		if e != nil {
			out = append(out, e)
		}
	}
	if len(out) > 0 {
		f.observer.EvalsCommitted(out)
	}
}

// Snapshot implements raft.FSM.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	dump, err := f.state.Snapshot().Dump()
	if err != nil {
		return nil, fmt.Errorf("dump state for snapshot: %w", err)
	}
	return &snapshot{dump: dump}, nil
}

// Restore implements raft.FSM.
func (f *FSM) Restore(r io.ReadCloser) error {
	defer r.Close()
	var dump state.Dump
	if err := codec.NewDecoder(r, structs.MsgpackHandle).Decode(&dump); err != nil {
		return fmt.Errorf("decode state snapshot: %w", err)
	}
	return f.state.Restore(&dump)
}

type snapshot struct{ dump *state.Dump }

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if err := codec.NewEncoder(sink, structs.MsgpackHandle).Encode(s.dump); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("write state snapshot: %w", err)
	}
	return sink.Close()
}

func (s *snapshot) Release() {}
