// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import "time"

// Server-side defaults that Nomad documents for the job specification.
const (
	// DefaultKillTimeout is how long a task gets between its kill signal
	// and being killed, when the job file does not say.
	DefaultKillTimeout = 5 * time.Second

	// DefaultLogMaxFiles and DefaultLogMaxFileSizeMB bound a task's
	// rotated logs (the `logs` block).
	DefaultLogMaxFiles      = 10
	DefaultLogMaxFileSizeMB = 10

	// DefaultConstraintOperand is the `operator` of a constraint block that
	// names none.
	DefaultConstraintOperand = "="
)

// DefaultServiceRestartPolicy returns the restart policy Nomad documents for
// service and system jobs: a long-running task gets a couple of quick local
// restarts before the scheduler reschedules it elsewhere.
func DefaultServiceRestartPolicy() *RestartPolicy {
	return &RestartPolicy{
		Attempts: 2,
		Interval: 30 * time.Minute,
		Delay:    15 * time.Second,
		Mode:     RestartPolicyModeFail,
	}
}

// DefaultBatchRestartPolicy returns the restart policy Nomad documents for
// batch and sysbatch jobs: more attempts over a day, since a batch task is
// expected to finish rather than run forever.
func DefaultBatchRestartPolicy() *RestartPolicy {
	return &RestartPolicy{
		Attempts: 3,
		Interval: 24 * time.Hour,
		Delay:    15 * time.Second,
		Mode:     RestartPolicyModeFail,
	}
}

// DefaultRestartPolicy returns the default restart policy for a job type.
func DefaultRestartPolicy(jobType string) *RestartPolicy {
	switch jobType {
	case JobTypeBatch, JobTypeSysbatch:
		return DefaultBatchRestartPolicy()
	default:
		return DefaultServiceRestartPolicy()
	}
}

// Canonicalize fills in the defaults the server applies to a submitted job,
// so the scheduler and clients never have to guess. It complements the API
// client's own Canonicalize (applied at conversion, where pointers still
// tell "unset" from "zero"): here fields are plain values, so a field is
// only defaulted when its zero value is not a meaningful choice. For that
// reason a group Count of 0 (a scaled-down group) and a KillTimeout of 0 are
// kept as they are; a nil object and a zero CPU, memory, disk or log size are
// filled in. Canonicalize is idempotent and does not validate: call Validate
// afterwards.
func (j *Job) Canonicalize() {
	if j == nil {
		return
	}
	if j.Namespace == "" {
		j.Namespace = DefaultNamespace
	}
	if j.Region == "" {
		j.Region = DefaultRegion
	}
	if j.NodePool == "" {
		j.NodePool = DefaultNodePool
	}
	if len(j.Datacenters) == 0 {
		// Since Nomad 1.5 a job without datacenters may run in any.
		j.Datacenters = []string{"*"}
	}
	if j.Type == "" {
		// The API client defaults the type the same way.
		j.Type = JobTypeService
	}
	if j.Priority == 0 {
		j.Priority = DefaultPriority
	}
	if j.Name == "" {
		j.Name = j.ID
	}
	canonicalizeConstraints(j.Constraints)
	canonicalizeAffinities(j.Affinities)
	canonicalizeSpreads(j.Spreads)
	j.Periodic.canonicalize()
	j.ParameterizedJob.canonicalize()
	if j.Type == JobTypeBatch || j.Type == JobTypeSysbatch {
		// Nomad ignores rather than rejects an update block on jobs
		// without deployments, since older versions accepted it.
		j.Update = nil
	}
	for _, tg := range j.TaskGroups {
		tg.canonicalize(j)
	}
}

func (tg *TaskGroup) canonicalize(j *Job) {
	if tg == nil {
		return
	}
	if tg.RestartPolicy == nil {
		tg.RestartPolicy = DefaultRestartPolicy(j.Type)
	}
	tg.RestartPolicy.canonicalize()
	if tg.EphemeralDisk == nil {
		tg.EphemeralDisk = &EphemeralDisk{}
	}
	if tg.EphemeralDisk.SizeMB == 0 {
		tg.EphemeralDisk.SizeMB = DefaultEphemeralDisk
	}
	if (j.Type == JobTypeSystem || j.Type == JobTypeSysbatch) && tg.Count == 0 {
		// One allocation per feasible node: the count is not a choice.
		tg.Count = 1
	}
	tg.canonicalizeStrategies(j)
	canonicalizeConstraints(tg.Constraints)
	canonicalizeAffinities(tg.Affinities)
	canonicalizeSpreads(tg.Spreads)
	for _, n := range tg.Networks {
		n.canonicalize()
	}
	for name, v := range tg.Volumes {
		if v != nil && v.Name == "" {
			v.Name = name
		}
	}
	for _, s := range tg.Services {
		s.canonicalize(j, tg, nil)
	}
	tg.Consul.canonicalize()
	tg.Disconnect.canonicalize()
	if tg.Scaling != nil && tg.Scaling.Type == "" {
		tg.Scaling.Type = ScalingPolicyTypeHorizontal
	}
	for _, t := range tg.Tasks {
		t.canonicalize(j, tg)
	}
}

func (t *Task) canonicalize(j *Job, tg *TaskGroup) {
	if t == nil {
		return
	}
	if t.Resources == nil {
		t.Resources = &Resources{}
	}
	// A task that reserves whole cores asks for no MHz share.
	if t.Resources.CPU == 0 && t.Resources.Cores == 0 {
		t.Resources.CPU = DefaultCPU
	}
	if t.Resources.MemoryMB == 0 {
		t.Resources.MemoryMB = DefaultMemoryMB
	}
	if t.RestartPolicy == nil {
		// Each task gets its own copy: tasks restart independently and
		// must not share a mutable object.
		rp := *tg.RestartPolicy
		t.RestartPolicy = &rp
	}
	t.RestartPolicy.canonicalize()
	if t.LogConfig == nil {
		t.LogConfig = &LogConfig{}
	}
	if t.LogConfig.MaxFiles == 0 {
		t.LogConfig.MaxFiles = DefaultLogMaxFiles
	}
	if t.LogConfig.MaxFileSizeMB == 0 {
		t.LogConfig.MaxFileSizeMB = DefaultLogMaxFileSizeMB
	}
	canonicalizeConstraints(t.Constraints)
	canonicalizeAffinities(t.Affinities)
	t.canonicalizeBlocks(j, tg)
}

// canonicalize fills a policy's mode, the one field whose zero value is
// never valid; zero attempts or delay are real choices.
func (rp *RestartPolicy) canonicalize() {
	if rp.Mode == "" {
		rp.Mode = RestartPolicyModeFail
	}
}

func canonicalizeConstraints(cs []*Constraint) {
	for _, c := range cs {
		if c != nil && c.Operand == "" {
			c.Operand = DefaultConstraintOperand
		}
	}
}
