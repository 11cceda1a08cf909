// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"time"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

// This file holds the group block and what only a group has: volume
// requests, scaling and the client-disconnect settings.

// groupSpec is the group block.
var groupSpec = &spec[api.TaskGroup]{
	what: "group",
	attrs: map[string]attrFn[api.TaskGroup]{
		"count":            intPtrAttr(func(g *api.TaskGroup) **int { return &g.Count }),
		"meta":             mapAttr(func(g *api.TaskGroup) *map[string]string { return &g.Meta }),
		"shutdown_delay":   durationPtrAttr(func(g *api.TaskGroup) **time.Duration { return &g.ShutdownDelay }),
		"max_run_duration": durationPtrAttr(func(g *api.TaskGroup) **time.Duration { return &g.MaxRunDuration }),
		//lint:ignore SA1019 deprecated in Nomad, still accepted in job files
		"stop_after_client_disconnect": durationPtrAttr(func(g *api.TaskGroup) **time.Duration { return &g.StopAfterClientDisconnect }),
		//lint:ignore SA1019 deprecated in Nomad, still accepted in job files
		"max_client_disconnect": durationPtrAttr(func(g *api.TaskGroup) **time.Duration { return &g.MaxClientDisconnect }),
		//lint:ignore SA1019 deprecated in Nomad, still accepted in job files
		"prevent_reschedule_on_lost": boolPtrAttr(func(g *api.TaskGroup) **bool { return &g.PreventRescheduleOnLost }),
	},
	blocks: map[string]blockRule[api.TaskGroup]{
		"meta":           mapBlock(func(g *api.TaskGroup) *map[string]string { return &g.Meta }),
		"constraint":     constraintBlock(func(g *api.TaskGroup) *[]*api.Constraint { return &g.Constraints }),
		"affinity":       affinityBlock(func(g *api.TaskGroup) *[]*api.Affinity { return &g.Affinities }),
		"spread":         spreadBlock(func(g *api.TaskGroup) *[]*api.Spread { return &g.Spreads }),
		"restart":        restartBlock(func(g *api.TaskGroup) **api.RestartPolicy { return &g.RestartPolicy }),
		"reschedule":     singleBlock(func(g *api.TaskGroup) **api.ReschedulePolicy { return &g.ReschedulePolicy }, rescheduleSpec),
		"update":         singleBlock(func(g *api.TaskGroup) **api.UpdateStrategy { return &g.Update }, updateSpec),
		"migrate":        singleBlock(func(g *api.TaskGroup) **api.MigrateStrategy { return &g.Migrate }, migrateSpec),
		"disconnect":     singleBlock(func(g *api.TaskGroup) **api.DisconnectStrategy { return &g.Disconnect }, disconnectSpec),
		"ephemeral_disk": ephemeralDiskBlock(func(g *api.TaskGroup) **api.EphemeralDisk { return &g.EphemeralDisk }),
		"network":        listBlock(func(g *api.TaskGroup) *[]*api.NetworkResource { return &g.Networks }, networkSpec),
		"service":        listBlock(func(g *api.TaskGroup) *[]*api.Service { return &g.Services }, serviceSpec),
		"volume": labelledMapBlock(func(g *api.TaskGroup) *map[string]*api.VolumeRequest { return &g.Volumes }, volumeSpec, "name",
			func(v *api.VolumeRequest, name string) { v.Name = name }),
		"scaling": singleBlock(func(g *api.TaskGroup) **api.ScalingPolicy { return &g.Scaling }, groupScalingSpec),
		"consul":  singleBlock(func(g *api.TaskGroup) **api.Consul { return &g.Consul }, consulSpec),
		"task":    {labels: []string{"name"}, decode: decodeTaskInto},
	},
}

func decodeGroup(d *decoder, b *hcl.Block) (*api.TaskGroup, hcl.Diagnostics) {
	name := b.Labels[0]
	g := &api.TaskGroup{Name: &name}
	return g, groupSpec.decode(d, b.Body, g)
}

func decodeTaskInto(d *decoder, b *hcl.Block, g *api.TaskGroup) hcl.Diagnostics {
	name := b.Labels[0]
	for _, t := range g.Tasks {
		if t.Name == name {
			return hcl.Diagnostics{errorAt(b.LabelRanges[0], "Duplicate task",
				fmt.Sprintf("This group already has a task named %q; task names must be unique in a group.", name))}
		}
	}
	t, diags := decodeTask(d, b)
	g.Tasks = append(g.Tasks, t)
	return diags
}

// volumeSpec is a group's volume "name" block: a request for a host or
// CSI volume that tasks mount with volume_mount.
var volumeSpec = &spec[api.VolumeRequest]{
	what: "volume",
	attrs: map[string]attrFn[api.VolumeRequest]{
		"type":            oneOfAttr(func(v *api.VolumeRequest) *string { return &v.Type }, "host", "csi"),
		"source":          strAttr(func(v *api.VolumeRequest) *string { return &v.Source }),
		"read_only":       boolAttr(func(v *api.VolumeRequest) *bool { return &v.ReadOnly }),
		"sticky":          boolAttr(func(v *api.VolumeRequest) *bool { return &v.Sticky }),
		"access_mode":     strAttr(func(v *api.VolumeRequest) *string { return &v.AccessMode }),
		"attachment_mode": strAttr(func(v *api.VolumeRequest) *string { return &v.AttachmentMode }),
		"per_alloc":       boolAttr(func(v *api.VolumeRequest) *bool { return &v.PerAlloc }),
	},
	blocks: map[string]blockRule[api.VolumeRequest]{
		"mount_options": singleBlock(func(v *api.VolumeRequest) **api.CSIMountOptions { return &v.MountOptions }, &spec[api.CSIMountOptions]{
			what: "mount_options",
			attrs: map[string]attrFn[api.CSIMountOptions]{
				"fs_type":     strAttr(func(m *api.CSIMountOptions) *string { return &m.FSType }),
				"mount_flags": stringListAttr(func(m *api.CSIMountOptions) *[]string { return &m.MountFlags }),
			},
		}),
	},
}

// scalingAttrs are the arguments of a scaling block, in a group or a task.
var scalingAttrs = map[string]attrFn[api.ScalingPolicy]{
	"min":     numPtrAttr(func(s *api.ScalingPolicy) **int64 { return &s.Min }),
	"max":     numPtrAttr(func(s *api.ScalingPolicy) **int64 { return &s.Max }),
	"enabled": boolPtrAttr(func(s *api.ScalingPolicy) **bool { return &s.Enabled }),
	"type":    strAttr(func(s *api.ScalingPolicy) *string { return &s.Type }),
}

var scalingBlocks = map[string]blockRule[api.ScalingPolicy]{
	"policy": policyBlock(func(s *api.ScalingPolicy) *map[string]interface{} { return &s.Policy }),
}

// groupScalingSpec is a group's scaling block (horizontal scaling of its
// count); the policy belongs to the autoscaler and stays free-form.
var groupScalingSpec = &spec[api.ScalingPolicy]{what: "scaling", attrs: scalingAttrs, blocks: scalingBlocks}

var consulSpec = &spec[api.Consul]{
	what: "consul",
	attrs: map[string]attrFn[api.Consul]{
		"namespace": strAttr(func(c *api.Consul) *string { return &c.Namespace }),
		"cluster":   strAttr(func(c *api.Consul) *string { return &c.Cluster }),
		"partition": strAttr(func(c *api.Consul) *string { return &c.Partition }),
	},
}
