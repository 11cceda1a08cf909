// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import "time"

// Service providers.
const (
	ServiceProviderConsul = "consul"
	ServiceProviderNomad  = "nomad"
)

// Service address modes.
const (
	AddressModeAuto   = "auto"
	AddressModeHost   = "host"
	AddressModeDriver = "driver"
	AddressModeAlloc  = "alloc"
)

// Check types.
const (
	ServiceCheckHTTP   = "http"
	ServiceCheckTCP    = "tcp"
	ServiceCheckScript = "script"
	ServiceCheckGRPC   = "grpc"
)

// Check and service on_update values.
const (
	OnUpdateRequireHealthy = "require_healthy"
	OnUpdateIgnoreWarn     = "ignore_warnings"
	OnUpdateIgnore         = "ignore"
)

// Service is a `service` block: a service registered for the group or task
// in Consul or Nomad's own catalog, with health checks.
type Service struct {
	Name              string
	Tags              []string
	CanaryTags        []string
	EnableTagOverride bool
	PortLabel         string
	AddressMode       string
	Address           string
	Checks            []*ServiceCheck
	CheckRestart      *CheckRestart
	Connect           *ConsulConnect
	Meta              map[string]string
	CanaryMeta        map[string]string
	TaggedAddresses   map[string]string
	TaskName          string
	OnUpdate          string
	Identity          *WorkloadIdentity
	Weights           *ServiceWeights
	Provider          string
	Cluster           string
	Kind              string
}

// ServiceCheck is a service's `check` block.
type ServiceCheck struct {
	Name                   string
	Type                   string
	Command                string
	Args                   []string
	Path                   string
	Protocol               string
	PortLabel              string
	Expose                 bool
	AddressMode            string
	Advertise              string
	Interval               time.Duration
	Timeout                time.Duration
	InitialStatus          string
	Notes                  string
	TLSServerName          string
	TLSSkipVerify          bool
	Header                 map[string][]string
	Method                 string
	CheckRestart           *CheckRestart
	GRPCService            string
	GRPCUseTLS             bool
	TaskName               string
	SuccessBeforePassing   int
	FailuresBeforeCritical int
	FailuresBeforeWarning  int
	Body                   string
	OnUpdate               string
}

// CheckRestart is a `check_restart` block: restart the task after a check
// has been unhealthy Limit times in a row.
type CheckRestart struct {
	Limit          int
	Grace          time.Duration
	IgnoreWarnings bool
}

// ServiceWeights are a Consul service's DNS SRV weights.
type ServiceWeights struct {
	Passing int
	Warning int
}
