// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

// The operator's node writes: start, update or cancel a drain
// ("Node.UpdateDrain") and set scheduling eligibility
// ("Node.UpdateEligibility"). Like every write they forward to the leader
// and go through raft; the drainer (drainer.go) then does the moving.

import (
	"fmt"
	"time"

	"github.com/droverhq/drover/structs"
)

// NodeDrainArgs asks to start or update (DrainSpec set) or cancel
// (DrainSpec nil) a node's drain. MarkEligible makes a node whose drain is
// cancelled eligible again. Meta is kept in the node's LastDrain.
type NodeDrainArgs struct {
	NodeID       string
	DrainSpec    *structs.DrainSpec
	MarkEligible bool
	Meta         map[string]string
}

// NodeEligibilityArgs asks to set a node's scheduling eligibility
// ("eligible" or "ineligible").
type NodeEligibilityArgs struct {
	NodeID      string
	Eligibility string
}

// NodeWriteReply answers a drain or eligibility change, in the shape of
// Nomad's NodeDrainUpdateResponse.
type NodeWriteReply struct {
	NodeModifyIndex uint64
	EvalIDs         []string
	EvalCreateIndex uint64
	Index           uint64
}

// UpdateDrain starts, updates or cancels a node's drain.
func (n *NodeEndpoint) UpdateDrain(args *NodeDrainArgs, reply *NodeWriteReply) error {
	if done, err := n.srv.forward("Node.UpdateDrain", args, reply); done {
		return err
	}
	node, err := n.srv.state.Snapshot().NodeByID(args.NodeID)
	if err != nil {
		return fmt.Errorf("node drain %s: %w", args.NodeID, err)
	}
	if node == nil {
		return fmt.Errorf("node drain %s: %w", args.NodeID, ErrUnknownNode)
	}
	now := time.Now().UTC()
	update := &structs.NodeDrainUpdate{NodeID: node.ID, UpdatedAt: now.UnixNano()}
	if spec := args.DrainSpec; spec != nil {
		strategy := &structs.DrainStrategy{DrainSpec: *spec, StartedAt: now}
		if node.DrainStrategy != nil {
			strategy.StartedAt = node.DrainStrategy.StartedAt
		}
		switch {
		case spec.Deadline > 0:
			strategy.ForceDeadline = now.Add(spec.Deadline)
		case spec.Deadline < 0:
			strategy.ForceDeadline = now
		}
		update.DrainStrategy = strategy
		update.Eligibility = structs.NodeSchedulingIneligible
		update.LastDrain = &structs.DrainMetadata{
			StartedAt: strategy.StartedAt, UpdatedAt: now, Status: structs.DrainStatusDraining, Meta: args.Meta,
		}
	} else {
		if args.MarkEligible {
			update.Eligibility = structs.NodeSchedulingEligible
		}
		if node.DrainStrategy != nil {
			update.LastDrain = &structs.DrainMetadata{
				StartedAt: node.DrainStrategy.StartedAt, UpdatedAt: now, Status: structs.DrainStatusCanceled, Meta: args.Meta,
			}
			if node.LastDrain != nil && args.Meta == nil {
				update.LastDrain.Meta = node.LastDrain.Meta
			}
		}
	}
	index, err := n.srv.raftApply(structs.NodeUpdateDrainRequestType, update)
	if err != nil {
		return fmt.Errorf("node drain %s: %w", node.ID, err)
	}
	if update.Eligibility == structs.NodeSchedulingEligible {
		n.srv.nodeAvailable(node.ID) // capacity is back
	}
	reply.NodeModifyIndex, reply.Index = index, index
	return nil
}

// UpdateEligibility sets a node's scheduling eligibility. A draining node
// cannot be made eligible: the drain would move work back onto it.
func (n *NodeEndpoint) UpdateEligibility(args *NodeEligibilityArgs, reply *NodeWriteReply) error {
	if done, err := n.srv.forward("Node.UpdateEligibility", args, reply); done {
		return err
	}
	switch args.Eligibility {
	case structs.NodeSchedulingEligible, structs.NodeSchedulingIneligible:
	default:
		return fmt.Errorf("node eligibility %s: invalid scheduling eligibility %q (want %q or %q)",
			args.NodeID, args.Eligibility, structs.NodeSchedulingEligible, structs.NodeSchedulingIneligible)
	}
	node, err := n.srv.state.Snapshot().NodeByID(args.NodeID)
	if err != nil {
		return fmt.Errorf("node eligibility %s: %w", args.NodeID, err)
	}
	if node == nil {
		return fmt.Errorf("node eligibility %s: %w", args.NodeID, ErrUnknownNode)
	}
	if node.DrainStrategy != nil && args.Eligibility == structs.NodeSchedulingEligible {
		return fmt.Errorf("node eligibility %s: can not set node's scheduling eligibility to eligible while it is draining", node.ID)
	}
	index := node.ModifyIndex
	if node.SchedulingEligibility != args.Eligibility {
		index, err = n.srv.raftApply(structs.NodeUpdateEligibilityRequestType, &structs.NodeEligibilityUpdate{
			NodeID: node.ID, Eligibility: args.Eligibility, UpdatedAt: time.Now().UnixNano(),
		})
		if err != nil {
			return fmt.Errorf("node eligibility %s: %w", node.ID, err)
		}
		if args.Eligibility == structs.NodeSchedulingEligible {
			n.srv.nodeAvailable(node.ID)
		}
	}
	reply.NodeModifyIndex, reply.Index = index, index
	return nil
}

// UpdateNodeDrain changes a node's drain through the leader and returns
// once this server's state has applied it.
func (s *Server) UpdateNodeDrain(args *NodeDrainArgs) (*NodeWriteReply, error) {
	var reply NodeWriteReply
	if err := s.Node().UpdateDrain(args, &reply); err != nil {
		return nil, err
	}
	return &reply, s.waitApplied(reply.Index)
}

// UpdateNodeEligibility sets a node's scheduling eligibility through the
// leader and returns once this server's state has applied it.
func (s *Server) UpdateNodeEligibility(args *NodeEligibilityArgs) (*NodeWriteReply, error) {
	var reply NodeWriteReply
	if err := s.Node().UpdateEligibility(args, &reply); err != nil {
		return nil, err
	}
	return &reply, s.waitApplied(reply.Index)
}
