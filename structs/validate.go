// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Constraint operands, as in a constraint block's `operator`.
const (
	ConstraintEqual            = "="
	ConstraintEqualAlt         = "=="
	ConstraintIs               = "is"
	ConstraintNotEqual         = "!="
	ConstraintNot              = "not"
	ConstraintLess             = "<"
	ConstraintLessEqual        = "<="
	ConstraintGreater          = ">"
	ConstraintGreaterEqual     = ">="
	ConstraintRegex            = "regexp"
	ConstraintSetContains      = "set_contains"
	ConstraintSetContainsAll   = "set_contains_all"
	ConstraintSetContainsAny   = "set_contains_any"
	ConstraintVersion          = "version"
	ConstraintSemver           = "semver"
	ConstraintAttributeIsSet   = "is_set"
	ConstraintAttributeIsUnset = "is_not_set"
	ConstraintDistinctHosts    = "distinct_hosts"
	ConstraintDistinctProperty = "distinct_property"
)

// ValidationError lists every problem found in a job, so a user fixes them
// all in one round trip instead of one per submission. Each problem names
// its place the way Nomad users read it, e.g.
// `Task group "web": Task "server": Missing driver`.
type ValidationError struct {
	Problems []error
}

// Error lists the problems, one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the problems to errors.Is and errors.As.
func (e *ValidationError) Unwrap() []error { return e.Problems }

// problems collects validation errors under a path prefix.
type problems []error

func (p *problems) addf(format string, args ...any) {
	*p = append(*p, fmt.Errorf(format, args...))
}

// nest adds each of sub's problems under prefix ("Task group \"web\"").
func (p *problems) nest(prefix string, sub problems) {
	for _, err := range sub {
		*p = append(*p, fmt.Errorf("%s: %w", prefix, err))
	}
}

// Validate checks a canonicalised job and returns a *ValidationError listing
// every problem, or nil. It does not apply defaults: call Canonicalize first.
func (j *Job) Validate() error {
	if j == nil {
		return &ValidationError{Problems: []error{errors.New("Missing job")}}
	}
	var p problems
	switch {
	case j.ID == "":
		p.addf("Missing job ID")
	case strings.Contains(j.ID, " "):
		p.addf("Job ID contains a space")
	case strings.Contains(j.ID, "\x00"):
		p.addf("Job ID contains a null character")
	}
	switch {
	case j.Name == "":
		p.addf("Missing job name")
	case strings.Contains(j.Name, "\x00"):
		p.addf("Job Name contains a null character")
	}
	if j.Namespace == "" {
		p.addf("Job must be in a namespace")
	}
	if j.Region == "" {
		p.addf("Missing job region")
	}
	switch j.Type {
	case JobTypeService, JobTypeBatch, JobTypeSystem, JobTypeSysbatch:
	case "":
		p.addf("Missing job type")
	default:
		p.addf("Invalid job type: %q", j.Type)
	}
	if j.Priority < MinPriority || j.Priority > MaxPriority {
		p.addf("Job priority must be between [%d, %d]; got %d", MinPriority, MaxPriority, j.Priority)
	}
	if len(j.Datacenters) == 0 {
		p.addf("Missing job datacenters")
	}
	for _, dc := range j.Datacenters {
		if dc == "" {
			p.addf("Job datacenter must be non-empty string")
			break
		}
	}
	p.constraints(j.Constraints, constraintAtJob)
	p.affinities(j.Affinities)
	p.spreads(j.Spreads)
	p.jobBlocks(j)

	if len(j.TaskGroups) == 0 {
		p.addf("Missing job task groups")
	}
	seen := make(map[string]int, len(j.TaskGroups))
	for i, tg := range j.TaskGroups {
		if tg == nil {
			p.addf("Task group %d is null", i+1)
			continue
		}
		prefix := fmt.Sprintf("Task group %q", tg.Name)
		if tg.Name == "" {
			p.addf("Job task group %d missing name", i+1)
			prefix = fmt.Sprintf("Task group %d", i+1)
		} else if first, ok := seen[tg.Name]; ok {
			p.addf("Job task group %d redefines %q from group %d", i+1, tg.Name, first+1)
		} else {
			seen[tg.Name] = i
		}
		p.nest(prefix, tg.validate(j))
	}
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

func (tg *TaskGroup) validate(j *Job) problems {
	var p problems
	if tg.Count < 0 {
		p.addf("Task group count can't be negative")
	}
	if len(tg.Tasks) == 0 {
		p.addf("Missing tasks for task group")
	}
	p.constraints(tg.Constraints, constraintAtGroup)
	if tg.RestartPolicy == nil {
		p.addf("Missing restart policy")
	} else {
		p.nest("Restart policy", tg.RestartPolicy.validate())
	}
	if tg.EphemeralDisk == nil {
		p.addf("Missing ephemeral disk")
	} else if tg.EphemeralDisk.SizeMB < 1 {
		p.addf("Ephemeral disk size must be at least 1 MB; got %d", tg.EphemeralDisk.SizeMB)
	}

	ports := p.groupBlocks(j, tg)

	seen := make(map[string]int, len(tg.Tasks))
	leaders := 0
	for i, t := range tg.Tasks {
		if t == nil {
			p.addf("Task %d is null", i+1)
			continue
		}
		prefix := fmt.Sprintf("Task %q", t.Name)
		if t.Name == "" {
			p.addf("Task %d missing name", i+1)
			prefix = fmt.Sprintf("Task %d", i+1)
		} else if first, ok := seen[t.Name]; ok {
			p.addf("Task %d redefines %q from task %d", i+1, t.Name, first+1)
		} else {
			seen[t.Name] = i
		}
		if t.Leader {
			leaders++
		}
		tp := t.validate(tg.EphemeralDisk)
		tp.taskBlocks(j, tg, t, ports)
		p.nest(prefix, tp)
	}
	if leaders > 1 {
		p.addf("Only one task may be marked as leader")
	}
	return p
}

func (t *Task) validate(disk *EphemeralDisk) problems {
	var p problems
	// The name becomes a directory in the allocation: keep it a single,
	// printable path element.
	if strings.ContainsAny(t.Name, "/\x00") {
		p.addf("Task name may not contain '/' or a null character")
	}
	if t.Driver == "" {
		p.addf("Missing driver")
	}
	if t.KillTimeout < 0 {
		p.addf("KillTimeout must be a positive value")
	}
	if t.Resources == nil {
		p.addf("Missing task resources")
	} else {
		p.nest("Resources", t.Resources.validate())
	}
	if t.RestartPolicy == nil {
		p.addf("Missing restart policy")
	} else {
		p.nest("Restart policy", t.RestartPolicy.validate())
	}
	if t.LogConfig == nil {
		p.addf("Missing log configuration")
	} else {
		p.nest("Log config", t.LogConfig.validate(disk))
	}
	p.constraints(t.Constraints, constraintAtTask)
	return p
}

func (r *Resources) validate() problems {
	var p problems
	switch {
	case r.Cores < 0:
		p.addf("Cores can't be negative; got %d", r.Cores)
	case r.Cores > 0 && r.CPU > 0:
		p.addf("Task can only ask for 'cpu' or 'cores' resource, not both")
	case r.Cores == 0 && r.CPU < MinCPU:
		p.addf("Minimum CPU value is %d; got %d", MinCPU, r.CPU)
	}
	if r.MemoryMB < MinMemoryMB {
		p.addf("Minimum MemoryMB value is %d; got %d", MinMemoryMB, r.MemoryMB)
	}
	if r.MemoryMaxMB != 0 && r.MemoryMaxMB < r.MemoryMB {
		p.addf("MemoryMaxMB value (%d) should be larger than MemoryMB value (%d)", r.MemoryMaxMB, r.MemoryMB)
	}
	if r.DiskMB < 0 {
		p.addf("DiskMB can't be negative; got %d", r.DiskMB)
	}
	return p
}

// validate follows the restart block's documented semantics: after
// `attempts` restarts within `interval` the mode decides what happens, so
// the attempts and their delays must fit in the interval.
func (rp *RestartPolicy) validate() problems {
	var p problems
	switch rp.Mode {
	case RestartPolicyModeFail, RestartPolicyModeDelay:
	default:
		p.addf("Unsupported restart mode: %q", rp.Mode)
	}
	if rp.Attempts < 0 {
		p.addf("Attempts can't be negative; got %d", rp.Attempts)
	}
	if rp.Delay < 0 {
		p.addf("Delay can't be negative; got %v", rp.Delay)
	}
	if rp.Interval < 0 {
		p.addf("Interval can't be negative; got %v", rp.Interval)
	}
	if rp.Attempts == 0 && rp.Mode == RestartPolicyModeDelay {
		// No restart is allowed, yet "delay" asks to wait and restart.
		p.addf("Restart mode %q with 0 attempts is ambiguous", rp.Mode)
	}
	if rp.Attempts > 0 && rp.Delay >= 0 && rp.Interval >= 0 &&
		time.Duration(rp.Attempts)*rp.Delay > rp.Interval {
		p.addf("Can't restart %d times in an interval of %v with a delay of %v", rp.Attempts, rp.Interval, rp.Delay)
	}
	return p
}

// validate checks a task's log limits, and that its rotated logs fit in the
// allocation's disk, which holds them.
func (lc *LogConfig) validate(disk *EphemeralDisk) problems {
	var p problems
	if lc.MaxFiles < 1 {
		p.addf("Minimum number of files is 1; got %d", lc.MaxFiles)
	}
	if lc.MaxFileSizeMB < 1 {
		p.addf("Minimum file size is 1 MB; got %d", lc.MaxFileSizeMB)
	}
	if disk != nil && !lc.Disabled && lc.MaxFiles > 0 && lc.MaxFileSizeMB > 0 {
		if logMB := lc.MaxFiles * lc.MaxFileSizeMB; logMB > disk.SizeMB {
			p.addf("Log storage (%d MB) must be less than requested disk capacity (%d MB)", logMB, disk.SizeMB)
		}
	}
	return p
}

// constraintLevel is where a constraint block sits; some operators only make
// sense between groups.
type constraintLevel int

const (
	constraintAtJob constraintLevel = iota
	constraintAtGroup
	constraintAtTask
)

func (p *problems) constraints(cs []*Constraint, level constraintLevel) {
	for i, c := range cs {
		prefix := fmt.Sprintf("Constraint %d validation failed", i+1)
		if c == nil {
			p.addf("%s: constraint is null", prefix)
			continue
		}
		p.nest(prefix, c.validate(level))
	}
}

func (c *Constraint) validate(level constraintLevel) problems {
	var p problems
	requireL := func() {
		if c.LTarget == "" {
			p.addf("No LTarget provided but is required by constraint")
		}
	}
	requireR := func() {
		if c.RTarget == "" {
			p.addf("No RTarget provided but is required by constraint")
		}
	}
	switch c.Operand {
	case ConstraintEqual, ConstraintEqualAlt, ConstraintIs,
		ConstraintNotEqual, ConstraintNot,
		ConstraintLess, ConstraintLessEqual, ConstraintGreater, ConstraintGreaterEqual,
		ConstraintSetContains, ConstraintSetContainsAll, ConstraintSetContainsAny,
		ConstraintVersion, ConstraintSemver:
		requireL()
		requireR()
	case ConstraintRegex:
		requireL()
		requireR()
		if c.RTarget != "" {
			if _, err := regexp.Compile(c.RTarget); err != nil {
				p.addf("Regular expression failed to compile: %w", err)
			}
		}
	case ConstraintAttributeIsSet, ConstraintAttributeIsUnset:
		requireL()
		if c.RTarget != "" {
			p.addf("Operator %q takes no RTarget; got %q", c.Operand, c.RTarget)
		}
	case ConstraintDistinctHosts:
		if level == constraintAtTask {
			p.addf("Operator %q is only allowed on jobs and groups", c.Operand)
		}
		if c.RTarget != "" {
			if _, err := strconv.ParseBool(c.RTarget); err != nil {
				p.addf("Operator %q takes true or false; got %q", c.Operand, c.RTarget)
			}
		}
	case ConstraintDistinctProperty:
		requireL()
		if level == constraintAtTask {
			p.addf("Operator %q is only allowed on jobs and groups", c.Operand)
		}
		if c.RTarget != "" {
			if n, err := strconv.ParseUint(c.RTarget, 10, 64); err != nil || n == 0 {
				p.addf("Operator %q takes a positive allocation limit; got %q", c.Operand, c.RTarget)
			}
		}
	case "":
		p.addf("Missing constraint operand")
	default:
		p.addf("Unknown constraint type %q", c.Operand)
	}
	return p
}
