// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"fmt"
	"time"

	"github.com/droverhq/drover/structs"
)

// JobEndpoint is the RPC surface for job writes. Every method forwards to
// the leader when called on a follower.
type JobEndpoint struct {
	srv *Server
}

// JobRegisterArgs asks to register a (canonicalised, validated) job.
type JobRegisterArgs struct {
	Job *structs.Job
	// EnforceIndex registers only while the stored job's JobModifyIndex is
	// JobModifyIndex (0: the job must not exist), as `job run -check-index`.
	EnforceIndex   bool
	JobModifyIndex uint64
}

// JobRegisterReply names the evaluation created and the write's index.
type JobRegisterReply struct {
	EvalID string
	Index  uint64
}

// JobDeregisterArgs asks to stop (or, with Purge, delete) a job.
type JobDeregisterArgs struct {
	Namespace string
	JobID     string
	Purge     bool
}

// Register stores a job with the evaluation that schedules it.
func (j *JobEndpoint) Register(args *JobRegisterArgs, reply *JobRegisterReply) error {
	if done, err := j.srv.forward("Job.Register", args, reply); done {
		return err
	}
	if args.Job == nil {
		return fmt.Errorf("register job: missing job")
	}
	if err := j.srv.admitJob(args.Job); err != nil {
		return err
	}
	defer lockJob(j.srv, args.Job.Namespace, args.Job.ID)()
	if args.EnforceIndex {
		if err := j.checkJobModifyIndex(args.Job, args.JobModifyIndex); err != nil {
			return err
		}
	}
	now := time.Now()
	job := args.Job.Copy()
	job.SubmitTime = now.UnixNano()
	job.Status = structs.JobStatusPending
	// A periodic or parameterized job is a template: only its children
	// are scheduled, so it gets no evaluation of its own.
	var eval *structs.Evaluation
	if job.IsPeriodic() || job.IsParameterized() {
		job.Status = structs.JobStatusRunning
	} else {
		eval = structs.NewEval(job, structs.EvalTriggerJobRegister, now)
	}
	index, err := j.srv.raftApply(structs.JobRegisterRequestType, &structs.JobRegisterRequest{Job: job, Eval: eval})
	if err != nil {
		return fmt.Errorf("register job %q: %w", job.ID, err)
	}
	reply.Index = index
	if eval != nil {
		reply.EvalID = eval.ID
	}
	return nil
}

// Deregister stops a job and creates the evaluation that stops its
// allocations.
func (j *JobEndpoint) Deregister(args *JobDeregisterArgs, reply *JobRegisterReply) error {
	if done, err := j.srv.forward("Job.Deregister", args, reply); done {
		return err
	}
	defer lockJob(j.srv, args.Namespace, args.JobID)()
	job, err := j.srv.state.Snapshot().JobByID(args.Namespace, args.JobID)
	if err != nil {
		return err
	}
	if job == nil {
		return fmt.Errorf("job %q not found", args.JobID)
	}
	now := time.Now()
	eval := structs.NewEval(job, structs.EvalTriggerJobDeregister, now)
	index, err := j.srv.raftApply(structs.JobDeregisterRequestType, &structs.JobDeregisterRequest{
		Namespace:  args.Namespace,
		JobID:      args.JobID,
		Purge:      args.Purge,
		Eval:       eval,
		SubmitTime: now.UnixNano(),
	})
	if err != nil {
		return fmt.Errorf("deregister job %q: %w", args.JobID, err)
	}
	j.srv.blocked.Untrack(args.Namespace, args.JobID)
	reply.EvalID, reply.Index = eval.ID, index
	return nil
}

// RegisterJob stores a (canonicalised, validated) job and creates the
// evaluation that schedules it, through the leader. It returns that
// evaluation's ID and the index of the write, once this server's state
// has applied it (so the caller reads its own write).
func (s *Server) RegisterJob(job *structs.Job) (string, uint64, error) {
	var reply JobRegisterReply
	if err := (&JobEndpoint{srv: s}).Register(&JobRegisterArgs{Job: job}, &reply); err != nil {
		return "", 0, err
	}
	return reply.EvalID, reply.Index, s.waitApplied(reply.Index)
}

// DeregisterJob stops a job (purge deletes it) and creates the evaluation
// that stops its allocations, through the leader.
func (s *Server) DeregisterJob(namespace, jobID string, purge bool) (string, uint64, error) {
	var reply JobRegisterReply
	args := &JobDeregisterArgs{Namespace: namespace, JobID: jobID, Purge: purge}
	if err := (&JobEndpoint{srv: s}).Deregister(args, &reply); err != nil {
		return "", 0, err
	}
	return reply.EvalID, reply.Index, s.waitApplied(reply.Index)
}

// applyWait bounds how long a forwarded write waits for the local state
// to catch up with it.
const applyWait = 10 * time.Second

// waitApplied waits until the local state store has applied index.
func (s *Server) waitApplied(index uint64) error {
	ctx, cancel := context.WithTimeout(s.ctx, applyWait)
	defer cancel()
	if err := s.state.WaitForIndex(ctx, index); err != nil {
		return fmt.Errorf("wait for local state to reach index %d: %w", index, err)
	}
	return nil
}
