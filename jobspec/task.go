// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"time"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

// taskSpec is the task block.
var taskSpec = &spec[api.Task]{
	what: "task",
	attrs: map[string]attrFn[api.Task]{
		"driver":         strAttr(func(t *api.Task) *string { return &t.Driver }),
		"user":           strAttr(func(t *api.Task) *string { return &t.User }),
		"kill_signal":    strAttr(func(t *api.Task) *string { return &t.KillSignal }),
		"leader":         boolAttr(func(t *api.Task) *bool { return &t.Leader }),
		"kill_timeout":   durationPtrAttr(func(t *api.Task) **time.Duration { return &t.KillTimeout }),
		"shutdown_delay": durationAttr(func(t *api.Task) *time.Duration { return &t.ShutdownDelay }),
		"env":            mapAttr(func(t *api.Task) *map[string]string { return &t.Env }),
		"meta":           mapAttr(func(t *api.Task) *map[string]string { return &t.Meta }),
	},
	blocks: map[string]blockRule[api.Task]{
		"config":     {single: true, decode: decodeTaskConfig},
		"env":        mapBlock(func(t *api.Task) *map[string]string { return &t.Env }),
		"meta":       mapBlock(func(t *api.Task) *map[string]string { return &t.Meta }),
		"resources":  resourcesBlock(func(t *api.Task) **api.Resources { return &t.Resources }),
		"constraint": constraintBlock(func(t *api.Task) *[]*api.Constraint { return &t.Constraints }),
		"restart":    restartBlock(func(t *api.Task) **api.RestartPolicy { return &t.RestartPolicy }),
		"logs":       logsBlock(func(t *api.Task) **api.LogConfig { return &t.LogConfig }),
	},
	pending: []string{
		"lifecycle", "affinity", "service", "artifact", "vault", "consul", "template",
		"dispatch_payload", "volume_mount", "csi_plugin", "scaling", "secret", "identity",
		"action", "schedule", "dynamic", "kind",
	},
}

func decodeTask(d *decoder, b *hcl.Block) (*api.Task, hcl.Diagnostics) {
	t := &api.Task{Name: b.Labels[0]}
	return t, taskSpec.decode(d, b.Body, t)
}

// decodeTaskConfig keeps the driver's config free-form: the driver, not
// the job parser, knows its schema.
func decodeTaskConfig(d *decoder, b *hcl.Block, t *api.Task) hcl.Diagnostics {
	cfg, diags := decodeFreeForm(d, b.Body)
	t.Config = cfg
	return diags
}
