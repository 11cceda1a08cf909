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

// worker takes evaluations from the broker and runs the scheduler on them.
// It is the scheduler's Planner: the scheduler's plans go to the plan
// applier and its evaluation updates through raft.
type worker struct {
	srv    *Server
	logger hclog.Logger

	// set per evaluation
	ctx   context.Context
	eval  *structs.Evaluation
	token string
}

func newWorker(s *Server, id int) *worker {
	return &worker{srv: s, logger: s.cfg.Logger.Named("worker").With("worker_id", id)}
}

func (w *worker) run(ctx context.Context) {
	defer w.srv.wg.Done()
	for {
		eval, token, err := w.srv.broker.Dequeue(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.logger.Error("dequeue evaluation", "error", err)
			continue
		}
		err = w.process(ctx, eval, token)
		if errors.Is(err, scheduler.ErrInvalidJob) {
			// The scheduler already marked the evaluation failed; running
			// it again cannot help.
			w.logger.Warn("evaluation failed: invalid job", "eval_id", eval.ID, "job_id", eval.JobID, "error", err)
			err = nil
		}
		if err != nil {
			w.logger.Error("evaluation failed, returning it to the broker", "eval_id", eval.ID, "job_id", eval.JobID, "error", err)
			if nerr := w.srv.broker.Nack(eval.ID, token); nerr != nil && !errors.Is(nerr, context.Canceled) {
				w.logger.Debug("nack", "eval_id", eval.ID, "error", nerr)
			}
			continue
		}
		if err := w.srv.broker.Ack(eval.ID, token); err != nil {
			w.logger.Warn("ack evaluation", "eval_id", eval.ID, "error", err)
		}
	}
}

func (w *worker) process(ctx context.Context, eval *structs.Evaluation, token string) error {
	start := time.Now()
	// The evaluation may have been committed at an index this server has
	// not applied yet.
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := w.srv.state.WaitForIndex(waitCtx, eval.ModifyIndex)
	cancel()
	if err != nil {
		return err
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
	_ = w.srv.broker.OutstandingReset(w.eval.ID, w.token)
	result, err := w.srv.submitPlan(w.ctx, plan)
	if err != nil {
		return nil, nil, err
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
	_, err := w.srv.raftApply(structs.EvalUpdateRequestType, &structs.EvalUpdateRequest{Evals: []*structs.Evaluation{eval}})
	if err != nil {
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
	_, err := w.srv.raftApply(structs.EvalUpdateRequestType, &structs.EvalUpdateRequest{Evals: []*structs.Evaluation{eval}})
	if err != nil {
		return fmt.Errorf("create eval %s: %w", eval.ID, err)
	}
	return nil
}
