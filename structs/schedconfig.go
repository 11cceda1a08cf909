// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"errors"
	"fmt"
)

// The cluster-wide scheduler configuration that operators change at run
// time (Nomad's /v1/operator/scheduler/configuration). It is stored in
// raft so every server's scheduler workers see the same value.

// Scheduler algorithms: binpack fills nodes before using empty ones,
// spread prefers the least loaded node.
const (
	SchedulerAlgorithmBinpack = "binpack"
	SchedulerAlgorithmSpread  = "spread"
)

// SchedulerConfiguration is the operator's scheduler configuration.
type SchedulerConfiguration struct {
	SchedulerAlgorithm            string
	PreemptionConfig              PreemptionConfig
	MemoryOversubscriptionEnabled bool
	// RejectJobRegistration refuses new job registrations (an operator's
	// brake during an incident).
	RejectJobRegistration bool
	PauseEvalBroker       bool
	CreateIndex           uint64
	ModifyIndex           uint64
}

// PreemptionConfig says, per scheduler type, whether lower-priority
// allocations may be evicted to place higher-priority ones.
type PreemptionConfig struct {
	SystemSchedulerEnabled   bool
	SysBatchSchedulerEnabled bool
	BatchSchedulerEnabled    bool
	ServiceSchedulerEnabled  bool
}

// DefaultSchedulerConfiguration is the configuration of a cluster nobody
// configured, as Nomad's: binpack, preemption for system jobs only.
func DefaultSchedulerConfiguration() *SchedulerConfiguration {
	return &SchedulerConfiguration{
		SchedulerAlgorithm: SchedulerAlgorithmBinpack,
		PreemptionConfig:   PreemptionConfig{SystemSchedulerEnabled: true},
	}
}

// Copy returns a copy.
func (c *SchedulerConfiguration) Copy() *SchedulerConfiguration {
	if c == nil {
		return nil
	}
	out := *c
	return &out
}

// Canonicalize fills an empty algorithm with binpack.
func (c *SchedulerConfiguration) Canonicalize() {
	if c.SchedulerAlgorithm == "" {
		c.SchedulerAlgorithm = SchedulerAlgorithmBinpack
	}
}

// Validate checks a configuration an operator asks to set.
func (c *SchedulerConfiguration) Validate() error {
	if c == nil {
		return errors.New("missing scheduler configuration")
	}
	return validateAlgorithm(c.SchedulerAlgorithm)
}

// Algorithm returns the algorithm for jobs in pool (nil for none or the
// "all" pool, which always uses the cluster's).
func (c *SchedulerConfiguration) Algorithm(pool *NodePool) string {
	if pool != nil && pool.Name != NodePoolAll && pool.SchedulerConfiguration != nil && pool.SchedulerConfiguration.SchedulerAlgorithm != "" {
		return pool.SchedulerConfiguration.SchedulerAlgorithm
	}
	if c == nil || c.SchedulerAlgorithm == "" {
		return SchedulerAlgorithmBinpack
	}
	return c.SchedulerAlgorithm
}

// MemoryOversubscription reports whether memory_max is honoured for jobs
// in pool (nil for none or "all": the cluster's setting).
func (c *SchedulerConfiguration) MemoryOversubscription(pool *NodePool) bool {
	if pool != nil && pool.Name != NodePoolAll && pool.SchedulerConfiguration != nil && pool.SchedulerConfiguration.MemoryOversubscriptionEnabled != nil {
		return *pool.SchedulerConfiguration.MemoryOversubscriptionEnabled
	}
	return c != nil && c.MemoryOversubscriptionEnabled
}

// PreemptionEnabled reports whether the scheduler of jobType may evict
// lower-priority allocations.
func (c *SchedulerConfiguration) PreemptionEnabled(jobType string) bool {
	if c == nil {
		c = DefaultSchedulerConfiguration()
	}
	switch jobType {
	case JobTypeSystem:
		return c.PreemptionConfig.SystemSchedulerEnabled
	case JobTypeSysbatch:
		return c.PreemptionConfig.SysBatchSchedulerEnabled
	case JobTypeBatch:
		return c.PreemptionConfig.BatchSchedulerEnabled
	case JobTypeService:
		return c.PreemptionConfig.ServiceSchedulerEnabled
	}
	return false
}

func validateAlgorithm(a string) error {
	switch a {
	case SchedulerAlgorithmBinpack, SchedulerAlgorithmSpread:
		return nil
	}
	return fmt.Errorf("invalid scheduler algorithm %q: want %q or %q", a, SchedulerAlgorithmBinpack, SchedulerAlgorithmSpread)
}

// SchedulerSetConfigRequest replaces the scheduler configuration. With
// CAS it applies only if the stored configuration's ModifyIndex is still
// Config.ModifyIndex (0: only if none was ever stored).
type SchedulerSetConfigRequest struct {
	Config SchedulerConfiguration
	CAS    bool
}
