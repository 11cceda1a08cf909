// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"strings"
	"time"
)

// Defaults of the job specification's blocks, as Nomad documents them. As
// in Canonicalize, a field is only filled where its zero value is never a
// meaningful choice (an empty mode, a nil block the job type requires):
// zero durations and counts the user may have meant are kept.
const (
	DefaultAffinityWeight         = 50
	DefaultSpreadWeight           = 50
	DefaultTemplateChangeMode     = TemplateChangeModeRestart
	DefaultTemplatePerms          = "0644"
	DefaultTemplateLeftDelim      = "{{"
	DefaultTemplateRightDelim     = "}}"
	DefaultChangeScriptTimeout    = 5 * time.Second
	DefaultVaultChangeMode        = TemplateChangeModeRestart
	DefaultArtifactDest           = "local/"
	DefaultCSIPluginMountDir      = "/csi"
	DefaultCSIPluginHealthTimeout = 30 * time.Second
	DefaultServiceProvider        = ServiceProviderConsul
	DefaultConsulCluster          = "default"
	DefaultVaultCluster           = "default"
	DefaultHostNetwork            = "default"
	DefaultPeriodicTimeZone       = "UTC"
	DefaultIdentityAudience       = "nomad.io"
)

// DefaultUpdateStrategy is the rollout a service group gets without an
// update block: one allocation at a time, gated on health checks.
func DefaultUpdateStrategy() *UpdateStrategy {
	return &UpdateStrategy{
		Stagger:          30 * time.Second,
		MaxParallel:      1,
		HealthCheck:      UpdateHealthCheckChecks,
		MinHealthyTime:   10 * time.Second,
		HealthyDeadline:  5 * time.Minute,
		ProgressDeadline: 10 * time.Minute,
	}
}

// DefaultMigrateStrategy is how a service group leaves a draining node
// without a migrate block.
func DefaultMigrateStrategy() *MigrateStrategy {
	return &MigrateStrategy{
		MaxParallel:     1,
		HealthCheck:     UpdateHealthCheckChecks,
		MinHealthyTime:  10 * time.Second,
		HealthyDeadline: 5 * time.Minute,
	}
}

// DefaultReschedulePolicy returns the reschedule policy Nomad documents for
// a job type, or nil for system and sysbatch jobs, which never reschedule
// (their allocations belong to a node).
func DefaultReschedulePolicy(jobType string) *ReschedulePolicy {
	switch jobType {
	case JobTypeService:
		return &ReschedulePolicy{
			Delay:         30 * time.Second,
			DelayFunction: ReschedDelayFuncExponential,
			MaxDelay:      time.Hour,
			Unlimited:     true,
		}
	case JobTypeBatch:
		return &ReschedulePolicy{
			Attempts:      1,
			Interval:      24 * time.Hour,
			Delay:         5 * time.Second,
			DelayFunction: ReschedDelayFuncConstant,
		}
	}
	return nil
}

// canonicalizeStrategies fills a group's update, migrate and reschedule
// blocks, inheriting the job-level ones the way the API client does for
// jobs that reach the server without it.
func (tg *TaskGroup) canonicalizeStrategies(j *Job) {
	switch j.Type {
	case JobTypeBatch, JobTypeSysbatch:
		tg.Update = nil
	case JobTypeService:
		if tg.Update == nil {
			if j.Update != nil {
				u := *j.Update
				tg.Update = &u
			} else {
				tg.Update = DefaultUpdateStrategy()
			}
		}
	default:
		if tg.Update == nil && j.Update != nil {
			u := *j.Update
			tg.Update = &u
		}
	}
	if tg.Update != nil && tg.Update.HealthCheck == "" {
		tg.Update.HealthCheck = UpdateHealthCheckChecks
	}

	if tg.Migrate == nil && j.Type == JobTypeService {
		if j.Migrate != nil {
			m := *j.Migrate
			tg.Migrate = &m
		} else {
			tg.Migrate = DefaultMigrateStrategy()
		}
	}
	if tg.Migrate != nil && tg.Migrate.HealthCheck == "" {
		tg.Migrate.HealthCheck = UpdateHealthCheckChecks
	}

	if tg.ReschedulePolicy == nil {
		if j.Reschedule != nil {
			r := *j.Reschedule
			tg.ReschedulePolicy = &r
		} else {
			tg.ReschedulePolicy = DefaultReschedulePolicy(j.Type)
		}
	}
	if r := tg.ReschedulePolicy; r != nil && r.DelayFunction == "" {
		if d := DefaultReschedulePolicy(j.Type); d != nil {
			r.DelayFunction = d.DelayFunction
		} else {
			r.DelayFunction = ReschedDelayFuncConstant
		}
	}
}

func (t *Task) canonicalizeBlocks(j *Job, tg *TaskGroup) {
	if t.Lifecycle != nil && t.Lifecycle.Hook == "" && !t.Lifecycle.Sidecar {
		// An empty lifecycle block is a main task.
		t.Lifecycle = nil
	}
	for _, s := range t.Services {
		s.canonicalize(j, tg, t)
	}
	for _, a := range t.Artifacts {
		if a == nil {
			continue
		}
		if a.GetterMode == "" {
			a.GetterMode = GetterModeAny
		}
		if a.RelativeDest == "" {
			a.RelativeDest = DefaultArtifactDest
		}
	}
	for _, tmpl := range t.Templates {
		tmpl.canonicalize()
	}
	if v := t.Vault; v != nil {
		if v.ChangeMode == "" {
			v.ChangeMode = DefaultVaultChangeMode
		}
		if v.Cluster == "" {
			v.Cluster = DefaultVaultCluster
		}
	}
	t.Consul.canonicalize()
	for _, vm := range t.VolumeMounts {
		if vm != nil && vm.PropagationMode == "" {
			vm.PropagationMode = VolumeMountPropagationPrivate
		}
	}
	if p := t.CSIPluginConfig; p != nil {
		if p.MountDir == "" {
			p.MountDir = DefaultCSIPluginMountDir
		}
		if p.HealthTimeout == 0 {
			p.HealthTimeout = DefaultCSIPluginHealthTimeout
		}
	}
	// An identity block without a name (or named "default") configures
	// the task's default workload identity, wherever the parser put it.
	if t.Identity == nil {
		for i, id := range t.Identities {
			if id != nil && (id.Name == "" || id.Name == WorkloadIdentityDefaultName) {
				t.Identity = id
				t.Identities = append(t.Identities[:i:i], t.Identities[i+1:]...)
				break
			}
		}
	}
	if id := t.Identity; id != nil {
		if id.Name == "" {
			id.Name = WorkloadIdentityDefaultName
		}
		if len(id.Audience) == 0 {
			id.Audience = []string{DefaultIdentityAudience}
		}
	}
}

func (tmpl *Template) canonicalize() {
	if tmpl == nil {
		return
	}
	if tmpl.ChangeMode == "" {
		tmpl.ChangeMode = DefaultTemplateChangeMode
	}
	if tmpl.Perms == "" {
		tmpl.Perms = DefaultTemplatePerms
	}
	if tmpl.LeftDelim == "" {
		tmpl.LeftDelim = DefaultTemplateLeftDelim
	}
	if tmpl.RightDelim == "" {
		tmpl.RightDelim = DefaultTemplateRightDelim
	}
	if cs := tmpl.ChangeScript; cs != nil && cs.Timeout == 0 {
		cs.Timeout = DefaultChangeScriptTimeout
	}
}

// canonicalize names the service and fills its modes. Nomad interpolates
// the runtime-independent variables ${JOB}, ${TASKGROUP}, ${TASK} and
// ${BASE} in names on the server, so the catalog name is known at submit
// time; task is nil for a group service.
func (s *Service) canonicalize(j *Job, tg *TaskGroup, t *Task) {
	if s == nil {
		return
	}
	base := j.Name + "-" + tg.Name
	if t != nil {
		base += "-" + t.Name
	}
	if s.Name == "" {
		s.Name = base
	}
	r := strings.NewReplacer("${JOB}", j.Name, "${TASKGROUP}", tg.Name, "${BASE}", base)
	s.Name = r.Replace(s.Name)
	if t != nil {
		s.Name = strings.ReplaceAll(s.Name, "${TASK}", t.Name)
	}
	if s.Provider == "" {
		s.Provider = DefaultServiceProvider
	}
	if s.AddressMode == "" {
		s.AddressMode = AddressModeAuto
	}
	if s.OnUpdate == "" {
		s.OnUpdate = OnUpdateRequireHealthy
	}
	if s.Provider == ServiceProviderConsul && s.Cluster == "" {
		s.Cluster = DefaultConsulCluster
	}
	for _, c := range s.Checks {
		if c == nil {
			continue
		}
		if c.Name == "" {
			c.Name = "service: \"" + s.Name + "\" check"
		}
		if c.OnUpdate == "" {
			c.OnUpdate = s.OnUpdate
		}
		if c.AddressMode == "" {
			c.AddressMode = AddressModeHost
		}
		if c.Type == ServiceCheckHTTP {
			if c.Protocol == "" {
				c.Protocol = "http"
			}
			if c.Method == "" {
				c.Method = "GET"
			}
		}
	}
}

func (n *NetworkResource) canonicalize() {
	if n == nil {
		return
	}
	if n.Mode == "" {
		n.Mode = NetworkModeDefault
	}
	for i := range n.ReservedPorts {
		if n.ReservedPorts[i].HostNetwork == "" {
			n.ReservedPorts[i].HostNetwork = DefaultHostNetwork
		}
	}
	for i := range n.DynamicPorts {
		if n.DynamicPorts[i].HostNetwork == "" {
			n.DynamicPorts[i].HostNetwork = DefaultHostNetwork
		}
	}
}

func (c *Consul) canonicalize() {
	if c != nil && c.Cluster == "" {
		c.Cluster = DefaultConsulCluster
	}
}

func (d *DisconnectStrategy) canonicalize() {
	if d != nil && d.Reconcile == "" {
		d.Reconcile = DisconnectReconcileBestScore
	}
}

func (p *PeriodicConfig) canonicalize() {
	if p == nil {
		return
	}
	if p.SpecType == "" {
		p.SpecType = PeriodicSpecCron
	}
	if p.TimeZone == "" {
		p.TimeZone = DefaultPeriodicTimeZone
	}
}

func (p *ParameterizedJobConfig) canonicalize() {
	if p != nil && p.Payload == "" {
		p.Payload = DispatchPayloadOptional
	}
}

// canonicalizeAffinities fills the operator and weight of affinity blocks
// that name none; a zero weight is invalid, so it is never a choice.
func canonicalizeAffinities(as []*Affinity) {
	for _, a := range as {
		if a == nil {
			continue
		}
		if a.Operand == "" {
			a.Operand = DefaultConstraintOperand
		}
		if a.Weight == 0 {
			a.Weight = DefaultAffinityWeight
		}
	}
}

// canonicalizeSpreads fills the weight of spread blocks that name none.
func canonicalizeSpreads(ss []*Spread) {
	for _, s := range ss {
		if s != nil && s.Weight == 0 {
			s.Weight = DefaultSpreadWeight
		}
	}
}
