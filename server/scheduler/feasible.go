// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

// This file decides which nodes may run a job's task groups, ignoring how
// full they are: readiness, datacenter, node pool, drivers and constraints.
// Distinct-hosts and distinct-property constraints depend on placements and
// are checked by the placer instead (see rank.go).

import (
	"fmt"
	"slices"
	"strings"

	"github.com/droverhq/drover/structs"
)

// Node pool names with a special meaning.
const (
	poolAll = "all"
)

// filterMissingDrivers is the ConstraintFiltered key for nodes without a
// healthy driver for one of the group's tasks, as Nomad names it.
const filterMissingDrivers = "missing drivers"

// compiledJob is a job with its constraints compiled and its groups' asks
// summed, built once per evaluation attempt.
type compiledJob struct {
	job      *structs.Job
	static   []*constraint // job-level constraints checked per node
	distinct []*constraint // job-level distinct_hosts/distinct_property
	groups   map[string]*compiledGroup
}

// compiledGroup is one task group's share of a compiledJob.
type compiledGroup struct {
	tg       *structs.TaskGroup
	static   []*constraint // group- and task-level constraints
	distinct []*constraint // group- and task-level distinct constraints
	drivers  []string
	ask      structs.ComparableResources

	// Scoring preferences: the job's and the group's spreads, and the
	// job's, the group's and its tasks' affinities (see spread.go and
	// affinity.go).
	spreads    []*compiledSpread
	affinities []compiledAffinity
	affTotal   float64 // sum of |weight| over affinities
}

// compileJob compiles every constraint of job; the error names the first
// invalid one.
func compileJob(job *structs.Job) (*compiledJob, error) {
	cj := &compiledJob{job: job, groups: make(map[string]*compiledGroup, len(job.TaskGroups))}
	if err := compileInto(job.Constraints, &cj.static, &cj.distinct); err != nil {
		return nil, fmt.Errorf("job %q: %w", job.ID, err)
	}
	for _, tg := range job.TaskGroups {
		cg := &compiledGroup{tg: tg, ask: groupAsk(tg)}
		if err := compileInto(tg.Constraints, &cg.static, &cg.distinct); err != nil {
			return nil, fmt.Errorf("group %q: %w", tg.Name, err)
		}
		for _, t := range tg.Tasks {
			if err := compileInto(t.Constraints, &cg.static, &cg.distinct); err != nil {
				return nil, fmt.Errorf("group %q task %q: %w", tg.Name, t.Name, err)
			}
			if t.Driver != "" && !slices.Contains(cg.drivers, t.Driver) {
				cg.drivers = append(cg.drivers, t.Driver)
			}
		}
		if err := cg.compilePreferences(job, tg); err != nil {
			return nil, fmt.Errorf("group %q: %w", tg.Name, err)
		}
		cj.groups[tg.Name] = cg
	}
	return cj, nil
}

func compileInto(cs []*structs.Constraint, static, distinct *[]*constraint) error {
	for _, c := range cs {
		cc, err := compileConstraint(c)
		if err != nil {
			return err
		}
		switch {
		case cc.op == opDistinctHosts && !cc.enabled:
			// distinct_hosts = false asks for nothing.
		case cc.distinct():
			*distinct = append(*distinct, cc)
		default:
			*static = append(*static, cc)
		}
	}
	return nil
}

// groupAsk is what one allocation of tg reserves: the tasks' CPU and memory
// and the group's ephemeral disk. Jobs arrive canonicalised; the defaults
// only guard against a hand-built job without resources.
func groupAsk(tg *structs.TaskGroup) structs.ComparableResources {
	var c structs.ComparableResources
	for _, t := range tg.Tasks {
		if t.Resources == nil {
			c.CPU += structs.DefaultCPU
			c.MemoryMB += structs.DefaultMemoryMB
			continue
		}
		c.CPU += int64(t.Resources.CPU)
		c.MemoryMB += int64(t.Resources.MemoryMB)
	}
	if tg.EphemeralDisk != nil {
		c.DiskMB = int64(tg.EphemeralDisk.SizeMB)
	}
	return c
}

// allocatedResources is the reservation recorded on a new allocation of tg.
// Without memory oversubscription, memory_max is not reserved: the task
// is limited to its memory, as in Nomad (registration warns about it).
func allocatedResources(tg *structs.TaskGroup, oversubscribe bool) *structs.AllocatedResources {
	ar := &structs.AllocatedResources{Tasks: make(map[string]*structs.AllocatedTaskResources, len(tg.Tasks))}
	for _, t := range tg.Tasks {
		r := t.Resources
		if r == nil {
			r = &structs.Resources{CPU: structs.DefaultCPU, MemoryMB: structs.DefaultMemoryMB}
		}
		mem := structs.AllocatedMemoryResources{MemoryMB: int64(r.MemoryMB)}
		if oversubscribe {
			mem.MemoryMaxMB = int64(r.MemoryMaxMB)
		}
		ar.Tasks[t.Name] = &structs.AllocatedTaskResources{
			Cpu:    structs.AllocatedCpuResources{CpuShares: int64(r.CPU)},
			Memory: mem,
		}
	}
	if tg.EphemeralDisk != nil {
		ar.Shared.DiskMB = int64(tg.EphemeralDisk.SizeMB)
	}
	return ar
}

// nodePool is the node's pool, "default" when unset.
func nodePool(n *structs.Node) string {
	if n.NodePool == "" {
		return structs.DefaultNodePool
	}
	return n.NodePool
}

// jobPool is the pool a job runs in, "default" when unset.
func jobPool(j *structs.Job) string {
	if j.NodePool == "" {
		return structs.DefaultNodePool
	}
	return j.NodePool
}

// inPool reports whether node n belongs to pool (where "all" is every pool).
func inPool(pool string, n *structs.Node) bool {
	return pool == poolAll || pool == nodePool(n)
}

// inDatacenters reports whether the node's datacenter matches one of the
// job's patterns; "*" matches any run of characters. No patterns means all.
func inDatacenters(dcs []string, dc string) bool {
	if len(dcs) == 0 {
		return true
	}
	for _, p := range dcs {
		if globMatch(p, dc) {
			return true
		}
	}
	return false
}

// globMatch matches s against pattern, where only '*' is special.
func globMatch(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}

// checkJob evaluates the job-level constraints on n; on failure it returns
// the metric key of the constraint that filtered the node.
func (cj *compiledJob) checkJob(n *structs.Node) (bool, string) {
	for _, c := range cj.static {
		if !c.check(n) {
			return false, c.key
		}
	}
	return true, ""
}

// checkGroup evaluates drivers and group/task constraints on n.
func (cg *compiledGroup) checkGroup(n *structs.Node) (bool, string) {
	for _, d := range cg.drivers {
		info := n.Drivers[d]
		if info == nil || !info.Detected || !info.Healthy {
			return false, filterMissingDrivers
		}
	}
	for _, c := range cg.static {
		if !c.check(n) {
			return false, c.key
		}
	}
	return true, ""
}

// stillFeasible reports whether an existing allocation of cg on n may stay
// there under the (new) job, for an in-place update. Readiness is not
// required: draining and ineligible nodes keep what they run; the drainer
// moves it.
func (cj *compiledJob) stillFeasible(cg *compiledGroup, n *structs.Node) bool {
	if n == nil || !inDatacenters(cj.job.Datacenters, n.Datacenter) || !inPool(jobPool(cj.job), n) {
		return false
	}
	if ok, _ := cj.checkJob(n); !ok {
		return false
	}
	ok, _ := cg.checkGroup(n)
	return ok
}
