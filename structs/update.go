// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import "time"

// Health check sources an update or migrate block may wait on.
const (
	UpdateHealthCheckChecks      = "checks"
	UpdateHealthCheckTaskStates  = "task_states"
	UpdateHealthCheckManual      = "manual"
	ReschedDelayFuncConstant     = "constant"
	ReschedDelayFuncExponential  = "exponential"
	ReschedDelayFuncFibonacci    = "fibonacci"
	DisconnectReconcileKeepOrig  = "keep_original"
	DisconnectReconcileKeepRepl  = "keep_replacement"
	DisconnectReconcileBestScore = "best_score"
	DisconnectReconcileLongest   = "longest_running"
)

// UpdateStrategy is the `update` block: how a new version of a group rolls
// out (rolling batches, canaries, health gating, automatic revert). The
// job-level block is the default every service group inherits.
type UpdateStrategy struct {
	Stagger          time.Duration
	MaxParallel      int
	HealthCheck      string
	MinHealthyTime   time.Duration
	HealthyDeadline  time.Duration
	ProgressDeadline time.Duration
	Canary           int
	AutoRevert       bool
	AutoPromote      bool
}

// IsEmpty reports whether the strategy asks for no managed rollout: with
// MaxParallel 0 Nomad replaces allocations all at once, without deployments.
func (u *UpdateStrategy) IsEmpty() bool {
	return u == nil || u.MaxParallel == 0
}

// MigrateStrategy is the `migrate` block: how allocations leave a draining
// node.
type MigrateStrategy struct {
	MaxParallel     int
	HealthCheck     string
	MinHealthyTime  time.Duration
	HealthyDeadline time.Duration
}

// ReschedulePolicy is the `reschedule` block: how the scheduler replaces a
// failed allocation on another node, after the restart policy gave up.
type ReschedulePolicy struct {
	Attempts      int
	Interval      time.Duration
	Delay         time.Duration
	DelayFunction string
	MaxDelay      time.Duration
	Unlimited     bool
}

// Enabled reports whether the policy reschedules at all.
func (r *ReschedulePolicy) Enabled() bool {
	return r != nil && (r.Unlimited || (r.Attempts > 0 && r.Interval > 0))
}

// DisconnectStrategy is the group `disconnect` block: what happens to
// allocations on a client that stops heartbeating.
type DisconnectStrategy struct {
	LostAfter         time.Duration
	StopOnClientAfter time.Duration
	Replace           bool
	Reconcile         string
}

// ScalingPolicy is a group's `scaling` block: the bounds within which an
// autoscaler (or `job scale`) may set the group's count. The server-set
// fields identify the stored policy.
type ScalingPolicy struct {
	Min     int64
	Max     int64
	Policy  map[string]any
	Enabled bool
	Type    string

	ID          string
	Namespace   string
	Target      map[string]string
	CreateIndex uint64
	ModifyIndex uint64
}

// Scaling policy types. Only horizontal scaling of a group is open source.
const ScalingPolicyTypeHorizontal = "horizontal"
