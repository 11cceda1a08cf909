// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// The requests committed through raft. Everything the FSM needs to apply a
// change deterministically is in the request: timestamps are taken by the
// leader before the apply, never inside it.

// MessageType tags a raft log entry.
type MessageType uint8

// Raft message types. Never renumber: they are stored in raft logs.
const (
	JobRegisterRequestType MessageType = iota + 1
	JobDeregisterRequestType
	EvalUpdateRequestType
	ApplyPlanResultsRequestType
	NodeRegisterRequestType
	NodeUpdateStatusRequestType
	AllocClientUpdateRequestType
	NodeUpdateDrainRequestType
	NodeUpdateEligibilityRequestType
	AllocUpdateDesiredTransitionRequestType
	NodePoolUpsertRequestType
	NodePoolDeleteRequestType
	SchedulerConfigRequestType
)

// JobRegisterRequest stores a job and the evaluation it triggers.
type JobRegisterRequest struct {
	Job  *Job
	Eval *Evaluation
}

// JobDeregisterRequest stops (or, with Purge, deletes) a job.
type JobDeregisterRequest struct {
	Namespace  string
	JobID      string
	Purge      bool
	Eval       *Evaluation
	SubmitTime int64
}

// EvalUpdateRequest inserts or updates evaluations.
type EvalUpdateRequest struct {
	Evals []*Evaluation
}

// ApplyPlanResultsRequest commits what the plan applier accepted. To keep
// log entries small, allocations carry no Job: the FSM attaches Job (the
// plan's) to placed allocations and keeps the stored job of updated ones.
type ApplyPlanResultsRequest struct {
	Job           *Job
	AllocsUpdated []*Allocation
	AllocsStopped []*Allocation
	EvalID        string
	UpdatedAt     int64
}

// NodeStatusUpdate is the raft form of a heartbeat-driven status change.
type NodeStatusUpdate struct {
	NodeID    string
	Status    string
	UpdatedAt int64
	// Evals are created with the change (allocations on a down node).
	Evals []*Evaluation
}

// AllocClientUpdate is the raft form of a batch of client alloc updates.
type AllocClientUpdate struct {
	Allocs    []*Allocation
	Evals     []*Evaluation
	UpdatedAt int64
}
