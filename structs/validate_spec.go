// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"fmt"
	"path/filepath"
	"strings"
)

// jobBlocks checks the job-level blocks beyond the core fields.
func (p *problems) jobBlocks(j *Job) {
	batchLike := j.Type == JobTypeBatch || j.Type == JobTypeSysbatch
	if j.Periodic != nil {
		if !batchLike {
			p.addf("Periodic can only be used with %q or %q scheduler", JobTypeBatch, JobTypeSysbatch)
		}
		p.nest("Periodic", j.Periodic.validate())
	}
	if j.ParameterizedJob != nil {
		if !batchLike {
			p.addf("Parameterized job can only be used with %q or %q scheduler", JobTypeBatch, JobTypeSysbatch)
		}
		p.nest("Parameterized job", j.ParameterizedJob.validate())
	}
	if j.Dispatched && j.ParameterizedJob == nil {
		p.addf("Dispatched job has no parameterized block")
	}
	if len(j.Payload) > 0 && !j.Dispatched {
		p.addf("Payload is only allowed on dispatched jobs")
	}
	if j.UI != nil {
		for i, l := range j.UI.Links {
			if l == nil || l.Label == "" || l.URL == "" {
				p.addf("UI link %d must have a label and a URL", i+1)
			}
		}
	}
}

// groupBlocks checks a group's blocks beyond the core fields and returns
// the port labels its network declares.
func (p *problems) groupBlocks(j *Job, tg *TaskGroup) map[string]bool {
	p.affinities(tg.Affinities)
	p.spreads(tg.Spreads)
	ports := p.networks(tg.Networks)
	p.services(tg.Services, ports, tg, nil)
	for name, v := range tg.Volumes {
		prefix := fmt.Sprintf("Volume %q", name)
		if v == nil {
			p.addf("%s is null", prefix)
			continue
		}
		p.nest(prefix, v.validate())
	}
	if u := tg.Update; !u.IsEmpty() {
		if j.Type == JobTypeBatch || j.Type == JobTypeSysbatch {
			p.addf("Job type %q does not allow update block", j.Type)
		}
		p.nest("Update", u.validate())
	}
	if tg.Migrate != nil {
		p.nest("Migrate", tg.Migrate.validate())
	}
	if r := tg.ReschedulePolicy; r != nil {
		if j.Type == JobTypeSystem || j.Type == JobTypeSysbatch {
			if r.Enabled() {
				p.addf("System jobs should not have a reschedule policy")
			}
		} else {
			p.nest("Reschedule policy", r.validate())
		}
	} else if j.Type == JobTypeService || j.Type == JobTypeBatch {
		p.addf("Task Group should have a reschedule policy")
	}
	if tg.Scaling != nil {
		p.nest("Scaling policy", tg.Scaling.validate(tg.Count))
	}
	if d := tg.Disconnect; d != nil {
		if tg.MaxClientDisconnect != nil || tg.StopAfterClientDisconnect != nil {
			p.addf("Disconnect cannot be set together with the deprecated max_client_disconnect or stop_after_client_disconnect")
		}
		p.nest("Disconnect", d.validate())
	}
	if d := tg.MaxClientDisconnect; d != nil && *d < 0 {
		p.addf("max_client_disconnect cannot be negative")
	}
	if d := tg.StopAfterClientDisconnect; d != nil && *d < 0 {
		p.addf("stop_after_client_disconnect must be a positive value")
	}
	if tg.ShutdownDelay < 0 {
		p.addf("ShutdownDelay must be a positive value")
	}
	if tg.MaxRunDuration < 0 {
		p.addf("MaxRunDuration must be a positive value")
	}

	main := 0
	for _, t := range tg.Tasks {
		if t != nil && t.Lifecycle == nil {
			main++
		}
	}
	if len(tg.Tasks) > 0 && main == 0 {
		p.addf("Task group must have at least one main task (without a lifecycle block)")
	}
	return ports
}

// taskBlocks checks a task's blocks beyond the core fields.
func (p *problems) taskBlocks(j *Job, tg *TaskGroup, t *Task, ports map[string]bool) {
	p.affinities(t.Affinities)
	if l := t.Lifecycle; l != nil {
		switch l.Hook {
		case TaskLifecycleHookPrestart, TaskLifecycleHookPoststart:
		case TaskLifecycleHookPoststop:
			if l.Sidecar {
				p.addf("Lifecycle: sidecar is not supported with hook %q", l.Hook)
			}
		case "":
			p.addf("Lifecycle: hook must be set when sidecar is")
		default:
			p.addf("Lifecycle: invalid hook %q; must be %q, %q or %q", l.Hook,
				TaskLifecycleHookPrestart, TaskLifecycleHookPoststart, TaskLifecycleHookPoststop)
		}
		if t.Leader {
			p.addf("Lifecycle tasks may not be leaders")
		}
	}
	p.services(t.Services, ports, tg, t)
	dests := map[string]int{}
	for i, tmpl := range t.Templates {
		prefix := fmt.Sprintf("Template %d", i+1)
		if tmpl == nil {
			p.addf("%s is null", prefix)
			continue
		}
		tp := tmpl.validate()
		if tmpl.DestPath != "" {
			if first, ok := dests[tmpl.DestPath]; ok {
				tp.addf("destination %q is also used by template %d", tmpl.DestPath, first)
			} else {
				dests[tmpl.DestPath] = i + 1
			}
		}
		p.nest(prefix, tp)
	}
	for i, a := range t.Artifacts {
		prefix := fmt.Sprintf("Artifact %d", i+1)
		if a == nil {
			p.addf("%s is null", prefix)
			continue
		}
		p.nest(prefix, a.validate())
	}
	if t.Vault != nil {
		p.nest("Vault", t.Vault.validate())
	}
	if t.Identity != nil {
		ip := t.Identity.validate()
		if t.Identity.Name != WorkloadIdentityDefaultName {
			ip.addf("Default identity must be named %q", WorkloadIdentityDefaultName)
		}
		p.nest("Identity", ip)
	}
	ids := map[string]bool{}
	for i, id := range t.Identities {
		prefix := fmt.Sprintf("Identity %d", i+1)
		if id == nil {
			p.addf("%s is null", prefix)
			continue
		}
		ip := id.validate()
		if id.Name == WorkloadIdentityDefaultName && t.Identity != nil {
			ip.addf("Identity %q is already the default identity", id.Name)
		}
		if ids[id.Name] {
			ip.addf("Duplicate identity name %q", id.Name)
		}
		ids[id.Name] = true
		p.nest(prefix, ip)
	}
	if dp := t.DispatchPayload; dp != nil {
		if dp.File == "" {
			p.addf("Dispatch payload: file must be set")
		} else if filepath.IsAbs(dp.File) || escapesTaskDir(filepath.Join("local", dp.File)) ||
			strings.HasPrefix(filepath.Clean(dp.File), "..") {
			p.addf("Dispatch payload: file %q must be a relative path inside the task's local directory", dp.File)
		}
		if j.ParameterizedJob == nil {
			p.addf("Dispatch payload requires a parameterized job")
		}
	}
	for i, vm := range t.VolumeMounts {
		prefix := fmt.Sprintf("Volume mount %d", i+1)
		if vm == nil {
			p.addf("%s is null", prefix)
			continue
		}
		if vm.Volume == "" {
			p.addf("%s: volume must be set", prefix)
		} else if _, ok := tg.Volumes[vm.Volume]; !ok {
			p.addf("%s references undefined volume %q", prefix, vm.Volume)
		}
		if vm.Destination == "" {
			p.addf("%s: destination must be set", prefix)
		}
		switch vm.PropagationMode {
		case VolumeMountPropagationPrivate, VolumeMountPropagationHostToTask, VolumeMountPropagationBidirectional:
		default:
			p.addf("%s: invalid propagation mode %q", prefix, vm.PropagationMode)
		}
	}
	if t.CSIPluginConfig != nil {
		p.nest("CSIPluginConfig", t.CSIPluginConfig.validate())
	}
	actions := map[string]bool{}
	for i, a := range t.Actions {
		prefix := fmt.Sprintf("Action %d", i+1)
		if a == nil {
			p.addf("%s is null", prefix)
			continue
		}
		switch {
		case !validActionName.MatchString(a.Name):
			p.addf("%s: invalid name %q (letters, digits, '-' and '_' only)", prefix, a.Name)
		case actions[a.Name]:
			p.addf("%s: duplicate action name %q", prefix, a.Name)
		}
		actions[a.Name] = true
		if a.Command == "" {
			p.addf("%s: command must be set", prefix)
		}
	}
	secrets := map[string]bool{}
	for i, s := range t.Secrets {
		prefix := fmt.Sprintf("Secret %d", i+1)
		if s == nil {
			p.addf("%s is null", prefix)
			continue
		}
		if s.Name == "" || s.Provider == "" || s.Path == "" {
			p.addf("%s: name, provider and path must be set", prefix)
		}
		if secrets[s.Name] {
			p.addf("%s: duplicate secret name %q", prefix, s.Name)
		}
		secrets[s.Name] = true
	}
	if t.ShutdownDelay < 0 {
		p.addf("ShutdownDelay must be a positive value")
	}
}

func (p *problems) affinities(as []*Affinity) {
	for i, a := range as {
		prefix := fmt.Sprintf("Affinity %d validation failed", i+1)
		if a == nil {
			p.addf("%s: affinity is null", prefix)
			continue
		}
		var ap problems
		if a.Weight == 0 || a.Weight < -100 || a.Weight > 100 {
			ap.addf("Affinity weight must be within the range [-100,100] and not zero; got %d", a.Weight)
		}
		switch a.Operand {
		case ConstraintDistinctHosts, ConstraintDistinctProperty:
			ap.addf("Affinity operator %q is not allowed", a.Operand)
		default:
			c := Constraint{LTarget: a.LTarget, RTarget: a.RTarget, Operand: a.Operand}
			ap = append(ap, c.validate(constraintAtTask)...)
		}
		p.nest(prefix, ap)
	}
}

func (p *problems) spreads(ss []*Spread) {
	for i, s := range ss {
		prefix := fmt.Sprintf("Spread %d validation failed", i+1)
		if s == nil {
			p.addf("%s: spread is null", prefix)
			continue
		}
		var sp problems
		if s.Attribute == "" {
			sp.addf("Missing spread attribute")
		}
		if s.Weight <= 0 || s.Weight > 100 {
			sp.addf("Spread block must have a positive weight from 0 to 100")
		}
		sum := 0
		seen := map[string]bool{}
		for _, t := range s.SpreadTarget {
			if t == nil {
				sp.addf("Spread target is null")
				continue
			}
			if seen[t.Value] {
				sp.addf("Spread target value %q already defined", t.Value)
			}
			seen[t.Value] = true
			if t.Percent > 100 {
				sp.addf("Spread target percentage for value %q must be between 0 and 100", t.Value)
			}
			sum += int(t.Percent)
		}
		if sum > 100 {
			sp.addf("Sum of spread target percentages must not be greater than 100%%; got %d%%", sum)
		}
		p.nest(prefix, sp)
	}
}
