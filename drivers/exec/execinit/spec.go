// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package execinit

// Spec is everything the init needs to set up the task and exec its
// command. Paths in Mounts' targets, Command, Dir are inside the task's
// root; Root and mount sources are host paths.
type Spec struct {
	// Root is the host directory that becomes the task's "/" (the task
	// directory).
	Root   string  `json:"root"`
	Mounts []Mount `json:"mounts"`
	// HostIPC shares the host's /dev/shm (with ipc_mode = "host");
	// otherwise the task gets a private one.
	HostIPC bool `json:"host_ipc"`
	// NoPivotRoot uses chroot instead of pivot_root, for hosts whose root
	// file system is a ramdisk.
	NoPivotRoot bool `json:"no_pivot_root"`

	// Command is looked up inside the root: as is when absolute, else in
	// /local, then relative to the root, then (a bare name) in Env's PATH.
	Command string   `json:"command"`
	Args    []string `json:"args"`
	Env     []string `json:"env"`
	Dir     string   `json:"dir"`

	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups"`
	// Caps are the capability numbers kept in the bounding set. A root
	// task gets exactly these; a task of another user gets none (the
	// bounding set still limits what file capabilities can grant).
	Caps []uint `json:"caps"`
}

// Mount is a bind mount of a host path into the task's root.
type Mount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only"`
}
