// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"fmt"
	"time"

	"github.com/droverhq/drover/structs"
)

// RegisterJob stores a (canonicalised, validated) job and creates the
// evaluation that schedules it. It returns that evaluation's ID and the
// index of the write.
func (s *Server) RegisterJob(job *structs.Job) (string, uint64, error) {
	now := time.Now()
	job = job.Copy()
	job.SubmitTime = now.UnixNano()
	job.Status = structs.JobStatusPending
	eval := structs.NewEval(job, structs.EvalTriggerJobRegister, now)
	index, err := s.raftApply(structs.JobRegisterRequestType, &structs.JobRegisterRequest{Job: job, Eval: eval})
	if err != nil {
		return "", 0, fmt.Errorf("register job %q: %w", job.ID, err)
	}
	return eval.ID, index, nil
}

// DeregisterJob stops a job (purge deletes it) and creates the evaluation
// that stops its allocations. It returns "" as eval ID when the job does
// not exist.
func (s *Server) DeregisterJob(namespace, jobID string, purge bool) (string, uint64, error) {
	job, err := s.state.Snapshot().JobByID(namespace, jobID)
	if err != nil {
		return "", 0, err
	}
	if job == nil {
		return "", 0, fmt.Errorf("job %q not found", jobID)
	}
	now := time.Now()
	eval := structs.NewEval(job, structs.EvalTriggerJobDeregister, now)
	index, err := s.raftApply(structs.JobDeregisterRequestType, &structs.JobDeregisterRequest{
		Namespace:  namespace,
		JobID:      jobID,
		Purge:      purge,
		Eval:       eval,
		SubmitTime: now.UnixNano(),
	})
	if err != nil {
		return "", 0, fmt.Errorf("deregister job %q: %w", jobID, err)
	}
	s.blocked.Untrack(namespace, jobID)
	return eval.ID, index, nil
}
