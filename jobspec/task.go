// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"time"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

// This file holds the task block and its small blocks: lifecycle,
// dispatch_payload, volume_mount, csi_plugin, action, schedule and the
// task-level (vertical) scaling blocks. Templates and artifacts are in
// files.go; vault, identity and secret in identity.go.

// taskSpec is the task block.
var taskSpec = &spec[api.Task]{
	what: "task",
	attrs: map[string]attrFn[api.Task]{
		"driver":         strAttr(func(t *api.Task) *string { return &t.Driver }),
		"user":           strAttr(func(t *api.Task) *string { return &t.User }),
		"kind":           strAttr(func(t *api.Task) *string { return &t.Kind }),
		"kill_signal":    strAttr(func(t *api.Task) *string { return &t.KillSignal }),
		"leader":         boolAttr(func(t *api.Task) *bool { return &t.Leader }),
		"kill_timeout":   durationPtrAttr(func(t *api.Task) **time.Duration { return &t.KillTimeout }),
		"shutdown_delay": durationAttr(func(t *api.Task) *time.Duration { return &t.ShutdownDelay }),
		"env":            mapAttr(func(t *api.Task) *map[string]string { return &t.Env }),
		"meta":           mapAttr(func(t *api.Task) *map[string]string { return &t.Meta }),
	},
	blocks: map[string]blockRule[api.Task]{
		"config":           freeFormBlock(func(t *api.Task) *map[string]interface{} { return &t.Config }),
		"env":              mapBlock(func(t *api.Task) *map[string]string { return &t.Env }),
		"meta":             mapBlock(func(t *api.Task) *map[string]string { return &t.Meta }),
		"resources":        resourcesBlock(func(t *api.Task) **api.Resources { return &t.Resources }),
		"constraint":       constraintBlock(func(t *api.Task) *[]*api.Constraint { return &t.Constraints }),
		"affinity":         affinityBlock(func(t *api.Task) *[]*api.Affinity { return &t.Affinities }),
		"restart":          restartBlock(func(t *api.Task) **api.RestartPolicy { return &t.RestartPolicy }),
		"logs":             logsBlock(func(t *api.Task) **api.LogConfig { return &t.LogConfig }),
		"lifecycle":        singleBlock(func(t *api.Task) **api.TaskLifecycle { return &t.Lifecycle }, lifecycleSpec),
		"service":          listBlock(func(t *api.Task) *[]*api.Service { return &t.Services }, serviceSpec),
		"artifact":         listBlock(func(t *api.Task) *[]*api.TaskArtifact { return &t.Artifacts }, artifactSpec),
		"template":         listBlock(func(t *api.Task) *[]*api.Template { return &t.Templates }, templateSpec),
		"vault":            singleBlock(func(t *api.Task) **api.Vault { return &t.Vault }, vaultSpec),
		"consul":           singleBlock(func(t *api.Task) **api.Consul { return &t.Consul }, consulSpec),
		"identity":         listBlock(func(t *api.Task) *[]*api.WorkloadIdentity { return &t.Identities }, identitySpec),
		"dispatch_payload": singleBlock(func(t *api.Task) **api.DispatchPayloadConfig { return &t.DispatchPayload }, dispatchPayloadSpec),
		"volume_mount":     listBlock(func(t *api.Task) *[]*api.VolumeMount { return &t.VolumeMounts }, volumeMountSpec),
		"csi_plugin":       singleBlock(func(t *api.Task) **api.TaskCSIPluginConfig { return &t.CSIPluginConfig }, csiPluginSpec),
		"action": labelledListBlock(func(t *api.Task) *[]*api.Action { return &t.Actions }, actionSpec, "name",
			func(a *api.Action, name string) { a.Name = name }, func(a *api.Action) string { return a.Name }),
		"secret": labelledListBlock(func(t *api.Task) *[]*api.Secret { return &t.Secrets }, secretSpec, "name",
			func(s *api.Secret, name string) { s.Name = name }, func(s *api.Secret) string { return s.Name }),
		"schedule": singleBlock(func(t *api.Task) **api.TaskSchedule { return &t.Schedule }, scheduleSpec),
		"scaling":  {labels: []string{"resource"}, decode: decodeTaskScaling},
	},
}

func decodeTask(d *decoder, b *hcl.Block) (*api.Task, hcl.Diagnostics) {
	t := &api.Task{Name: b.Labels[0]}
	return t, taskSpec.decode(d, b.Body, t)
}

var lifecycleSpec = &spec[api.TaskLifecycle]{
	what: "lifecycle",
	attrs: map[string]attrFn[api.TaskLifecycle]{
		"hook":    oneOfAttr(func(l *api.TaskLifecycle) *string { return &l.Hook }, "prestart", "poststart", "poststop"),
		"sidecar": boolAttr(func(l *api.TaskLifecycle) *bool { return &l.Sidecar }),
	},
	required: []string{"hook"},
}

var dispatchPayloadSpec = &spec[api.DispatchPayloadConfig]{
	what: "dispatch_payload",
	attrs: map[string]attrFn[api.DispatchPayloadConfig]{
		"file": strAttr(func(p *api.DispatchPayloadConfig) *string { return &p.File }),
	},
}

var volumeMountSpec = &spec[api.VolumeMount]{
	what: "volume_mount",
	attrs: map[string]attrFn[api.VolumeMount]{
		"volume":      strPtrAttr(func(m *api.VolumeMount) **string { return &m.Volume }),
		"destination": strPtrAttr(func(m *api.VolumeMount) **string { return &m.Destination }),
		"read_only":   boolPtrAttr(func(m *api.VolumeMount) **bool { return &m.ReadOnly }),
		"propagation_mode": oneOfPtrAttr(func(m *api.VolumeMount) **string { return &m.PropagationMode },
			api.VolumeMountPropagationPrivate, api.VolumeMountPropagationHostToTask, api.VolumeMountPropagationBidirectional),
		"selinux_label": strPtrAttr(func(m *api.VolumeMount) **string { return &m.SELinuxLabel }),
	},
}

var csiPluginSpec = &spec[api.TaskCSIPluginConfig]{
	what: "csi_plugin",
	attrs: map[string]attrFn[api.TaskCSIPluginConfig]{
		"id": strAttr(func(c *api.TaskCSIPluginConfig) *string { return &c.ID }),
		"type": func(d *decoder, a *hcl.Attribute, c *api.TaskCSIPluginConfig) hcl.Diagnostics {
			var s string
			diags := oneOfAttr(func(*api.TaskCSIPluginConfig) *string { return &s }, "controller", "node", "monolith")(d, a, c)
			c.Type = api.CSIPluginType(s)
			return diags
		},
		"mount_dir":              strAttr(func(c *api.TaskCSIPluginConfig) *string { return &c.MountDir }),
		"stage_publish_base_dir": strAttr(func(c *api.TaskCSIPluginConfig) *string { return &c.StagePublishBaseDir }),
		"health_timeout":         durationAttr(func(c *api.TaskCSIPluginConfig) *time.Duration { return &c.HealthTimeout }),
	},
}

var actionSpec = &spec[api.Action]{
	what: "action",
	attrs: map[string]attrFn[api.Action]{
		"command": strAttr(func(a *api.Action) *string { return &a.Command }),
		"args":    stringListAttr(func(a *api.Action) *[]string { return &a.Args }),
	},
	required: []string{"command"},
}

var scheduleSpec = &spec[api.TaskSchedule]{
	what: "schedule",
	blocks: map[string]blockRule[api.TaskSchedule]{
		"cron": singleBlock(func(s *api.TaskSchedule) **api.TaskScheduleCron { return &s.Cron }, &spec[api.TaskScheduleCron]{
			what: "cron",
			attrs: map[string]attrFn[api.TaskScheduleCron]{
				"start":    strAttr(func(c *api.TaskScheduleCron) *string { return &c.Start }),
				"end":      strAttr(func(c *api.TaskScheduleCron) *string { return &c.End }),
				"timezone": strAttr(func(c *api.TaskScheduleCron) *string { return &c.Timezone }),
			},
		}),
	},
}

// taskScalingTypes maps the label of a task's scaling block to the policy
// type it stands for: tasks scale vertically, by CPU or by memory.
var taskScalingTypes = map[string]string{"cpu": "vertical_cpu", "mem": "vertical_mem"}

// taskScalingSpec is a task's scaling "cpu" / "mem" block; its type comes
// from the label, so it has no type argument.
var taskScalingSpec = &spec[api.ScalingPolicy]{
	what:   "scaling",
	attrs:  map[string]attrFn[api.ScalingPolicy]{"min": scalingAttrs["min"], "max": scalingAttrs["max"], "enabled": scalingAttrs["enabled"]},
	blocks: scalingBlocks,
}

func decodeTaskScaling(d *decoder, b *hcl.Block, t *api.Task) hcl.Diagnostics {
	label := b.Labels[0]
	ty, ok := taskScalingTypes[label]
	if !ok {
		return hcl.Diagnostics{errorAt(b.LabelRanges[0], "Invalid scaling block",
			fmt.Sprintf("A task's scaling block is labelled \"cpu\" or \"mem\", not %q.", label))}
	}
	for _, p := range t.ScalingPolicies {
		if p.Type == ty {
			return hcl.Diagnostics{errorAt(b.LabelRanges[0], "Duplicate scaling block",
				fmt.Sprintf("This task already has a scaling %q block.", label))}
		}
	}
	p := &api.ScalingPolicy{Type: ty}
	diags := taskScalingSpec.decode(d, b.Body, p)
	t.ScalingPolicies = append(t.ScalingPolicies, p)
	return diags
}
