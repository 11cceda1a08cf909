// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

// The allocation writes a user asks for: `alloc stop` ("Alloc.Stop")
// marks an allocation for migration and creates the evaluation that has the
// scheduler stop it and place its replacement. Like every write it forwards
// to the leader and goes through raft, in the one entry the drainer uses
// for the same mark (AllocUpdateDesiredTransitionRequestType).

import (
	"errors"
	"fmt"
	"time"

	"github.com/droverhq/drover/structs"
)

// ErrUnknownAlloc is returned for an allocation the servers do not know.
// Its text crosses RPC, so callers match on ErrUnknownAllocText.
var ErrUnknownAlloc = errors.New(ErrUnknownAllocText)

// ErrUnknownAllocText is ErrUnknownAlloc's message.
const ErrUnknownAllocText = "alloc not found"

// EvalTriggerAllocStop is the TriggeredBy of the evaluation `alloc stop`
// creates (Nomad's value).
const EvalTriggerAllocStop = "alloc-stop"

// AllocEndpoint serves the allocation RPCs.
type AllocEndpoint struct {
	srv *Server
}

// AllocStopArgs asks to stop (and replace) one allocation. NoShutdownDelay
// asks the client to skip the tasks' shutdown_delay.
type AllocStopArgs struct {
	AllocID         string
	NoShutdownDelay bool
}

// AllocStopReply answers Alloc.Stop with the evaluation that acts on it,
// in the shape of Nomad's AllocStopResponse.
type AllocStopReply struct {
	EvalID string
	Index  uint64
}

// Stop marks the allocation for migration and creates its job's
// evaluation: the scheduler then stops it and places a replacement, as it
// does for the allocations of a draining node.
func (e *AllocEndpoint) Stop(args *AllocStopArgs, reply *AllocStopReply) error {
	if done, err := e.srv.forward("Alloc.Stop", args, reply); done {
		return err
	}
	snap := e.srv.state.Snapshot()
	alloc, err := snap.AllocByID(args.AllocID)
	if err != nil {
		return fmt.Errorf("alloc stop %s: %w", args.AllocID, err)
	}
	if alloc == nil {
		return fmt.Errorf("alloc stop %s: %w", args.AllocID, ErrUnknownAlloc)
	}
	job, err := snap.JobByID(alloc.Namespace, alloc.JobID)
	if err != nil {
		return fmt.Errorf("alloc stop %s: %w", alloc.ID, err)
	}
	if job == nil {
		// Purged: the allocation's own copy still names the job, and
		// the scheduler stops what a missing job leaves behind.
		job = alloc.Job
	}
	if job == nil {
		return fmt.Errorf("alloc stop %s: allocation has no job", alloc.ID)
	}
	now := time.Now().UTC()
	yes := true
	dt := &structs.DesiredTransition{Migrate: &yes}
	if args.NoShutdownDelay {
		dt.NoShutdownDelay = &yes
	}
	eval := structs.NewEval(job, EvalTriggerAllocStop, now)
	eval.NodeID = alloc.NodeID
	update := &structs.AllocDesiredTransitionUpdate{
		Allocs:    map[string]*structs.DesiredTransition{alloc.ID: dt},
		Evals:     []*structs.Evaluation{eval},
		UpdatedAt: now.UnixNano(),
	}
	index, err := e.srv.raftApply(structs.AllocUpdateDesiredTransitionRequestType, update)
	if err != nil {
		return fmt.Errorf("alloc stop %s: %w", alloc.ID, err)
	}
	e.srv.logger.Info("allocation stop requested", "alloc_id", alloc.ID, "eval_id", eval.ID)
	reply.EvalID, reply.Index = eval.ID, index
	return nil
}

// StopAlloc stops an allocation through the leader and returns once this
// server's state has applied the change.
func (s *Server) StopAlloc(args *AllocStopArgs) (*AllocStopReply, error) {
	var reply AllocStopReply
	if err := (&AllocEndpoint{srv: s}).Stop(args, &reply); err != nil {
		return nil, err
	}
	return &reply, s.waitApplied(reply.Index)
}
