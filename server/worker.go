// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/server/scheduler"
	"github.com/droverhq/drover/structs"
)

// worker takes evaluations from the leader's broker and runs the scheduler
// on them. Workers run on every server: on a follower, dequeue, ack, plan
// submission and evaluation updates travel to the leader over RPC (the
// endpoints forward), while scheduling reads this server's own state once
// it has caught up with the evaluation's index. It is the scheduler's
// Planner: the scheduler's plans go to the plan applier and its evaluation
// updates through raft.
type worker struct {
	srv    *Server
	logger hclog.Logger
	evals  *EvalEndpoint
	plans  *PlanEndpoint

	// set per evaluation
	ctx   context.Context
	eval  *structs.Evaluation
	token string
}

// workerDequeueWait is one dequeue long poll; between two polls the worker
// notices leadership changes.
const workerDequeueWait = 5 * time.Second

// workerErrorBackoff paces a worker whose dequeue fails (no leader).
const workerErrorBackoff = 500 * time.Millisecond

func newWorker(s *Server, id int) *worker {
	return &worker{
		srv:    s,
		logger: s.cfg.Logger.Named("worker").With("worker_id", id),
		evals:  &EvalEndpoint{srv: s},
		plans:  &PlanEndpoint{srv: s},
	}
}

func (w *worker) run(ctx context.Context) {
	defer w.srv.wg.Done()
	for ctx.Err() == nil {
		var d EvalDequeueReply
		if err := w.evals.Dequeue(&EvalDequeueArgs{Timeout: workerDequeueWait}, &d); err != nil {
			if ctx.Err() != nil {
				return
			}
			w.logger.Debug("dequeue evaluation", "error", err)
			select {
			case <-time.After(workerErrorBackoff):
			case <-ctx.Done():
			}
			continue
		}
		if d.Eval == nil {
			continue
		}
		eval, token := d.Eval, d.Token
		err := w.process(ctx, eval, token, d.WaitIndex)
		if errors.Is(err, scheduler.ErrInvalidJob) {
			// The scheduler already marked the evaluation failed; running
			// it again cannot help.
			w.logger.Warn("evaluation failed: invalid job", "eval_id", eval.ID, "job_id", eval.JobID, "error", err)
			err = nil
		}
		ack := &EvalAckArgs{EvalID: eval.ID, Token: token}
		var resp structs.GenericResponse
		if err != nil {
			w.logger.Error("evaluation failed, returning it to the broker", "eval_id", eval.ID, "job_id", eval.JobID, "error", err)
			if nerr := w.evals.Nack(ack, &resp); nerr != nil {
				w.logger.Debug("nack", "eval_id", eval.ID, "error", nerr)
			}
			continue
		}
		if err := w.evals.Ack(ack, &resp); err != nil {
			w.logger.Warn("ack evaluation", "eval_id", eval.ID, "error", err)
		}
	}
}

func (w *worker) process(ctx context.Context, eval *structs.Evaluation, token string, waitIndex uint64) error {
	start := time.Now()
	// The evaluation may have been committed at an index this server has
	// not applied yet.
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := w.srv.state.WaitForIndex(waitCtx, waitIndex)
	cancel()
	if err != nil {
		return fmt.Errorf("wait for state index %d: %w", waitIndex, err)
	}
	w.ctx, w.eval, w.token = ctx, eval, token
	defer func() { w.ctx, w.eval, w.token = nil, nil, "" }()

	sched, err := scheduler.New(eval.Type, w.logger, w.srv.state.Snapshot(), w)
	if err != nil {
		// A type no scheduler handles will never succeed: fail it now.
		failed := eval.Copy()
		failed.Status = structs.EvalStatusFailed
		failed.StatusDescription = err.Error()
		return w.UpdateEval(failed)
	}
	if err := sched.Process(eval); err != nil {
		return fmt.Errorf("schedule eval %s: %w", eval.ID, err)
	}
	w.logger.Debug("evaluation processed", "eval_id", eval.ID, "job_id", eval.JobID, "duration", time.Since(start))
	return nil
}

// SubmitPlan implements scheduler.Planner.
func (w *worker) SubmitPlan(plan *structs.Plan) (*structs.PlanResult, scheduler.State, error) {
	plan.EvalID = w.eval.ID
	plan.EvalToken = w.token
	var ack structs.GenericResponse
	_ = w.evals.OutstandingReset(&EvalAckArgs{EvalID: w.eval.ID, Token: w.token}, &ack)
	var reply PlanSubmitReply
	if err := w.plans.Submit(&PlanSubmitArgs{Plan: plan}, &reply); err != nil {
		return nil, nil, err
	}
	result := reply.Result
	if result == nil {
		return nil, nil, fmt.Errorf("submit plan of eval %s: empty result", plan.EvalID)
	}
	// Later reads must see what was just committed.
	wait := result.AllocIndex
	if result.RefreshIndex > wait {
		wait = result.RefreshIndex
	}
	if wait > 0 {
		ctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
		err := w.srv.state.WaitForIndex(ctx, wait)
		cancel()
		if err != nil {
			return nil, nil, err
		}
	}
	if result.RefreshIndex != 0 {
		return result, w.srv.state.Snapshot(), nil
	}
	return result, nil, nil
}

// UpdateEval implements scheduler.Planner.
func (w *worker) UpdateEval(eval *structs.Evaluation) error {
	eval = eval.Copy()
	eval.ModifyTime = time.Now().UnixNano()
	var reply structs.GenericResponse
	if err := w.evals.Update(&EvalUpdateArgs{Evals: []*structs.Evaluation{eval}}, &reply); err != nil {
		return fmt.Errorf("update eval %s: %w", eval.ID, err)
	}
	return nil
}

// CreateEval implements scheduler.Planner.
func (w *worker) CreateEval(eval *structs.Evaluation) error {
	eval = eval.Copy()
	now := time.Now().UnixNano()
	if eval.CreateTime == 0 {
		eval.CreateTime = now
	}
	eval.ModifyTime = now
	var reply structs.GenericResponse
	if err := w.evals.Update(&EvalUpdateArgs{Evals: []*structs.Evaluation{eval}}, &reply); err != nil {
		return fmt.Errorf("create eval %s: %w", eval.ID, err)
	}
	return nil
}
