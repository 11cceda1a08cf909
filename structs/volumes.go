// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import "time"

// Volume types of a group `volume` block.
const (
	VolumeTypeHost = "host"
	VolumeTypeCSI  = "csi"
)

// CSI plugin types of a task's `csi_plugin` block.
const (
	CSIPluginTypeController = "controller"
	CSIPluginTypeNode       = "node"
	CSIPluginTypeMonolith   = "monolith"
)

// Volume mount propagation modes.
const (
	VolumeMountPropagationPrivate       = "private"
	VolumeMountPropagationHostToTask    = "host-to-task"
	VolumeMountPropagationBidirectional = "bidirectional"
)

// VolumeRequest is a group `volume` block: a host or CSI volume the group's
// tasks may mount.
type VolumeRequest struct {
	Name           string
	Type           string
	Source         string
	ReadOnly       bool
	Sticky         bool
	AccessMode     string
	AttachmentMode string
	MountOptions   *CSIMountOptions
	PerAlloc       bool
}

// CSIMountOptions is a CSI volume's `mount_options` block.
type CSIMountOptions struct {
	FSType     string
	MountFlags []string
}

// VolumeMount is a task `volume_mount` block: where a group volume appears
// in the task.
type VolumeMount struct {
	Volume          string
	Destination     string
	ReadOnly        bool
	PropagationMode string
	SELinuxLabel    string
}

// TaskCSIPluginConfig is a task's `csi_plugin` block: the task is a CSI
// plugin the client registers.
type TaskCSIPluginConfig struct {
	ID                  string
	Type                string
	MountDir            string
	StagePublishBaseDir string
	HealthTimeout       time.Duration
}
