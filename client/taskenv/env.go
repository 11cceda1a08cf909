// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package taskenv builds a task's environment (the NOMAD_* contract plus the
// task's own `env` block) and interpolates ${...} references in strings and
// driver configs, the way Nomad's runtime interpolation does.
package taskenv

import (
	"maps"
	"regexp"
	"strconv"
	"strings"

	"github.com/droverhq/drover/structs"
)

// Names of the variables every task receives.
const (
	AllocDir       = "NOMAD_ALLOC_DIR"
	TaskLocalDir   = "NOMAD_TASK_DIR"
	SecretsDir     = "NOMAD_SECRETS_DIR"
	AllocID        = "NOMAD_ALLOC_ID"
	AllocName      = "NOMAD_ALLOC_NAME"
	AllocIndex     = "NOMAD_ALLOC_INDEX"
	ShortAllocID   = "NOMAD_SHORT_ALLOC_ID"
	GroupName      = "NOMAD_GROUP_NAME"
	TaskName       = "NOMAD_TASK_NAME"
	JobID          = "NOMAD_JOB_ID"
	JobName        = "NOMAD_JOB_NAME"
	JobParentID    = "NOMAD_JOB_PARENT_ID"
	Namespace      = "NOMAD_NAMESPACE"
	Region         = "NOMAD_REGION"
	Datacenter     = "NOMAD_DC"
	CPULimit       = "NOMAD_CPU_LIMIT"
	CPUCores       = "NOMAD_CPU_CORES"
	MemLimit       = "NOMAD_MEMORY_LIMIT"
	MemMaxLimit    = "NOMAD_MEMORY_MAX_LIMIT"
	MetaPrefix     = "NOMAD_META_"
	nodeAttrPrefix = "attr."
	nodeMetaPrefix = "meta."
)

// DefaultEnvDenylist names agent environment variables that never leak into
// tasks, after Nomad's client `env.denylist` default: they are credentials of
// the agent, not of the workload.
var DefaultEnvDenylist = []string{
	"CONSUL_TOKEN", "CONSUL_HTTP_TOKEN", "VAULT_TOKEN", "NOMAD_TOKEN",
	"NOMAD_LICENSE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS",
}

// FilterHostEnv turns os.Environ()-style entries into a map, leaving out
// the names in deny.
func FilterHostEnv(environ []string, deny []string) map[string]string {
	out := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		out[k] = v
	}
	for _, k := range deny {
		delete(out, k)
	}
	return out
}

// Builder gathers what a task's environment is made of. Host variables have
// the lowest precedence, then the NOMAD_* variables, then the task's `env`
// block (interpolated against the former two).
type Builder struct {
	node    *structs.Node
	alloc   *structs.Allocation
	task    *structs.Task
	hostEnv map[string]string

	allocDir, localDir, secretsDir string
}

// NewBuilder starts an environment for task of alloc on node. Any argument
// may be nil; the variables it would provide are then left out.
func NewBuilder(node *structs.Node, alloc *structs.Allocation, task *structs.Task) *Builder {
	return &Builder{node: node, alloc: alloc, task: task}
}

// SetHostEnv sets the agent's environment that non-isolating drivers pass
// on (already filtered, see FilterHostEnv).
func (b *Builder) SetHostEnv(env map[string]string) *Builder {
	b.hostEnv = env
	return b
}

// SetDirs sets the paths behind NOMAD_ALLOC_DIR, NOMAD_TASK_DIR and
// NOMAD_SECRETS_DIR, as the task sees them.
func (b *Builder) SetDirs(allocDir, localDir, secretsDir string) *Builder {
	b.allocDir, b.localDir, b.secretsDir = allocDir, localDir, secretsDir
	return b
}

// Build computes the environment.
func (b *Builder) Build() *Env {
	e := &Env{vars: maps.Clone(b.hostEnv), node: b.node}
	if e.vars == nil {
		e.vars = map[string]string{}
	}
	set := func(k, v string) {
		if v != "" {
			e.vars[k] = v
		}
	}
	set(AllocDir, b.allocDir)
	set(TaskLocalDir, b.localDir)
	set(SecretsDir, b.secretsDir)

	var job *structs.Job
	if a := b.alloc; a != nil {
		job = a.Job
		set(AllocID, a.ID)
		set(ShortAllocID, shortID(a.ID))
		set(AllocName, a.Name)
		if idx, ok := allocIndex(a.Name); ok {
			set(AllocIndex, strconv.Itoa(idx))
		}
		set(GroupName, a.TaskGroup)
		set(Namespace, a.Namespace)
	}
	if b.node != nil {
		set(Datacenter, b.node.Datacenter)
	}
	var meta map[string]string
	if job != nil {
		set(JobID, job.ID)
		set(JobName, job.Name)
		set(JobParentID, job.ParentID)
		set(Region, job.Region)
		if e.vars[Namespace] == "" {
			set(Namespace, job.Namespace)
		}
		e.region = job.Region
		meta = maps.Clone(job.Meta)
		if b.alloc != nil {
			if tg := job.LookupTaskGroup(b.alloc.TaskGroup); tg != nil {
				meta = merge(meta, tg.Meta)
			}
		}
	}
	if t := b.task; t != nil {
		set(TaskName, t.Name)
		meta = merge(meta, t.Meta)
		b.setResources(set)
	}
	b.setPorts(set)
	for k, v := range meta {
		e.vars[MetaPrefix+strings.ToUpper(k)] = v
		e.vars[MetaPrefix+k] = v
	}

	// The task's env block may refer to anything above, but not to itself:
	// interpolate every value against the environment before it.
	if b.task != nil && len(b.task.Env) > 0 {
		base := &Env{vars: maps.Clone(e.vars), node: e.node, region: e.region}
		for k, v := range b.task.Env {
			e.vars[k] = base.ReplaceEnv(v)
		}
	}
	return e
}

// setResources sets the limits from the scheduler's reservation, falling
// back to what the task asked for.
func (b *Builder) setResources(set func(k, v string)) {
	var cpu, mem, memMax int64
	var cores []uint16
	if r := b.task.Resources; r != nil {
		cpu, mem, memMax = int64(r.CPU), int64(r.MemoryMB), int64(r.MemoryMaxMB)
	}
	if b.alloc != nil && b.alloc.AllocatedResources != nil {
		if tr, ok := b.alloc.AllocatedResources.Tasks[b.task.Name]; ok && tr != nil {
			cpu, mem, memMax = tr.Cpu.CpuShares, tr.Memory.MemoryMB, tr.Memory.MemoryMaxMB
			cores = tr.Cpu.ReservedCores
		}
	}
	if cpu > 0 {
		set(CPULimit, strconv.FormatInt(cpu, 10))
	}
	// A task with exclusive cores learns which, in cpu list notation
	// ("0-2,7"), as Nomad tells it; others get no variable.
	if len(cores) > 0 {
		set(CPUCores, structs.FormatCPUList(cores))
	}
	if mem > 0 {
		set(MemLimit, strconv.FormatInt(mem, 10))
	}
	if memMax > 0 {
		set(MemMaxLimit, strconv.FormatInt(memMax, 10))
	}
}

func merge(dst, src map[string]string) map[string]string {
	if dst == nil && len(src) > 0 {
		dst = make(map[string]string, len(src))
	}
	maps.Copy(dst, src)
	return dst
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

var allocIndexRe = regexp.MustCompile(`\[(\d+)\]$`)

// allocIndex extracts N from an allocation name "<job>.<group>[N]".
func allocIndex(name string) (int, bool) {
	m := allocIndexRe.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}
