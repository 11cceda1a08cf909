// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/cronexpr"
)

// Validation of the job specification's blocks beyond the core job, group
// and task fields. Rules follow Nomad's documentation of each block.

// validServiceName is RFC 1123 (a DNS label up to 63 characters), with
// `${...}` interpolations allowed anywhere, since runtime variables are
// only resolved on the client.
var (
	validServiceName = regexp.MustCompile(`^(?i:[a-z0-9]|[a-z0-9][a-z0-9\-]{0,61}[a-z0-9])$`)
	interpolation    = regexp.MustCompile(`\$\{[^}]*\}`)
	validPortLabel   = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)
	validActionName  = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
)

func (p *PeriodicConfig) validate() problems {
	var pr problems
	if p.SpecType != PeriodicSpecCron {
		pr.addf("Unknown periodic specification type %q", p.SpecType)
	}
	specs := p.AllSpecs()
	if len(specs) == 0 {
		pr.addf("Must specify a spec")
	}
	if p.Spec != "" && len(p.Specs) > 0 {
		pr.addf("Only one of spec or crons may be set")
	}
	for _, s := range specs {
		if _, err := cronexpr.Parse(s); err != nil {
			pr.addf("Invalid cron spec %q: %w", s, err)
		}
	}
	if _, err := time.LoadLocation(p.TimeZone); err != nil {
		pr.addf("Invalid time zone %q: %w", p.TimeZone, err)
	}
	return pr
}

func (p *ParameterizedJobConfig) validate() problems {
	var pr problems
	switch p.Payload {
	case DispatchPayloadOptional, DispatchPayloadRequired, DispatchPayloadForbidden:
	default:
		pr.addf("Unknown payload requirement: %q", p.Payload)
	}
	for _, k := range p.MetaRequired {
		if slices.Contains(p.MetaOptional, k) {
			pr.addf("Metadata key %q is both required and optional", k)
		}
	}
	return pr
}

func (u *UpdateStrategy) validate() problems {
	var p problems
	switch u.HealthCheck {
	case UpdateHealthCheckChecks, UpdateHealthCheckTaskStates, UpdateHealthCheckManual:
	default:
		p.addf("Invalid health check given: %q", u.HealthCheck)
	}
	if u.MaxParallel < 0 {
		p.addf("Max parallel can not be less than zero: %d < 0", u.MaxParallel)
	}
	if u.Canary < 0 {
		p.addf("Canary count can not be less than zero: %d < 0", u.Canary)
	}
	if u.Canary == 0 && u.AutoPromote {
		p.addf("Auto Promote requires a Canary count greater than zero")
	}
	if u.MinHealthyTime < 0 {
		p.addf("Minimum healthy time may not be less than zero: %v", u.MinHealthyTime)
	}
	if u.HealthyDeadline <= 0 {
		p.addf("Healthy deadline must be greater than zero: %v", u.HealthyDeadline)
	}
	if u.ProgressDeadline < 0 {
		p.addf("Progress deadline must be zero or greater: %v", u.ProgressDeadline)
	}
	if u.MinHealthyTime >= u.HealthyDeadline {
		p.addf("Minimum healthy time must be less than healthy deadline: %v > %v", u.MinHealthyTime, u.HealthyDeadline)
	}
	if u.ProgressDeadline != 0 && u.HealthyDeadline >= u.ProgressDeadline {
		p.addf("Healthy deadline must be less than progress deadline: %v > %v", u.HealthyDeadline, u.ProgressDeadline)
	}
	if u.Stagger <= 0 {
		p.addf("Stagger must be greater than zero: %v", u.Stagger)
	}
	return p
}

func (m *MigrateStrategy) validate() problems {
	var p problems
	switch m.HealthCheck {
	case UpdateHealthCheckChecks, UpdateHealthCheckTaskStates:
	default:
		p.addf("Invalid health check given: %q", m.HealthCheck)
	}
	if m.MaxParallel < 0 {
		p.addf("MaxParallel must be >= 0 but found %d", m.MaxParallel)
	}
	if m.MinHealthyTime < 0 {
		p.addf("MinHealthyTime must be >= 0 but found %v", m.MinHealthyTime)
	}
	if m.HealthyDeadline <= 0 {
		p.addf("HealthyDeadline must be > 0 but found %v", m.HealthyDeadline)
	}
	if m.MinHealthyTime > m.HealthyDeadline {
		p.addf("MinHealthyTime must be less than HealthyDeadline")
	}
	return p
}

func (r *ReschedulePolicy) validate() problems {
	var p problems
	if !r.Enabled() {
		return p
	}
	if r.Attempts < 0 {
		p.addf("Attempts must be >= 0 but found %d", r.Attempts)
	}
	if r.Interval < 0 {
		p.addf("Interval must be >= 0 but found %v", r.Interval)
	}
	if r.Delay < 5*time.Second {
		p.addf("Delay cannot be less than 5s (got %v)", r.Delay)
	}
	switch r.DelayFunction {
	case ReschedDelayFuncConstant:
	case ReschedDelayFuncExponential, ReschedDelayFuncFibonacci:
		if r.MaxDelay < r.Delay {
			p.addf("Max Delay cannot be less than Delay %v (got %v)", r.Delay, r.MaxDelay)
		}
	default:
		p.addf("Invalid delay function %q, must be one of %q", r.DelayFunction,
			[]string{ReschedDelayFuncConstant, ReschedDelayFuncExponential, ReschedDelayFuncFibonacci})
	}
	if r.Unlimited && r.Attempts > 0 {
		p.addf("Reschedule policy with unlimited rescheduling cannot set attempts")
	}
	if !r.Unlimited && r.DelayFunction == ReschedDelayFuncConstant && r.Delay > 0 &&
		time.Duration(r.Attempts)*r.Delay > r.Interval {
		p.addf("Nomad can only make %d reschedule attempts in %v with a delay of %v; got %d attempts",
			int64(r.Interval/r.Delay), r.Interval, r.Delay, r.Attempts)
	}
	return p
}

func (d *DisconnectStrategy) validate() problems {
	var p problems
	if d.LostAfter < 0 {
		p.addf("lost_after cannot be a negative duration")
	}
	if d.StopOnClientAfter < 0 {
		p.addf("stop_on_client_after cannot be a negative duration")
	}
	if d.LostAfter > 0 && d.StopOnClientAfter > 0 {
		p.addf("only one of lost_after or stop_on_client_after can be set")
	}
	switch d.Reconcile {
	case DisconnectReconcileBestScore, DisconnectReconcileLongest,
		DisconnectReconcileKeepOrig, DisconnectReconcileKeepRepl:
	default:
		p.addf("Invalid reconcile strategy %q", d.Reconcile)
	}
	return p
}

func (s *ScalingPolicy) validate(count int) problems {
	var p problems
	if s.Type != ScalingPolicyTypeHorizontal {
		p.addf("Scaling policy type %q is not supported (only %q)", s.Type, ScalingPolicyTypeHorizontal)
	}
	if s.Min < 0 {
		p.addf("Minimum count must be a non-negative value; got %d", s.Min)
	}
	if s.Max < 0 {
		p.addf("Maximum count must be a non-negative value; got %d", s.Max)
	}
	if s.Max < s.Min {
		p.addf("Maximum count must not be less than minimum count; got %d < %d", s.Max, s.Min)
	}
	if int64(count) < s.Min || int64(count) > s.Max {
		p.addf("Task group count must be between minimum and maximum scaling counts [%d, %d]; got %d", s.Min, s.Max, count)
	}
	return p
}

// networks checks the group's network blocks and returns the port labels
// they declare, for services and checks to reference.
func (p *problems) networks(ns []*NetworkResource) map[string]bool {
	labels := map[string]bool{}
	if len(ns) > 1 {
		p.addf("Only one network block is allowed per group")
	}
	for i, n := range ns {
		prefix := fmt.Sprintf("Network %d", i+1)
		if n == nil {
			p.addf("%s is null", prefix)
			continue
		}
		var np problems
		switch {
		case n.Mode == NetworkModeHost, n.Mode == NetworkModeBridge, n.Mode == NetworkModeNone:
		case strings.HasPrefix(n.Mode, NetworkModeCNIPrefix) && len(n.Mode) > len(NetworkModeCNIPrefix):
		default:
			np.addf("Invalid network mode %q", n.Mode)
		}
		if n.MBits < 0 {
			np.addf("MBits can't be negative; got %d", n.MBits)
		}
		check := func(kind string, ps []Port, static bool) {
			for _, port := range ps {
				switch {
				case port.Label == "":
					np.addf("%s port has an empty label", kind)
				case !validPortLabel.MatchString(port.Label):
					np.addf("Port label %q must contain only alphanumeric characters or underscores", port.Label)
				case labels[port.Label]:
					np.addf("Port label %q already in use", port.Label)
				}
				labels[port.Label] = true
				if static && (port.Value < 1 || port.Value > MaxValidPort) {
					np.addf("Port %q has invalid static value %d; must be between 1 and %d", port.Label, port.Value, MaxValidPort)
				}
				if !static && port.Value != 0 {
					np.addf("Dynamic port %q can't have a static value", port.Label)
				}
				if port.To < -1 || port.To > MaxValidPort {
					np.addf("Port %q has invalid mapped port %d", port.Label, port.To)
				}
			}
		}
		check("Reserved", n.ReservedPorts, true)
		check("Dynamic", n.DynamicPorts, false)
		p.nest(prefix, np)
	}
	return labels
}

// services validates service blocks. ports are the group's port labels;
// task is nil for group services.
func (p *problems) services(ss []*Service, ports map[string]bool, tg *TaskGroup, task *Task) {
	seen := map[string]bool{}
	for i, s := range ss {
		if s == nil {
			p.addf("Service %d is null", i+1)
			continue
		}
		prefix := fmt.Sprintf("Service %q", s.Name)
		var sp problems
		name := interpolation.ReplaceAllString(s.Name, "a")
		if !validServiceName.MatchString(name) {
			sp.addf("Service name must be valid per RFC 1123 and can contain only alphanumeric characters or dashes, and be at most 63 characters: %q", s.Name)
		}
		key := s.Name + "/" + s.PortLabel
		if seen[key] {
			sp.addf("Service %q is duplicate with the same port", s.Name)
		}
		seen[key] = true
		switch s.Provider {
		case ServiceProviderConsul:
		case ServiceProviderNomad:
			if s.Connect != nil {
				sp.addf("Service with provider nomad cannot include Connect blocks")
			}
		default:
			sp.addf("Service provider must be %q or %q; got %q", ServiceProviderConsul, ServiceProviderNomad, s.Provider)
		}
		switch s.AddressMode {
		case AddressModeAuto, AddressModeHost, AddressModeDriver, AddressModeAlloc:
		default:
			sp.addf("Service address_mode must be one of auto, host, driver or alloc; got %q", s.AddressMode)
		}
		if s.Address != "" && s.AddressMode != AddressModeAuto {
			sp.addf("Service address must not be set when address_mode is %q", s.AddressMode)
		}
		sp.onUpdate(s.OnUpdate)
		if task != nil && s.TaskName != "" && s.TaskName != task.Name {
			sp.addf("Task service may not set task %q", s.TaskName)
		}
		if task == nil && s.TaskName != "" && tg.LookupTask(s.TaskName) == nil {
			sp.addf("Service references unknown task %q", s.TaskName)
		}
		if l := s.PortLabel; l != "" && !isNumericPort(l) && !ports[l] && s.AddressMode != AddressModeDriver {
			sp.addf("Port label %q referenced by service is not a port of the group's network", l)
		}
		if s.Weights != nil && (s.Weights.Passing < 1 || s.Weights.Warning < 0) {
			sp.addf("Weights: passing must be at least 1 and warning not negative")
		}
		for j, c := range s.Checks {
			if c == nil {
				sp.addf("Check %d is null", j+1)
				continue
			}
			sp.nest(fmt.Sprintf("Check %q", c.Name), c.validate(s, ports, tg, task))
		}
		p.nest(prefix, sp)
	}
}

func isNumericPort(l string) bool {
	n := 0
	for _, r := range l {
		if r < '0' || r > '9' {
			return false
		}
		n = n*10 + int(r-'0')
		if n > MaxValidPort {
			return false
		}
	}
	return l != ""
}

func (p *problems) onUpdate(v string) {
	switch v {
	case OnUpdateRequireHealthy, OnUpdateIgnoreWarn, OnUpdateIgnore:
	default:
		p.addf("on_update must be one of %q, %q or %q; got %q", OnUpdateRequireHealthy, OnUpdateIgnoreWarn, OnUpdateIgnore, v)
	}
}

func (c *ServiceCheck) validate(s *Service, ports map[string]bool, tg *TaskGroup, task *Task) problems {
	var p problems
	switch c.Type {
	case ServiceCheckHTTP:
		if c.Path == "" {
			p.addf("http type must have http path")
		} else if strings.Contains(c.Path, "://") {
			p.addf("http path must be relative, not an URL: %q", c.Path)
		}
		if c.Protocol != "http" && c.Protocol != "https" {
			p.addf("http protocol must be http or https; got %q", c.Protocol)
		}
	case ServiceCheckTCP, ServiceCheckGRPC:
	case ServiceCheckScript:
		if c.Command == "" {
			p.addf("script type must have a valid script path")
		}
		if task == nil && c.TaskName == "" {
			p.addf("Group service script check must set task")
		}
		if s.Provider == ServiceProviderNomad {
			p.addf("Script checks are not supported by the nomad service provider")
		}
	default:
		p.addf("Invalid check type: %q", c.Type)
	}
	if c.Interval < time.Second {
		p.addf("Interval must be at least 1s; got %v", c.Interval)
	}
	if c.Timeout < time.Second {
		p.addf("Timeout must be at least 1s; got %v", c.Timeout)
	}
	switch c.AddressMode {
	case AddressModeHost, AddressModeDriver, AddressModeAlloc:
	default:
		p.addf("Invalid address_mode %q", c.AddressMode)
	}
	if l := c.PortLabel; l != "" && !isNumericPort(l) && !ports[l] && c.AddressMode != AddressModeDriver {
		p.addf("Port label %q referenced by check is not a port of the group's network", l)
	}
	if c.Type != ServiceCheckScript && c.PortLabel == "" && s.PortLabel == "" && !c.Expose {
		p.addf("Check of type %q needs a port (check or service port)", c.Type)
	}
	switch c.InitialStatus {
	case "", "passing", "warning", "critical":
	default:
		p.addf("Invalid initial_status %q", c.InitialStatus)
	}
	if c.SuccessBeforePassing < 0 || c.FailuresBeforeCritical < 0 || c.FailuresBeforeWarning < 0 {
		p.addf("success_before_passing, failures_before_critical and failures_before_warning can't be negative")
	}
	if c.FailuresBeforeWarning > 0 && c.FailuresBeforeWarning > c.FailuresBeforeCritical {
		p.addf("failures_before_warning must not exceed failures_before_critical")
	}
	if cr := c.CheckRestart; cr != nil && (cr.Limit < 0 || cr.Grace < 0) {
		p.addf("check_restart limit and grace can't be negative")
	}
	p.onUpdate(c.OnUpdate)
	if c.TaskName != "" && task == nil && tg.LookupTask(c.TaskName) == nil {
		p.addf("Check references unknown task %q", c.TaskName)
	}
	return p
}

func (tmpl *Template) validate() problems {
	var p problems
	if tmpl.SourcePath == "" && tmpl.EmbeddedTmpl == "" {
		p.addf("Must specify a source path or have an embedded template")
	}
	if tmpl.DestPath == "" {
		p.addf("Must specify a destination for the template")
	}
	switch tmpl.ChangeMode {
	case TemplateChangeModeNoop, TemplateChangeModeRestart:
	case TemplateChangeModeSignal:
		if tmpl.ChangeSignal == "" {
			p.addf("Must specify signal value when change mode is signal")
		}
		if tmpl.Envvars {
			p.addf("Cannot use signals with env var templates")
		}
	case TemplateChangeModeScript:
		if tmpl.ChangeScript == nil || tmpl.ChangeScript.Command == "" {
			p.addf("Must specify a change script command when change mode is script")
		}
	default:
		p.addf("Invalid change mode %q", tmpl.ChangeMode)
	}
	if tmpl.ChangeSignal != "" && tmpl.ChangeMode != TemplateChangeModeSignal {
		p.addf("change_signal requires change_mode %q", TemplateChangeModeSignal)
	}
	if tmpl.Splay < 0 {
		p.addf("Must specify positive splay value")
	}
	if !validPerms(tmpl.Perms) {
		p.addf("Failed to parse %q as octal", tmpl.Perms)
	}
	if w := tmpl.Wait; w != nil && w.Min != nil && w.Max != nil && *w.Min > *w.Max {
		p.addf("wait min %v is greater than max %v", *w.Min, *w.Max)
	}
	return p
}

func validPerms(s string) bool {
	if s == "" || len(s) > 4 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '7' {
			return false
		}
	}
	return true
}

func (a *TaskArtifact) validate() problems {
	var p problems
	if a.GetterSource == "" {
		p.addf("Source must be specified")
	}
	switch a.GetterMode {
	case GetterModeAny, GetterModeFile, GetterModeDir:
	default:
		p.addf("Invalid artifact mode %q; must be one of: %s, %s, %s", a.GetterMode, GetterModeAny, GetterModeFile, GetterModeDir)
	}
	if escapesTaskDir(a.RelativeDest) {
		p.addf("Destination escapes allocation directory: %q", a.RelativeDest)
	}
	return p
}

// escapesTaskDir reports whether a relative path leaves the task's
// directory (the allocation directory is reachable as "../alloc").
func escapesTaskDir(path string) bool {
	if filepath.IsAbs(path) {
		return false // absolute paths are rooted in the task directory
	}
	clean := filepath.Clean(path)
	return strings.HasPrefix(clean, "../..") || clean == ".."
}

func (v *Vault) validate() problems {
	var p problems
	for _, pol := range v.Policies {
		if pol == "root" {
			p.addf("Can not specify \"root\" policy")
		}
	}
	switch v.ChangeMode {
	case TemplateChangeModeNoop, TemplateChangeModeRestart:
	case TemplateChangeModeSignal:
		if v.ChangeSignal == "" {
			p.addf("Signal must be specified when using change mode %q", TemplateChangeModeSignal)
		}
	default:
		p.addf("Unknown change mode %q", v.ChangeMode)
	}
	return p
}

func (w *WorkloadIdentity) validate() problems {
	var p problems
	if w.Name == "" {
		p.addf("Identity must have a name")
	}
	for _, a := range w.Audience {
		if a == "" {
			p.addf("Audience must not be empty")
		}
	}
	switch w.ChangeMode {
	case "", TemplateChangeModeNoop, TemplateChangeModeRestart:
		if w.ChangeSignal != "" {
			p.addf("change_signal requires change_mode %q", TemplateChangeModeSignal)
		}
	case TemplateChangeModeSignal:
		if w.ChangeSignal == "" {
			p.addf("change_signal must be set when change_mode is %q", TemplateChangeModeSignal)
		}
	default:
		p.addf("Invalid change_mode %q", w.ChangeMode)
	}
	if w.TTL < 0 {
		p.addf("ttl must be >= 0")
	}
	if w.Filepath != "" && !w.File {
		p.addf("filepath requires file = true")
	}
	return p
}

func (c *TaskCSIPluginConfig) validate() problems {
	var p problems
	if c.ID == "" {
		p.addf("CSIPluginConfig must have a non-empty PluginID")
	}
	switch c.Type {
	case CSIPluginTypeController, CSIPluginTypeNode, CSIPluginTypeMonolith:
	default:
		p.addf("CSIPluginConfig PluginType must be one of 'node', 'controller', or 'monolith', got: %q", c.Type)
	}
	if c.HealthTimeout < 0 {
		p.addf("CSIPluginConfig health_timeout can't be negative")
	}
	return p
}

func (v *VolumeRequest) validate() problems {
	var p problems
	if v.Source == "" {
		p.addf("Volume has an empty source")
	}
	switch v.Type {
	case VolumeTypeHost:
		if v.MountOptions != nil {
			p.addf("Host volumes cannot have mount options")
		}
	case VolumeTypeCSI:
		if v.AccessMode == "" {
			p.addf("CSI volumes must have an access mode")
		}
		if v.AttachmentMode == "" {
			p.addf("CSI volumes must have an attachment mode")
		}
	default:
		p.addf("Volume type %q is not one of %q or %q", v.Type, VolumeTypeHost, VolumeTypeCSI)
	}
	if v.PerAlloc && v.Type != VolumeTypeCSI && v.Type != VolumeTypeHost {
		p.addf("per_alloc is only allowed on host and csi volumes")
	}
	return p
}
