// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// Periodic spec types.
const PeriodicSpecCron = "cron"

// PeriodicConfig is the `periodic` block: the job is a template launched as
// a child job on a cron schedule.
type PeriodicConfig struct {
	Enabled         bool
	Spec            string
	Specs           []string
	SpecType        string
	ProhibitOverlap bool
	TimeZone        string
}

// AllSpecs returns the cron expressions of the block, Spec first.
func (p *PeriodicConfig) AllSpecs() []string {
	var out []string
	if p.Spec != "" {
		out = append(out, p.Spec)
	}
	return append(out, p.Specs...)
}

// Dispatch payload requirements of a parameterized job.
const (
	DispatchPayloadOptional  = "optional"
	DispatchPayloadRequired  = "required"
	DispatchPayloadForbidden = "forbidden"
)

// ParameterizedJobConfig is the `parameterized` block: the job is a template
// instantiated by `job dispatch` with a payload and metadata.
type ParameterizedJobConfig struct {
	Payload      string
	MetaRequired []string
	MetaOptional []string
}

// JobUIConfig is the `ui` block: a description and links the web UI shows.
type JobUIConfig struct {
	Description string
	Links       []*JobUILink
}

// JobUILink is one link of the `ui` block.
type JobUILink struct {
	Label string
	URL   string
}

// JobVersionTag names a version of a job (`job tag`), keeping it from
// garbage collection.
type JobVersionTag struct {
	Name        string
	Description string
	TaggedTime  int64
}

// Consul is the group or task `consul` block: which Consul cluster,
// namespace and partition the workload's services and templates use.
type Consul struct {
	Namespace string
	Cluster   string
	Partition string
}
