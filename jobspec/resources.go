// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

// This file holds the blocks that size a task or group: resources (with
// device and numa), ephemeral_disk and logs.

var resourcesSpec = &spec[api.Resources]{
	what: "resources",
	attrs: map[string]attrFn[api.Resources]{
		"cpu":        intPtrAttr(func(r *api.Resources) **int { return &r.CPU }),
		"cores":      intPtrAttr(func(r *api.Resources) **int { return &r.Cores }),
		"memory":     intPtrAttr(func(r *api.Resources) **int { return &r.MemoryMB }),
		"memory_max": intPtrAttr(func(r *api.Resources) **int { return &r.MemoryMaxMB }),
		"secrets":    intPtrAttr(func(r *api.Resources) **int { return &r.SecretsMB }),
		"disk":       intPtrAttr(func(r *api.Resources) **int { return &r.DiskMB }),
		"iops":       intPtrAttr(func(r *api.Resources) **int { return &r.IOPS }),
	},
	blocks: map[string]blockRule[api.Resources]{
		// A task-level network block is deprecated in Nomad in favour of
		// the group's, but old job files still carry it.
		"network": listBlock(func(r *api.Resources) *[]*api.NetworkResource { return &r.Networks }, networkSpec),
		"device": labelledListBlock(func(r *api.Resources) *[]*api.RequestedDevice { return &r.Devices }, deviceSpec, "name",
			func(dv *api.RequestedDevice, name string) { dv.Name = name }, func(dv *api.RequestedDevice) string { return dv.Name }),
		"numa": singleBlock(func(r *api.Resources) **api.NUMAResource { return &r.NUMA }, numaSpec),
	},
}

// deviceSpec is a device "vendor/type/model" request.
var deviceSpec = &spec[api.RequestedDevice]{
	what: "device",
	attrs: map[string]attrFn[api.RequestedDevice]{
		"count": numPtrAttr(func(dv *api.RequestedDevice) **uint64 { return &dv.Count }),
	},
	blocks: map[string]blockRule[api.RequestedDevice]{
		"constraint": constraintBlock(func(dv *api.RequestedDevice) *[]*api.Constraint { return &dv.Constraints }),
		"affinity":   affinityBlock(func(dv *api.RequestedDevice) *[]*api.Affinity { return &dv.Affinities }),
	},
}

var numaSpec = &spec[api.NUMAResource]{
	what: "numa",
	attrs: map[string]attrFn[api.NUMAResource]{
		"affinity": oneOfAttr(func(n *api.NUMAResource) *string { return &n.Affinity }, "none", "prefer", "require"),
		"devices":  stringListAttr(func(n *api.NUMAResource) *[]string { return &n.Devices }),
	},
}

func resourcesBlock[T any](f field[T, *api.Resources]) blockRule[T] {
	return singleBlock(f, resourcesSpec)
}

var ephemeralDiskSpec = &spec[api.EphemeralDisk]{
	what: "ephemeral_disk",
	attrs: map[string]attrFn[api.EphemeralDisk]{
		"sticky":  boolPtrAttr(func(e *api.EphemeralDisk) **bool { return &e.Sticky }),
		"migrate": boolPtrAttr(func(e *api.EphemeralDisk) **bool { return &e.Migrate }),
		"size":    intPtrAttr(func(e *api.EphemeralDisk) **int { return &e.SizeMB }),
	},
}

func ephemeralDiskBlock[T any](f field[T, *api.EphemeralDisk]) blockRule[T] {
	return singleBlock(f, ephemeralDiskSpec)
}

var logsSpec = &spec[api.LogConfig]{
	what: "logs",
	attrs: map[string]attrFn[api.LogConfig]{
		"max_files":     intPtrAttr(func(l *api.LogConfig) **int { return &l.MaxFiles }),
		"max_file_size": intPtrAttr(func(l *api.LogConfig) **int { return &l.MaxFileSizeMB }),
		"disabled":      boolPtrAttr(func(l *api.LogConfig) **bool { return &l.Disabled }),
		"enabled":       boolPtrAttr(func(l *api.LogConfig) **bool { return &l.Enabled }),
	},
}

func logsBlock[T any](f field[T, *api.LogConfig]) blockRule[T] {
	return singleBlock(f, logsSpec)
}

// singleBlock is the rule for a block that appears at most once and fills
// a struct pointer with spec s.
func singleBlock[T, B any](f field[T, *B], s *spec[B]) blockRule[T] {
	return blockRule[T]{single: true, decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		v := new(B)
		*f(out) = v
		return s.decode(d, b.Body, v)
	}}
}
