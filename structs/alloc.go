// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// What the servers want of an allocation.
const (
	AllocDesiredStatusRun   = "run"
	AllocDesiredStatusStop  = "stop"
	AllocDesiredStatusEvict = "evict"
)

// What the client reports of an allocation.
const (
	AllocClientStatusPending  = "pending"
	AllocClientStatusRunning  = "running"
	AllocClientStatusComplete = "complete"
	AllocClientStatusFailed   = "failed"
	AllocClientStatusLost     = "lost"
	AllocClientStatusUnknown  = "unknown"
)

// Task states.
const (
	TaskStatePending = "pending"
	TaskStateRunning = "running"
	TaskStateDead    = "dead"
)

// Task event types, with Nomad's names: the CLI prints them.
const (
	TaskReceived          = "Received"
	TaskSetup             = "Task Setup"
	TaskSetupFailure      = "Setup Failure"
	TaskDriverFailure     = "Driver Failure"
	TaskStarted           = "Started"
	TaskTerminated        = "Terminated"
	TaskKilling           = "Killing"
	TaskKilled            = "Killed"
	TaskRestarting        = "Restarting"
	TaskNotRestarting     = "Not Restarting"
	TaskSiblingFailed     = "Sibling Task Failed"
	TaskRestartSignal     = "Restart Signaled"
	TaskLeaderDead        = "Leader Task Dead"
	TaskClientReconnected = "Reconnected"
)

// Allocation is one placement of a task group on a node.
type Allocation struct {
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	ID                 string
	Namespace          string
	EvalID             string
	Name               string
	NodeID             string
	NodeName           string
	JobID              string
	Job                *Job
	TaskGroup          string
	AllocatedResources *AllocatedResources
	Metrics            *AllocMetric

	DesiredStatus      string
	DesiredDescription string
	ClientStatus       string
	ClientDescription  string
	TaskStates         map[string]*TaskState

	PreviousAllocation string
	NextAllocation     string
	FollowupEvalID     string

	// Preemption: the allocations evicted to place this one, and on an
	// evicted allocation the one it made room for.
	PreemptedAllocations  []string
	PreemptedByAllocation string

	CreateIndex      uint64
	ModifyIndex      uint64
	AllocModifyIndex uint64
	CreateTime       int64
	ModifyTime       int64

	// RescheduleTracker lists the reschedules that led to this allocation;
	// DesiredTransition carries the drainer's migrate mark (structs/drain.go).
	RescheduleTracker *RescheduleTracker
	DesiredTransition DesiredTransition
}

// TerminalStatus reports whether the allocation is finished from the
// servers' point of view (stopped) or the client's (complete, failed, lost).
func (a *Allocation) TerminalStatus() bool {
	switch a.DesiredStatus {
	case AllocDesiredStatusStop, AllocDesiredStatusEvict:
		return true
	}
	return a.ClientTerminalStatus()
}

// ClientTerminalStatus reports whether the client finished the allocation.
func (a *Allocation) ClientTerminalStatus() bool {
	switch a.ClientStatus {
	case AllocClientStatusComplete, AllocClientStatusFailed, AllocClientStatusLost:
		return true
	}
	return false
}

// Copy returns a copy that shares the (immutable) Job.
func (a *Allocation) Copy() *Allocation {
	if a == nil {
		return nil
	}
	c := *a
	c.PreemptedAllocations = slices.Clone(a.PreemptedAllocations)
	if a.TaskStates != nil {
		c.TaskStates = make(map[string]*TaskState, len(a.TaskStates))
		for k, v := range a.TaskStates {
			c.TaskStates[k] = v.Copy()
		}
	}
	return &c
}

// AllocListStub is the short form of an allocation in list responses.
type AllocListStub struct {
	ID                 string
	EvalID             string
	Name               string
	Namespace          string
	NodeID             string
	NodeName           string
	JobID              string
	JobType            string
	JobVersion         uint64
	TaskGroup          string
	DesiredStatus      string
	DesiredDescription string
	ClientStatus       string
	ClientDescription  string
	TaskStates         map[string]*TaskState
	DesiredTransition  DesiredTransition
	FollowupEvalID     string
	PreviousAllocation string
	NextAllocation     string
	RescheduleTracker  *RescheduleTracker
	CreateIndex        uint64
	ModifyIndex        uint64
	CreateTime         int64
	ModifyTime         int64
}

// Stub returns the list form.
func (a *Allocation) Stub() *AllocListStub {
	s := &AllocListStub{
		ID:                 a.ID,
		EvalID:             a.EvalID,
		Name:               a.Name,
		Namespace:          a.Namespace,
		NodeID:             a.NodeID,
		NodeName:           a.NodeName,
		JobID:              a.JobID,
		TaskGroup:          a.TaskGroup,
		DesiredStatus:      a.DesiredStatus,
		DesiredDescription: a.DesiredDescription,
		ClientStatus:       a.ClientStatus,
		ClientDescription:  a.ClientDescription,
		TaskStates:         a.TaskStates,
		DesiredTransition:  a.DesiredTransition,
		FollowupEvalID:     a.FollowupEvalID,
		PreviousAllocation: a.PreviousAllocation,
		NextAllocation:     a.NextAllocation,
		RescheduleTracker:  a.RescheduleTracker,
		CreateIndex:        a.CreateIndex,
		ModifyIndex:        a.ModifyIndex,
		CreateTime:         a.CreateTime,
		ModifyTime:         a.ModifyTime,
	}
	if a.Job != nil {
		s.JobType = a.Job.Type
		s.JobVersion = a.Job.Version
	}
	return s
}

// TaskState is what the client reports of one task.
type TaskState struct {
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	State       string
	Failed      bool
	Restarts    uint64
	LastRestart time.Time
	StartedAt   time.Time
	FinishedAt  time.Time
	Events      []*TaskEvent
}

// Copy returns a deep copy.
func (ts *TaskState) Copy() *TaskState {
	if ts == nil {
		return nil
	}
	c := *ts
	c.Events = make([]*TaskEvent, len(ts.Events))
	for i, e := range ts.Events {
		ec := *e
		ec.Details = maps.Clone(e.Details)
		c.Events[i] = &ec
	}
	return &c
}

// Successful reports whether the task finished without failing.
func (ts *TaskState) Successful() bool {
	return ts.State == TaskStateDead && !ts.Failed
}

// TaskEvent is one entry of a task's history.
type TaskEvent struct {
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	Type           string
	Time           int64 // unix nanoseconds
	DisplayMessage string
	Details        map[string]string
	Message        string
	FailsTask      bool
	RestartReason  string
	DriverError    string
	ExitCode       int
	Signal         int
	KillTimeout    time.Duration
	KillReason     string
	StartDelay     int64
}

// NewTaskEvent returns an event of the given type stamped now.
func NewTaskEvent(eventType string) *TaskEvent {
	return &TaskEvent{Type: eventType, Time: time.Now().UnixNano(), Details: map[string]string{}}
}

// AllocMetric explains a placement decision or failure.
type AllocMetric struct {
	// codecOmitEmpty leaves zero fields out of the msgpack form
	// (structs/codec.go).
	//lint:ignore U1000 read by the msgpack codec, by name
	_struct codecOmitEmpty `codec:",omitempty"`

	NodesEvaluated     int
	NodesFiltered      int
	NodesInPool        int
	NodePool           string
	NodesAvailable     map[string]int
	ClassFiltered      map[string]int
	ConstraintFiltered map[string]int
	NodesExhausted     int
	ClassExhausted     map[string]int
	DimensionExhausted map[string]int
	// Scores are the chosen node's scores (nil on a failed placement).
	Scores            *PlacementScores
	AllocationTime    time.Duration
	CoalescedFailures int
}

// FilterNode records a node filtered by a constraint ("" for none named).
func (m *AllocMetric) FilterNode(constraint string) {
	m.NodesFiltered++
	if constraint != "" {
		if m.ConstraintFiltered == nil {
			m.ConstraintFiltered = map[string]int{}
		}
		m.ConstraintFiltered[constraint]++
	}
}

// ExhaustedNode records a node without room in the given dimension.
func (m *AllocMetric) ExhaustedNode(dimension string) {
	m.NodesExhausted++
	if dimension != "" {
		if m.DimensionExhausted == nil {
			m.DimensionExhausted = map[string]int{}
		}
		m.DimensionExhausted[dimension]++
	}
}

// NodeClientAllocsResponse answers Node.GetClientAllocIndexes: the IDs of
// the node's allocations with their AllocModifyIndex. A client compares
// them with what it runs and pulls only the changed allocations with
// Node.GetAllocs, so a change to one allocation does not resend every
// allocation (and its job) of the node.
type NodeClientAllocsResponse struct {
	Allocs map[string]uint64
	Index  uint64
}

// AllocsGetRequest asks for allocations of the calling node by ID.
// MinIndex is the index of the GetClientAllocIndexes answer that named
// them: a server behind it waits to catch up before reading.
type AllocsGetRequest struct {
	NodeID   string
	SecretID string
	AllocIDs []string
	MinIndex uint64
}

// AllocsGetResponse carries the requested allocations (those that still
// exist), with their jobs. Each job version travels once: allocation i
// is sent without its Job and runs Jobs[JobOf[i]] (ShareJobs, AttachJobs).
// A busy node pulls many allocations of the same few jobs at a time, and
// a job is larger than an allocation, so sending it with every one would
// double what the servers encode and the client decodes.
type AllocsGetResponse struct {
	Allocs []*Allocation
	Jobs   []*Job
	JobOf  []int
	Index  uint64
}

// ShareJobs moves the allocations' jobs into Jobs, one per job version
// (the servers' allocations of one version share one *Job), replacing
// each allocation by a shallow copy without its Job: the allocations are
// the state store's and must not change.
func (r *AllocsGetResponse) ShareJobs() {
	if len(r.Allocs) == 0 {
		return
	}
	seen := map[*Job]int{}
	r.JobOf = make([]int, len(r.Allocs))
	for i, a := range r.Allocs {
		if a.Job == nil {
			r.JobOf[i] = -1
			continue
		}
		k, ok := seen[a.Job]
		if !ok {
			k = len(r.Jobs)
			seen[a.Job] = k
			r.Jobs = append(r.Jobs, a.Job)
		}
		c := *a
		c.Job = nil
		r.Allocs[i] = &c
		r.JobOf[i] = k
	}
}

// AttachJobs gives each allocation back the job ShareJobs took out.
func (r *AllocsGetResponse) AttachJobs() error {
	if len(r.JobOf) == 0 {
		return nil
	}
	if len(r.JobOf) != len(r.Allocs) {
		return fmt.Errorf("allocations response: %d job references for %d allocations", len(r.JobOf), len(r.Allocs))
	}
	for i, k := range r.JobOf {
		if k < 0 {
			continue
		}
		if k >= len(r.Jobs) {
			return fmt.Errorf("allocation %s: job %d of %d", r.Allocs[i].ID, k, len(r.Jobs))
		}
		r.Allocs[i].Job = r.Jobs[k]
	}
	r.Jobs, r.JobOf = nil, nil
	return nil
}
