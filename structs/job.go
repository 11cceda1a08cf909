// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import "time"

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

	// Update is the job-level `update` block, the default of every group.
	Update *UpdateStrategy
	// Periodic and ParameterizedJob make the job a template for child jobs
	// (launched on a schedule, or dispatched with a payload).
	Periodic         *PeriodicConfig
	ParameterizedJob *ParameterizedJobConfig
	// Reschedule and Migrate are job-level defaults of the group blocks.
	Reschedule *ReschedulePolicy
	Migrate    *MigrateStrategy
	UI         *JobUIConfig

	// Dispatched marks a child of a parameterized job; Payload is its
	// dispatch payload and DispatchIdempotencyToken dedupes dispatches.
	Dispatched               bool
	DispatchIdempotencyToken string
	Payload                  []byte

	ConsulNamespace string
	VaultNamespace  string
	VersionTag      *JobVersionTag

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
func (j *Job) Copy() *Job { return deepCopy(j) }

// IsPeriodic reports whether the job is a periodic template.
func (j *Job) IsPeriodic() bool { return j != nil && j.Periodic != nil }

// IsParameterized reports whether the job is a parameterized template (and
// not one of its dispatched children).
func (j *Job) IsParameterized() bool {
	return j != nil && j.ParameterizedJob != nil && !j.Dispatched
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

	Networks         []*NetworkResource
	Services         []*Service
	Volumes          map[string]*VolumeRequest
	Update           *UpdateStrategy
	Migrate          *MigrateStrategy
	ReschedulePolicy *ReschedulePolicy
	Scaling          *ScalingPolicy
	Consul           *Consul
	Disconnect       *DisconnectStrategy

	// ShutdownDelay is waited between deregistering the group's services
	// and killing its tasks. MaxRunDuration (0: unlimited) bounds how long
	// a batch allocation may run.
	ShutdownDelay  time.Duration
	MaxRunDuration time.Duration
	// MaxClientDisconnect and StopAfterClientDisconnect are the deprecated
	// forms of Disconnect.LostAfter and Disconnect.StopOnClientAfter; nil
	// means unset, which differs from zero.
	MaxClientDisconnect       *time.Duration
	StopAfterClientDisconnect *time.Duration
	PreventRescheduleOnLost   bool
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
func (tg *TaskGroup) Copy() *TaskGroup { return deepCopy(tg) }

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

	Lifecycle       *TaskLifecycle
	Services        []*Service
	Artifacts       []*TaskArtifact
	Templates       []*Template
	Vault           *Vault
	Consul          *Consul
	Secrets         []*Secret
	DispatchPayload *DispatchPayloadConfig
	VolumeMounts    []*VolumeMount
	CSIPluginConfig *TaskCSIPluginConfig
	// Identity is the default workload identity; Identities are the extra
	// ones (for Consul, Vault or other audiences).
	Identity   *WorkloadIdentity
	Identities []*WorkloadIdentity
	Actions    []*Action
	// ShutdownDelay is waited between deregistering the task's services and
	// sending its kill signal.
	ShutdownDelay time.Duration
	// Kind is set by the server for tasks it injects (connect sidecars).
	Kind string
}

// Copy returns a deep copy, Config values included.
func (t *Task) Copy() *Task { return deepCopy(t) }

// Constraint restricts the nodes a job, group or task may run on.
type Constraint struct {
	LTarget string
	RTarget string
	Operand string
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
	// RenderTemplates re-renders the task's templates on restart.
	RenderTemplates bool
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
		Periodic:          j.IsPeriodic(),
		ParameterizedJob:  j.IsParameterized(),
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
