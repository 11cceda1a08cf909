// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
)

// Node pools group client nodes; a job places only on the nodes of its
// pool. Two pools are built in and exist in every cluster: "default", where
// nodes and jobs that name no pool go, and "all", which only jobs may name
// and which holds every node. Neither can be changed or deleted.

// NodePoolAll is the built-in pool that includes every node.
const NodePoolAll = "all"

// Limits on a node pool's specification, as Nomad's.
const (
	maxNodePoolNameLength        = 128
	maxNodePoolDescriptionLength = 256
)

var validNodePoolName = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)

// NodePool is a named group of nodes.
type NodePool struct {
	Name        string
	Description string
	Meta        map[string]string
	// SchedulerConfiguration overrides parts of the cluster's scheduler
	// configuration for jobs in this pool; nil means none.
	SchedulerConfiguration *NodePoolSchedulerConfiguration
	CreateIndex            uint64
	ModifyIndex            uint64
}

// NodePoolSchedulerConfiguration is what a pool may override of the
// cluster's scheduler configuration.
type NodePoolSchedulerConfiguration struct {
	// SchedulerAlgorithm is "binpack", "spread" or "" (use the cluster's).
	SchedulerAlgorithm string
	// MemoryOversubscriptionEnabled is nil when the pool does not say.
	MemoryOversubscriptionEnabled *bool
}

// IsBuiltinNodePool reports whether name is "default" or "all".
func IsBuiltinNodePool(name string) bool {
	return name == DefaultNodePool || name == NodePoolAll
}

// BuiltinNodePools returns fresh copies of the two built-in pools.
func BuiltinNodePools() []*NodePool {
	return []*NodePool{
		{Name: NodePoolAll, Description: "Node pool with all nodes in the cluster."},
		{Name: DefaultNodePool, Description: "Default node pool."},
	}
}

// Copy returns a deep copy.
func (p *NodePool) Copy() *NodePool {
	if p == nil {
		return nil
	}
	c := *p
	c.Meta = maps.Clone(p.Meta)
	if p.SchedulerConfiguration != nil {
		sc := *p.SchedulerConfiguration
		if v := p.SchedulerConfiguration.MemoryOversubscriptionEnabled; v != nil {
			b := *v
			sc.MemoryOversubscriptionEnabled = &b
		}
		c.SchedulerConfiguration = &sc
	}
	return &c
}

// Validate checks a pool a user asks to create or update.
func (p *NodePool) Validate() error {
	if p == nil {
		return errors.New("missing node pool")
	}
	var errs []error
	switch {
	case p.Name == "":
		errs = append(errs, errors.New("missing node pool name"))
	case len(p.Name) > maxNodePoolNameLength:
		errs = append(errs, fmt.Errorf("node pool name %q is longer than %d characters", p.Name, maxNodePoolNameLength))
	case !validNodePoolName.MatchString(p.Name):
		errs = append(errs, fmt.Errorf("invalid node pool name %q: only letters, digits, '-' and '_' are allowed", p.Name))
	}
	if len(p.Description) > maxNodePoolDescriptionLength {
		errs = append(errs, fmt.Errorf("node pool description is longer than %d characters", maxNodePoolDescriptionLength))
	}
	if sc := p.SchedulerConfiguration; sc != nil && sc.SchedulerAlgorithm != "" {
		if err := validateAlgorithm(sc.SchedulerAlgorithm); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// NodePoolUpsertRequest creates or replaces node pools.
type NodePoolUpsertRequest struct {
	NodePools []*NodePool
}

// NodePoolDeleteRequest deletes node pools by name.
type NodePoolDeleteRequest struct {
	Names []string
}
