// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"time"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

// groupSpec is the group block.
var groupSpec = &spec[api.TaskGroup]{
	what: "group",
	attrs: map[string]attrFn[api.TaskGroup]{
		"count":            intPtrAttr(func(g *api.TaskGroup) **int { return &g.Count }),
		"meta":             mapAttr(func(g *api.TaskGroup) *map[string]string { return &g.Meta }),
		"shutdown_delay":   durationPtrAttr(func(g *api.TaskGroup) **time.Duration { return &g.ShutdownDelay }),
		"max_run_duration": durationPtrAttr(func(g *api.TaskGroup) **time.Duration { return &g.MaxRunDuration }),
	},
	blocks: map[string]blockRule[api.TaskGroup]{
		"meta":           mapBlock(func(g *api.TaskGroup) *map[string]string { return &g.Meta }),
		"constraint":     constraintBlock(func(g *api.TaskGroup) *[]*api.Constraint { return &g.Constraints }),
		"restart":        restartBlock(func(g *api.TaskGroup) **api.RestartPolicy { return &g.RestartPolicy }),
		"ephemeral_disk": ephemeralDiskBlock(func(g *api.TaskGroup) **api.EphemeralDisk { return &g.EphemeralDisk }),
		"task":           {labels: []string{"name"}, decode: decodeTaskInto},
	},
	pending: []string{
		"affinity", "spread", "volume", "disconnect", "reschedule", "update", "migrate",
		"network", "service", "scaling", "consul", "dynamic",
		"max_client_disconnect", "stop_after_client_disconnect", "prevent_reschedule_on_lost",
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
