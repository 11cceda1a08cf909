// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// This file holds what node drains, eligibility changes and rescheduling
// add to nodes and allocations, with the raft requests that change them.
// Field names and shapes are Nomad's: GET /v1/node/:id and
// /v1/allocation/:id serve these types as they are.

import "time"

// Drain statuses recorded in Node.LastDrain.
const (
	DrainStatusDraining = "draining"
	DrainStatusComplete = "complete"
	DrainStatusCanceled = "canceled"
)

// EvalTriggerNodeDrain is the TriggeredBy of evaluations the drainer
// creates when it marks allocations for migration (Nomad's value).
const EvalTriggerNodeDrain = "node-drain"

// DrainSpec is what an operator asks of a drain.
type DrainSpec struct {
	// Deadline is how long allocations may take to migrate before the
	// rest are stopped: negative forces them at once, 0 means no deadline.
	Deadline time.Duration
	// IgnoreSystemJobs leaves system jobs' allocations on the node.
	IgnoreSystemJobs bool
}

// DrainStrategy is a node's ongoing drain.
type DrainStrategy struct {
	DrainSpec
	// ForceDeadline is when the remaining allocations are stopped; zero
	// when the drain has no deadline.
	ForceDeadline time.Time
	// StartedAt is when the drain began.
	StartedAt time.Time
}

// DeadlineTime reports whether the drain has a deadline and when it is.
// A negative Deadline forces the drain at once.
func (d *DrainStrategy) DeadlineTime() (bool, time.Time) {
	switch {
	case d == nil || d.Deadline == 0:
		return false, time.Time{}
	case d.Deadline < 0:
		return true, d.StartedAt
	}
	return true, d.ForceDeadline
}

// DrainMetadata describes a node's most recent drain.
type DrainMetadata struct {
	StartedAt  time.Time
	UpdatedAt  time.Time
	Status     string
	AccessorID string
	Meta       map[string]string
}

// DesiredTransition is what the servers want to happen to an allocation
// next, beyond its desired status: the drainer sets Migrate, and the
// scheduler then stops the allocation and places a replacement elsewhere.
type DesiredTransition struct {
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	Migrate         *bool
	Reschedule      *bool
	ForceReschedule *bool
	NoShutdownDelay *bool
}

// ShouldMigrate reports whether the allocation is marked for migration.
func (d DesiredTransition) ShouldMigrate() bool { return d.Migrate != nil && *d.Migrate }

// RescheduleTracker is the history of reschedules that led to an
// allocation: one event per earlier allocation it replaced after a failure.
type RescheduleTracker struct {
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	Events []*RescheduleEvent
}

// RescheduleEvent is one reschedule: when it happened, what it replaced
// and the delay that was applied.
type RescheduleEvent struct {
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	RescheduleTime int64 // unix nanoseconds
	PrevAllocID    string
	PrevNodeID     string
	Delay          time.Duration
}

// NodeDrainUpdate is the raft form of a drain change: it sets the node's
// drain strategy, eligibility and last-drain metadata, and creates evals.
type NodeDrainUpdate struct {
	NodeID        string
	DrainStrategy *DrainStrategy // nil ends (completes or cancels) the drain
	// Eligibility, when set, replaces the node's scheduling eligibility.
	Eligibility string
	LastDrain   *DrainMetadata
	UpdatedAt   int64
	Evals       []*Evaluation
}

// NodeEligibilityUpdate is the raft form of an eligibility change.
type NodeEligibilityUpdate struct {
	NodeID      string
	Eligibility string
	UpdatedAt   int64
	Evals       []*Evaluation
}

// AllocDesiredTransitionUpdate is the raft form of the drainer marking
// allocations: each allocation's DesiredTransition is replaced by the one
// given, and the evaluations that act on it are created.
type AllocDesiredTransitionUpdate struct {
	Allocs    map[string]*DesiredTransition
	Evals     []*Evaluation
	UpdatedAt int64
}
