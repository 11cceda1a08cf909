// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package rawexec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/drivers/cgroups"
)

// This file removes the cgroups of raw_exec tasks that are gone. A task's
// cgroup is removed when the client destroys the task; but a task that
// ended while no plugin was watching it (the agent and its plugins were
// down) is never recovered, so nothing destroys it and its empty group
// would stay forever. Such groups are removed on recovery, when the
// task's process is found gone, and swept once when a plugin starts.

// staleCgroupGrace is how long a group must stay empty before a sweep
// removes it: a plugin that is starting a task (possibly another agent's,
// on the same host) creates the group empty a moment before the task is
// born in it. (A directory's times cannot tell a group's age: cgroupfs
// stamps them when it first looks the directory up, not at mkdir.)
const staleCgroupGrace = 5 * time.Second

// sweepOnce makes the sweep happen once per plugin process.
var sweepOnce sync.Once

// sweepStaleCgroupsOnce starts, the first time a plugin process is
// configured, a sweep of the empty raw_exec groups left by tasks that are
// gone. It runs in the background, as it waits out staleCgroupGrace. Only
// root makes (and may remove) groups.
func (d *Driver) sweepStaleCgroupsOnce() {
	sweepOnce.Do(func() {
		if d.geteuid() != 0 {
			return
		}
		hier, err := cgroups.Detect()
		if err != nil {
			d.logger.Debug("no cgroups to sweep", "error", err)
			return
		}
		go func() {
			removed, err := sweepStaleCgroups(hier, Name+".", staleCgroupGrace, d.logger)
			if err != nil {
				d.logger.Warn("sweeping stale task cgroups", "removed", removed, "error", err)
			} else if removed > 0 {
				d.logger.Info("removed the cgroups of tasks that are gone", "removed", removed)
			}
		}()
	})
}

// sweepStaleCgroups removes every task group of hier whose name starts
// with prefix (raw_exec's: "raw_exec.", a task ID's slashes made dots)
// that holds no process now and still none after grace. It returns how
// many it removed; groups it could not remove are reported in the error,
// and the rest are still swept.
func sweepStaleCgroups(hier *cgroups.Hierarchy, prefix string, grace time.Duration, logger hclog.Logger) (int, error) {
	names := map[string]bool{}
	var errs []error
	// The parents are shared by every task: on v1 one per controller.
	parents := map[string]bool{}
	for _, dir := range hier.Group(prefix + "probe").Dirs {
		parents[filepath.Dir(dir)] = true
	}
	for parent := range parents {
		entries, err := os.ReadDir(parent)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
				names[e.Name()] = true
			}
		}
	}
	var empty []*cgroups.Group
	for name := range names {
		g := hier.Group(name)
		if pids, err := g.Procs(); err == nil && len(pids) == 0 {
			empty = append(empty, g)
		}
	}
	if len(empty) == 0 {
		return 0, errors.Join(errs...)
	}
	time.Sleep(grace)
	removed := 0
	for _, g := range empty {
		ok, err := removeIfEmpty(g)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			logger.Debug("removed stale task cgroup", "cgroup", g.Dirs)
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// removeIfEmpty removes group when no process is left in it, and reports
// whether it did. A group already gone counts as removed.
func removeIfEmpty(group *cgroups.Group) (bool, error) {
	pids, err := group.Procs()
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if len(pids) > 0 {
		return false, nil
	}
	if err := group.Remove(); err != nil {
		return false, err
	}
	return true, nil
}

// removeLostCgroup removes the group of a task whose process was found
// gone on recovery, if nothing is left running in it.
func removeLostCgroup(group *cgroups.Group, logger hclog.Logger) {
	if group == nil {
		return
	}
	if _, err := removeIfEmpty(group); err != nil {
		logger.Warn("cannot remove the cgroup of a task that is gone", "cgroup", group.Dirs, "error", err)
	}
}
