// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import "github.com/droverhq/drover/structs"

// JobSummary counts the job's allocations per group and client status. It
// is derived on read from the allocations and the latest evaluation rather
// than kept as a table, so it can never drift from them.
func (s *Snapshot) JobSummary(job *structs.Job) (*structs.JobSummary, error) {
	allocs, err := s.AllocsByJob(job.Namespace, job.ID)
	if err != nil {
		return nil, err
	}
	evals, err := s.EvalsByJob(job.Namespace, job.ID)
	if err != nil {
		return nil, err
	}
	sum := &structs.JobSummary{
		JobID:       job.ID,
		Namespace:   job.Namespace,
		Summary:     make(map[string]structs.TaskGroupSummary, len(job.TaskGroups)),
		CreateIndex: job.CreateIndex,
		ModifyIndex: job.ModifyIndex,
	}
	for _, tg := range job.TaskGroups {
		sum.Summary[tg.Name] = structs.TaskGroupSummary{}
	}
	for _, a := range allocs {
		tg := sum.Summary[a.TaskGroup]
		switch a.ClientStatus {
		case structs.AllocClientStatusPending:
			if a.DesiredStatus == structs.AllocDesiredStatusRun {
				tg.Starting++
			}
		case structs.AllocClientStatusRunning:
			tg.Running++
		case structs.AllocClientStatusComplete:
			tg.Complete++
		case structs.AllocClientStatusFailed:
			tg.Failed++
		case structs.AllocClientStatusLost:
			tg.Lost++
		case structs.AllocClientStatusUnknown:
			tg.Unknown++
		}
		sum.Summary[a.TaskGroup] = tg
		if a.ModifyIndex > sum.ModifyIndex {
			sum.ModifyIndex = a.ModifyIndex
		}
	}
	if latest := latestPlacingEval(evals); latest != nil {
		for name, queued := range latest.QueuedAllocations {
			if tg, ok := sum.Summary[name]; ok {
				tg.Queued = queued
				sum.Summary[name] = tg
			}
		}
	}
	return sum, nil
}

// latestPlacingEval is the newest evaluation that reports what is still
// queued: a finished one, or a blocked one waiting for capacity.
func latestPlacingEval(evals []*structs.Evaluation) *structs.Evaluation {
	var latest *structs.Evaluation
	for _, e := range evals {
		if e.QueuedAllocations == nil {
			continue
		}
		if latest == nil || e.CreateIndex > latest.CreateIndex {
			latest = e
		}
	}
	return latest
}

// JobStatus derives a job's status the way Nomad reports it: running while
// any allocation should run, pending while evaluations are outstanding or
// nothing ran yet, dead once it is stopped or all its work finished.
func (s *Snapshot) JobStatus(job *structs.Job) (string, error) {
	if job.Stop {
		return structs.JobStatusDead, nil
	}
	if job.IsPeriodic() || job.IsParameterized() {
		// A parent never runs itself; it is running while it launches
		// children.
		return structs.JobStatusRunning, nil
	}
	allocs, err := s.AllocsByJob(job.Namespace, job.ID)
	if err != nil {
		return "", err
	}
	for _, a := range allocs {
		if !a.TerminalStatus() {
			return structs.JobStatusRunning, nil
		}
	}
	evals, err := s.EvalsByJob(job.Namespace, job.ID)
	if err != nil {
		return "", err
	}
	for _, e := range evals {
		if !e.TerminalStatus() {
			return structs.JobStatusPending, nil
		}
	}
	if len(allocs) > 0 || len(evals) > 0 {
		return structs.JobStatusDead, nil
	}
	return structs.JobStatusPending, nil
}
