// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

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
		"meta":       mapBlock(func(j *api.Job) *map[string]string { return &j.Meta }),
		"constraint": constraintBlock(func(j *api.Job) *[]*api.Constraint { return &j.Constraints }),
		"group":      {labels: []string{"name"}, decode: decodeGroupInto},
		"task":       {labels: []string{"name"}, decode: rejectJobTask},
	},
	pending: []string{
		"affinity", "spread", "update", "multiregion", "periodic", "parameterized",
		"reschedule", "migrate", "ui", "vault", "consul", "dynamic",
		"vault_token", "consul_token",
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
