// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"fmt"
	"time"

	"github.com/droverhq/drover/structs"
)

// nodeAvailable runs after a node became able to take work: registered,
// back from down, or made eligible. Blocked evaluations may fit now, and
// every system and unfinished sysbatch job must place on the node: Nomad
// evaluates each of them for the node.
func (s *Server) nodeAvailable(nodeID string) {
	s.blocked.Unblock()
	if err := s.createSystemEvals(nodeID); err != nil {
		s.logger.Error("cannot evaluate system jobs for a node", "node_id", nodeID, "error", err)
	}
}

func (s *Server) createSystemEvals(nodeID string) error {
	snap := s.state.Snapshot()
	node, err := snap.NodeByID(nodeID)
	if err != nil || node == nil {
		return err
	}
	jobs, err := snap.Jobs("*", "")
	if err != nil {
		return err
	}
	now := time.Now()
	var evals []*structs.Evaluation
	for _, job := range jobs {
		if job.Stop || (job.Type != structs.JobTypeSystem && job.Type != structs.JobTypeSysbatch) {
			continue
		}
		if job.NodePool != "all" && job.NodePool != node.NodePool {
			continue
		}
		if job.Type == structs.JobTypeSysbatch {
			status, err := snap.JobStatus(job)
			if err != nil {
				return err
			}
			if status == structs.JobStatusDead {
				continue
			}
		}
		e := structs.NewEval(job, structs.EvalTriggerNodeUpdate, now)
		e.NodeID = nodeID
		evals = append(evals, e)
	}
	if len(evals) == 0 {
		return nil
	}
	if _, err := s.raftApply(structs.EvalUpdateRequestType, &structs.EvalUpdateRequest{Evals: evals}); err != nil {
		return fmt.Errorf("create evaluations for node %s: %w", nodeID, err)
	}
	return nil
}
