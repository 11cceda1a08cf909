// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package scheduler

import (
	"fmt"

	"github.com/droverhq/drover/structs"
	"github.com/hashicorp/go-hclog"
)

// State is a read-only snapshot of cluster state.
type State interface {
	Nodes() ([]*structs.Node, error)                                    // every node, any status
	NodeByID(id string) (*structs.Node, error)                          // nil, nil when absent
	JobByID(namespace, id string) (*structs.Job, error)                 // nil, nil when absent (purged)
	AllocsByJob(namespace, jobID string) ([]*structs.Allocation, error) // all, terminal too
	AllocsByNode(nodeID string) ([]*structs.Allocation, error)          // all, terminal too
	// NodeUsage returns the resources held by the node's live
	// (non-terminal) allocations, kept up to date by the state store so
	// ranking a node does not sum its allocations.
	NodeUsage(nodeID string) (structs.ComparableResources, error)
	// SchedulerConfig returns the operator's scheduler configuration
	// (the default when none was set): algorithm, oversubscription.
	SchedulerConfig() (*structs.SchedulerConfiguration, error)
	LatestIndex() (uint64, error)
}

// NodeTableState is a State that prepares the node table once per version
// of the nodes and shares it between evaluations (the server's state
// store does); with any other State each evaluation builds its own.
type NodeTableState interface {
	NodeTable() (*structs.NodeTable, error)
}

// nodeTable returns state's node table.
func nodeTable(state State) (*structs.NodeTable, error) {
	if s, ok := state.(NodeTableState); ok {
		return s.NodeTable()
	}
	nodes, err := state.Nodes()
	if err != nil {
		return nil, err
	}
	return structs.NewNodeTable(0, nodes), nil
}

// Planner is how a scheduler acts: it never writes state itself.
type Planner interface {
	// SubmitPlan hands a plan to the leader's plan applier. When part of it was
	// rejected, result.RefreshIndex is set and newState is a snapshot at least
	// that fresh to retry against.
	SubmitPlan(plan *structs.Plan) (result *structs.PlanResult, newState State, err error)
	UpdateEval(eval *structs.Evaluation) error
	CreateEval(eval *structs.Evaluation) error
}

// Scheduler turns one evaluation into a plan, submits it and records the
// outcome on the evaluation.
type Scheduler interface {
	Process(eval *structs.Evaluation) error
}

// New returns the scheduler for jobs of jobType ("service", "batch",
// "system" or "sysbatch"); any other type is an error rather than being
// silently scheduled as a service.
func New(jobType string, logger hclog.Logger, state State, planner Planner) (Scheduler, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if state == nil || planner == nil {
		return nil, fmt.Errorf("new %q scheduler: state and planner are required", jobType)
	}
	switch jobType {
	case structs.JobTypeService, structs.JobTypeBatch, structs.JobTypeSystem, structs.JobTypeSysbatch:
		return newGenericScheduler(jobType, logger.Named("scheduler").With("type", jobType), state, planner), nil
	default:
		return nil, fmt.Errorf("new scheduler: unsupported job type %q", jobType)
	}
}
