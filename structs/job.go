// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"maps"
	"slices"
	"time"
)

// Job types.
const (
	JobTypeService  = "service"
	JobTypeBatch    = "batch"
	JobTypeSystem   = "system"
	JobTypeSysbatch = "sysbatch"
)

// Job statuses, derived from the job's allocations and evaluations.
const (
	JobStatusPending = "pending"
	JobStatusRunning = "running"
	JobStatusDead    = "dead"
)

// Defaults shared by the API layer and validation.
const (
	DefaultNamespace = "default"
	DefaultRegion    = "global"
	DefaultNodePool  = "default"
	DefaultPriority  = 50
	MinPriority      = 1
	MaxPriority      = 100
)

// Job is the unit a user submits: task groups to place and how.
type Job struct {
	ID          string
	ParentID    string
	Name        string
	Namespace   string
	Region      string
	Type        string
	Priority    int
	AllAtOnce   bool
	Datacenters []string
	NodePool    string
	Constraints []*Constraint
	Affinities  []*Affinity
	Spreads     []*Spread
	TaskGroups  []*TaskGroup
	Meta        map[string]string

	// Stop marks a job the user stopped; its allocations are stopped but
	// the job stays until it is purged or garbage collected.
	Stop bool

	Status            string
	StatusDescription string
	Stable            bool
	Version           uint64
	SubmitTime        int64
	CreateIndex       uint64
	ModifyIndex       uint64
	JobModifyIndex    uint64
}

// NamespacedID identifies a job across namespaces.
type NamespacedID struct {
	ID        string
	Namespace string
}

// NamespacedID returns the job's key.
func (j *Job) NamespacedID() NamespacedID {
	return NamespacedID{ID: j.ID, Namespace: j.Namespace}
}

// LookupTaskGroup returns the named group or nil.
func (j *Job) LookupTaskGroup(name string) *TaskGroup {
	for _, tg := range j.TaskGroups {
		if tg.Name == name {
			return tg
		}
	}
	return nil
}

// Stopped reports whether the job should have no running allocations.
func (j *Job) Stopped() bool { return j == nil || j.Stop }

// Copy returns a deep copy.
func (j *Job) Copy() *Job {
	if j == nil {
		return nil
	}
	c := *j
	c.Datacenters = slices.Clone(j.Datacenters)
	c.Constraints = copyConstraints(j.Constraints)
	c.Affinities = copyAffinities(j.Affinities)
	c.Spreads = copySpreads(j.Spreads)
	c.Meta = maps.Clone(j.Meta)
	c.TaskGroups = make([]*TaskGroup, len(j.TaskGroups))
	for i, tg := range j.TaskGroups {
		c.TaskGroups[i] = tg.Copy()
	}
	return &c
}

// TaskGroup is a set of tasks placed together on one node.
type TaskGroup struct {
	Name          string
	Count         int
	Constraints   []*Constraint
	Affinities    []*Affinity
	Spreads       []*Spread
	Tasks         []*Task
	RestartPolicy *RestartPolicy
	EphemeralDisk *EphemeralDisk
	Meta          map[string]string
}

// LookupTask returns the named task or nil.
func (tg *TaskGroup) LookupTask(name string) *Task {
	for _, t := range tg.Tasks {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Copy returns a deep copy.
func (tg *TaskGroup) Copy() *TaskGroup {
	if tg == nil {
		return nil
	}
	c := *tg
	c.Constraints = copyConstraints(tg.Constraints)
	c.Affinities = copyAffinities(tg.Affinities)
	c.Spreads = copySpreads(tg.Spreads)
	c.Meta = maps.Clone(tg.Meta)
	if tg.RestartPolicy != nil {
		rp := *tg.RestartPolicy
		c.RestartPolicy = &rp
	}
	if tg.EphemeralDisk != nil {
		ed := *tg.EphemeralDisk
		c.EphemeralDisk = &ed
	}
	c.Tasks = make([]*Task, len(tg.Tasks))
	for i, t := range tg.Tasks {
		c.Tasks[i] = t.Copy()
	}
	return &c
}

// Task is one process (or container) run by a driver.
type Task struct {
	Name          string
	Driver        string
	User          string
	Config        map[string]any
	Env           map[string]string
	Constraints   []*Constraint
	Affinities    []*Affinity
	Resources     *Resources
	RestartPolicy *RestartPolicy
	Meta          map[string]string
	KillTimeout   time.Duration
	KillSignal    string
	LogConfig     *LogConfig
	Leader        bool
}

// Copy returns a deep copy. Config values are treated as immutable trees.
func (t *Task) Copy() *Task {
	if t == nil {
		return nil
	}
	c := *t
	c.Config = maps.Clone(t.Config)
	c.Env = maps.Clone(t.Env)
	c.Meta = maps.Clone(t.Meta)
	c.Constraints = copyConstraints(t.Constraints)
	c.Affinities = copyAffinities(t.Affinities)
	c.Resources = t.Resources.Copy()
	if t.RestartPolicy != nil {
		rp := *t.RestartPolicy
		c.RestartPolicy = &rp
	}
	if t.LogConfig != nil {
		lc := *t.LogConfig
		c.LogConfig = &lc
	}
	return &c
}

// Constraint restricts the nodes a job, group or task may run on.
type Constraint struct {
	LTarget string
	RTarget string
	Operand string
}

func copyConstraints(cs []*Constraint) []*Constraint {
	if cs == nil {
		return nil
	}
	out := make([]*Constraint, len(cs))
	for i, c := range cs {
		cc := *c
		out[i] = &cc
	}
	return out
}

// Restart modes.
const (
	RestartPolicyModeFail  = "fail"
	RestartPolicyModeDelay = "delay"
)

// RestartPolicy says how a client restarts a failed task in place.
type RestartPolicy struct {
	Attempts int
	Interval time.Duration
	Delay    time.Duration
	Mode     string
}

// EphemeralDisk is the scratch space an allocation reserves.
type EphemeralDisk struct {
	Sticky  bool
	SizeMB  int
	Migrate bool
}

// LogConfig bounds a task's log files.
type LogConfig struct {
	MaxFiles      int
	MaxFileSizeMB int
	Disabled      bool
}

// JobSummary counts a job's allocations by client status per group.
type JobSummary struct {
	JobID       string
	Namespace   string
	Summary     map[string]TaskGroupSummary
	Children    *JobChildrenSummary
	CreateIndex uint64
	ModifyIndex uint64
}

// TaskGroupSummary counts one group's allocations.
type TaskGroupSummary struct {
	Queued   int
	Complete int
	Failed   int
	Running  int
	Starting int
	Lost     int
	Unknown  int
}

// JobChildrenSummary counts the children of periodic and parameterized jobs.
type JobChildrenSummary struct {
	Pending int64
	Running int64
	Dead    int64
}

// JobListStub is the short form of a job in GET /v1/jobs.
type JobListStub struct {
	ID                string
	ParentID          string
	Name              string
	Namespace         string
	Datacenters       []string
	NodePool          string
	Type              string
	Priority          int
	Periodic          bool
	ParameterizedJob  bool
	Stop              bool
	Status            string
	StatusDescription string
	JobSummary        *JobSummary
	CreateIndex       uint64
	ModifyIndex       uint64
	JobModifyIndex    uint64
	SubmitTime        int64
}

// Stub returns the list form of the job with its summary.
func (j *Job) Stub(summary *JobSummary) *JobListStub {
	return &JobListStub{
		ID:                j.ID,
		ParentID:          j.ParentID,
		Name:              j.Name,
		Namespace:         j.Namespace,
		Datacenters:       j.Datacenters,
		NodePool:          j.NodePool,
		Type:              j.Type,
		Priority:          j.Priority,
		Stop:              j.Stop,
		Status:            j.Status,
		StatusDescription: j.StatusDescription,
		JobSummary:        summary,
		CreateIndex:       j.CreateIndex,
		ModifyIndex:       j.ModifyIndex,
		JobModifyIndex:    j.JobModifyIndex,
		SubmitTime:        j.SubmitTime,
	}
}
