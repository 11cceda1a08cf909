// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

// This file holds the job block and the blocks only a job has: periodic,
// parameterized, multiregion and ui. Update, migrate and reschedule, which
// a group may also set, are in policies.go.

// jobSpec is the job block.
var jobSpec = &spec[api.Job]{
	what: "job",
	attrs: map[string]attrFn[api.Job]{
		"id":          strPtrAttr(func(j *api.Job) **string { return &j.ID }),
		"name":        strPtrAttr(func(j *api.Job) **string { return &j.Name }),
		"type":        strPtrAttr(func(j *api.Job) **string { return &j.Type }),
		"region":      strPtrAttr(func(j *api.Job) **string { return &j.Region }),
		"namespace":   strPtrAttr(func(j *api.Job) **string { return &j.Namespace }),
		"node_pool":   strPtrAttr(func(j *api.Job) **string { return &j.NodePool }),
		"priority":    intPtrAttr(func(j *api.Job) **int { return &j.Priority }),
		"all_at_once": boolPtrAttr(func(j *api.Job) **bool { return &j.AllAtOnce }),
		"datacenters": stringListAttr(func(j *api.Job) *[]string { return &j.Datacenters }),
		"meta":        mapAttr(func(j *api.Job) *map[string]string { return &j.Meta }),
	},
	blocks: map[string]blockRule[api.Job]{
		"meta":          mapBlock(func(j *api.Job) *map[string]string { return &j.Meta }),
		"constraint":    constraintBlock(func(j *api.Job) *[]*api.Constraint { return &j.Constraints }),
		"affinity":      affinityBlock(func(j *api.Job) *[]*api.Affinity { return &j.Affinities }),
		"spread":        spreadBlock(func(j *api.Job) *[]*api.Spread { return &j.Spreads }),
		"update":        singleBlock(func(j *api.Job) **api.UpdateStrategy { return &j.Update }, updateSpec),
		"migrate":       singleBlock(func(j *api.Job) **api.MigrateStrategy { return &j.Migrate }, migrateSpec),
		"reschedule":    singleBlock(func(j *api.Job) **api.ReschedulePolicy { return &j.Reschedule }, rescheduleSpec),
		"periodic":      singleBlock(func(j *api.Job) **api.PeriodicConfig { return &j.Periodic }, periodicSpec),
		"parameterized": singleBlock(func(j *api.Job) **api.ParameterizedJobConfig { return &j.ParameterizedJob }, parameterizedSpec),
		"multiregion":   singleBlock(func(j *api.Job) **api.Multiregion { return &j.Multiregion }, multiregionSpec),
		"ui":            singleBlock(func(j *api.Job) **api.JobUIConfig { return &j.UI }, uiSpec),
		"group":         {labels: []string{"name"}, decode: decodeGroupInto},
		"task":          {labels: []string{"name"}, decode: rejectJobTask},
	},
}

// decodeJob decodes a job "name" { ... } block. Like Nomad, the label is
// the job's ID, and its name when the file does not set one.
func decodeJob(d *decoder, b *hcl.Block) (*api.Job, hcl.Diagnostics) {
	job := &api.Job{}
	diags := jobSpec.decode(d, b.Body, job)
	label := b.Labels[0]
	if job.ID == nil {
		job.ID = &label
	}
	if job.Name == nil {
		job.Name = &label
	}
	normalizeJob(job)
	return job, diags
}

func decodeGroupInto(d *decoder, b *hcl.Block, job *api.Job) hcl.Diagnostics {
	name := b.Labels[0]
	for _, g := range job.TaskGroups {
		if *g.Name == name {
			return hcl.Diagnostics{errorAt(b.LabelRanges[0], "Duplicate group",
				fmt.Sprintf("This job already has a group named %q; group names must be unique in a job.", name))}
		}
	}
	g, diags := decodeGroup(d, b)
	job.TaskGroups = append(job.TaskGroups, g)
	return diags
}

func rejectJobTask(_ *decoder, b *hcl.Block, _ *api.Job) hcl.Diagnostics {
	return hcl.Diagnostics{errorAt(b.DefRange, "Task outside a group",
		"A task block must be inside a group block: write group \""+b.Labels[0]+"\" { task \""+b.Labels[0]+"\" { ... } }.")}
}

var periodicSpec = &spec[api.PeriodicConfig]{
	what: "periodic",
	attrs: map[string]attrFn[api.PeriodicConfig]{
		"cron":             strPtrAttr(func(p *api.PeriodicConfig) **string { return &p.Spec }),
		"crons":            stringListAttr(func(p *api.PeriodicConfig) *[]string { return &p.Specs }),
		"prohibit_overlap": boolPtrAttr(func(p *api.PeriodicConfig) **bool { return &p.ProhibitOverlap }),
		"time_zone":        strPtrAttr(func(p *api.PeriodicConfig) **string { return &p.TimeZone }),
		"enabled":          boolPtrAttr(func(p *api.PeriodicConfig) **bool { return &p.Enabled }),
	},
}

var parameterizedSpec = &spec[api.ParameterizedJobConfig]{
	what: "parameterized",
	attrs: map[string]attrFn[api.ParameterizedJobConfig]{
		"payload":       oneOfAttr(func(p *api.ParameterizedJobConfig) *string { return &p.Payload }, "optional", "required", "forbidden"),
		"meta_required": stringListAttr(func(p *api.ParameterizedJobConfig) *[]string { return &p.MetaRequired }),
		"meta_optional": stringListAttr(func(p *api.ParameterizedJobConfig) *[]string { return &p.MetaOptional }),
	},
}

var multiregionSpec = &spec[api.Multiregion]{
	what: "multiregion",
	blocks: map[string]blockRule[api.Multiregion]{
		"strategy": singleBlock(func(m *api.Multiregion) **api.MultiregionStrategy { return &m.Strategy }, &spec[api.MultiregionStrategy]{
			what: "strategy",
			attrs: map[string]attrFn[api.MultiregionStrategy]{
				"max_parallel": intPtrAttr(func(s *api.MultiregionStrategy) **int { return &s.MaxParallel }),
				"on_failure":   strPtrAttr(func(s *api.MultiregionStrategy) **string { return &s.OnFailure }),
			},
		}),
		"region": labelledListBlock(func(m *api.Multiregion) *[]*api.MultiregionRegion { return &m.Regions }, multiregionRegionSpec, "name",
			func(r *api.MultiregionRegion, name string) { r.Name = name }, func(r *api.MultiregionRegion) string { return r.Name }),
	},
}

var multiregionRegionSpec = &spec[api.MultiregionRegion]{
	what: "region",
	attrs: map[string]attrFn[api.MultiregionRegion]{
		"count":       intPtrAttr(func(r *api.MultiregionRegion) **int { return &r.Count }),
		"datacenters": stringListAttr(func(r *api.MultiregionRegion) *[]string { return &r.Datacenters }),
		"node_pool":   strAttr(func(r *api.MultiregionRegion) *string { return &r.NodePool }),
		"meta":        mapAttr(func(r *api.MultiregionRegion) *map[string]string { return &r.Meta }),
	},
	blocks: map[string]blockRule[api.MultiregionRegion]{
		"meta": mapBlock(func(r *api.MultiregionRegion) *map[string]string { return &r.Meta }),
	},
}

var uiSpec = &spec[api.JobUIConfig]{
	what: "ui",
	attrs: map[string]attrFn[api.JobUIConfig]{
		"description": strAttr(func(u *api.JobUIConfig) *string { return &u.Description }),
	},
	blocks: map[string]blockRule[api.JobUIConfig]{
		"link": listBlock(func(u *api.JobUIConfig) *[]*api.JobUILink { return &u.Links }, &spec[api.JobUILink]{
			what: "link",
			attrs: map[string]attrFn[api.JobUILink]{
				"label": strAttr(func(l *api.JobUILink) *string { return &l.Label }),
				"url":   strAttr(func(l *api.JobUILink) *string { return &l.URL }),
			},
		}),
	},
}

// oneOfAttr reads a string that must be one of values.
func oneOfAttr[T any](f field[T, string], values ...string) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		s, ok, diags := d.stringOf(a)
		if !ok {
			return diags
		}
		for _, v := range values {
			if s == v {
				*f(out) = s
				return diags
			}
		}
		return append(diags, errorAt(a.Expr.Range(), fmt.Sprintf("Invalid value for %q", a.Name),
			fmt.Sprintf("%q is not one of %s.", s, quoteList(values))))
	}
}

// oneOfPtrAttr is oneOfAttr for pointer fields.
func oneOfPtrAttr[T any](f field[T, *string], values ...string) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		var s string
		diags := oneOfAttr(func(*T) *string { return &s }, values...)(d, a, out)
		if !diags.HasErrors() && s != "" {
			*f(out) = &s
		}
		return diags
	}
}

func quoteList(values []string) string {
	out := ""
	for i, v := range values {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", v)
	}
	return out
}
