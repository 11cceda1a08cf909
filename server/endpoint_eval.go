// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/droverhq/drover/structs"
)

// EvalEndpoint is how scheduler workers, on any server, reach the leader's
// eval broker and commit evaluation updates. Every method forwards to the
// leader when called on a follower.
type EvalEndpoint struct {
	srv *Server
}

// evalDequeueWait caps one dequeue long poll.
const evalDequeueWait = 10 * time.Second

// EvalDequeueArgs asks for the next ready evaluation, waiting up to Timeout.
type EvalDequeueArgs struct {
	Timeout time.Duration
}

// EvalDequeueReply carries a dequeued evaluation (nil when none became
// ready in time), the token to Ack or Nack it with, and the index the
// worker's state must reach before scheduling it.
type EvalDequeueReply struct {
	Eval      *structs.Evaluation
	Token     string
	WaitIndex uint64
}

// EvalAckArgs names an outstanding evaluation and its delivery token.
type EvalAckArgs struct {
	EvalID string
	Token  string
}

// EvalUpdateArgs carries evaluations a scheduler creates or updates.
type EvalUpdateArgs struct {
	Evals []*structs.Evaluation
}

// Dequeue long-polls the leader's broker.
func (e *EvalEndpoint) Dequeue(args *EvalDequeueArgs, reply *EvalDequeueReply) error {
	if done, err := e.srv.forward("Eval.Dequeue", args, reply); done {
		return err
	}
	wait := args.Timeout
	if wait <= 0 || wait > evalDequeueWait {
		wait = evalDequeueWait
	}
	ctx, cancel := context.WithTimeout(e.srv.ctx, wait)
	defer cancel()
	eval, token, err := e.srv.broker.Dequeue(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil // nothing ready: the worker polls again
		}
		return fmt.Errorf("dequeue evaluation: %w", err)
	}
	reply.Eval, reply.Token = eval, token
	// The leader's FSM applied the evaluation (and everything before it)
	// before the broker saw it, so its latest index is one the worker's
	// state must reach; the evaluation's own indexes may be unset on the
	// broker's copy.
	reply.WaitIndex = max(eval.ModifyIndex, e.srv.state.LatestIndex())
	return nil
}

// Ack completes an outstanding evaluation.
func (e *EvalEndpoint) Ack(args *EvalAckArgs, reply *structs.GenericResponse) error {
	if done, err := e.srv.forward("Eval.Ack", args, reply); done {
		return err
	}
	return e.srv.broker.Ack(args.EvalID, args.Token)
}

// Nack returns an outstanding evaluation to the broker for redelivery.
func (e *EvalEndpoint) Nack(args *EvalAckArgs, reply *structs.GenericResponse) error {
	if done, err := e.srv.forward("Eval.Nack", args, reply); done {
		return err
	}
	return e.srv.broker.Nack(args.EvalID, args.Token)
}

// OutstandingReset restarts the nack timer of an evaluation still being
// worked on.
func (e *EvalEndpoint) OutstandingReset(args *EvalAckArgs, reply *structs.GenericResponse) error {
	if done, err := e.srv.forward("Eval.OutstandingReset", args, reply); done {
		return err
	}
	return e.srv.broker.OutstandingReset(args.EvalID, args.Token)
}

// Update commits evaluations (status changes, new blocked or follow-up
// evaluations) through raft.
func (e *EvalEndpoint) Update(args *EvalUpdateArgs, reply *structs.GenericResponse) error {
	if done, err := e.srv.forward("Eval.Update", args, reply); done {
		return err
	}
	if len(args.Evals) == 0 {
		return errors.New("eval update: no evaluations")
	}
	index, err := e.srv.raftApply(structs.EvalUpdateRequestType, &structs.EvalUpdateRequest{Evals: args.Evals})
	if err != nil {
		return fmt.Errorf("update evaluations: %w", err)
	}
	reply.Index = index
	return nil
}

// PlanEndpoint takes scheduler plans to the leader's plan applier.
type PlanEndpoint struct {
	srv *Server
}

// PlanSubmitArgs carries a plan.
type PlanSubmitArgs struct {
	Plan *structs.Plan
}

// PlanSubmitReply carries what the applier committed.
type PlanSubmitReply struct {
	Result *structs.PlanResult
}

// planSubmitWait bounds how long a plan waits in the applier's queue.
const planSubmitWait = 30 * time.Second

// Submit queues a plan for the leader's applier and waits for the result.
func (p *PlanEndpoint) Submit(args *PlanSubmitArgs, reply *PlanSubmitReply) error {
	if done, err := p.srv.forward("Plan.Submit", args, reply); done {
		return err
	}
	if args.Plan == nil {
		return errors.New("plan submit: missing plan")
	}
	ctx, cancel := context.WithTimeout(p.srv.ctx, planSubmitWait)
	defer cancel()
	result, err := p.srv.submitPlan(ctx, args.Plan)
	if err != nil {
		return fmt.Errorf("apply plan of eval %s: %w", args.Plan.EvalID, err)
	}
	reply.Result = result
	return nil
}
