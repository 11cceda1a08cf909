// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package rawexec

import (
	"fmt"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/drivers/cgroups"
)

// cleanupTimeout bounds killing what is left in a task's cgroup.
const cleanupTimeout = 10 * time.Second

// newCgroup makes the cgroup a new task is born in, with no limits: raw_exec
// uses it only to follow the task's processes. It returns nil when the
// task must run without one: the plugin is not root (a debug line, as
// that is the expected unprivileged setup), or this host has no usable
// cgroups (a warning, as root should have them).
//
// A task given exclusive cores is pinned to them, as Nomad does for
// raw_exec too; it does not start at all when that is impossible, since
// running it on shared cores would give less than the job asked for.
func (d *Driver) newCgroup(taskID string, cores []uint16, logger hclog.Logger) (*cgroups.Group, error) {
	if len(cores) > 0 {
		return d.pinnedCgroup(taskID, cores)
	}
	if d.geteuid() != 0 {
		logger.Debug("raw_exec plugin is not root: task runs without a cgroup; its stats come from /proc and stopping it reaches only its process group")
		return nil, nil
	}
	hier, err := cgroups.Detect()
	if err == nil {
		err = hier.Check()
	}
	if err != nil {
		logger.Warn("no usable cgroups: task runs without one; its stats come from /proc and stopping it reaches only its process group", "error", err)
		return nil, nil
	}
	// Named for the driver too, so an operator tells raw_exec's groups
	// from exec's beside them, and no two plugins ever share one.
	group := hier.Group(Name + "/" + taskID)
	if err := group.Create(cgroups.Resources{}); err != nil {
		group.Remove()
		logger.Warn("cannot create the task's cgroup: task runs without one", "error", err)
		return nil, nil
	}
	return group, nil
}

// pinnedCgroup makes the cgroup of a task pinned to cores, or says why it
// cannot.
func (d *Driver) pinnedCgroup(taskID string, cores []uint16) (*cgroups.Group, error) {
	if d.geteuid() != 0 {
		return nil, fmt.Errorf("pin to cores %v: the raw_exec plugin must run as root", cores)
	}
	hier, err := cgroups.Detect()
	if err == nil {
		err = hier.Check()
	}
	if err != nil {
		return nil, fmt.Errorf("pin to cores %v: %w", cores, err)
	}
	group, err := hier.GroupWithCores(Name+"/"+taskID, cores)
	if err != nil {
		return nil, fmt.Errorf("pin to cores %v: %w", cores, err)
	}
	if err := group.Create(cgroups.Resources{Cores: cores}); err != nil {
		group.Remove()
		return nil, fmt.Errorf("pin to cores %v: %w", cores, err)
	}
	return group, nil
}

// cgroupDirs is group's directories by controller, for attributes and
// log lines; none for a task without a cgroup.
func cgroupDirs(group *cgroups.Group) map[string]string {
	if group == nil {
		return nil
	}
	return group.Dirs
}
