// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/droverhq/drover/structs"
)

// OperatorEndpoint is the RPC surface of `operator raft` and `operator
// snapshot restore`; its writes forward to the leader.
type OperatorEndpoint struct {
	srv *Server
}

// RaftPeerArgs names a raft peer by ID or by address.
type RaftPeerArgs struct {
	ID      string
	Address string
}

// SnapshotRestoreArgs carries a snapshot archive (see SaveSnapshot).
type SnapshotRestoreArgs struct {
	Archive []byte
}

// RaftServer is one entry of the raft configuration, in the shape of
// Nomad's /v1/operator/raft/configuration.
type RaftServer struct {
	ID           string
	Node         string
	Address      string
	Leader       bool
	Voter        bool
	RaftProtocol string
}

// RaftConfiguration is the raft peer set and the index it was read at.
type RaftConfiguration struct {
	Servers []*RaftServer
	Index   uint64
}

// ErrPeerNotFound is returned when removing a peer raft does not know.
var ErrPeerNotFound = errors.New("not found in the Raft configuration")

// RaftRemovePeer removes a server from the raft configuration.
func (o *OperatorEndpoint) RaftRemovePeer(args *RaftPeerArgs, reply *structs.GenericResponse) error {
	if done, err := o.srv.forward("Operator.RaftRemovePeer", args, reply); done {
		return err
	}
	if (args.ID == "") == (args.Address == "") {
		return errors.New("remove peer: give exactly one of id and address")
	}
	f := o.srv.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("read raft configuration: %w", err)
	}
	var found *raft.Server
	for _, srv := range f.Configuration().Servers {
		if (args.ID != "" && string(srv.ID) == args.ID) || (args.Address != "" && string(srv.Address) == args.Address) {
			found = &srv
			break
		}
	}
	if found == nil {
		if args.ID != "" {
			return fmt.Errorf("id %q was %w", args.ID, ErrPeerNotFound)
		}
		return fmt.Errorf("address %q was %w", args.Address, ErrPeerNotFound)
	}
	rf := o.srv.raft.RemoveServer(found.ID, 0, 10*time.Second)
	if err := o.srv.awaitRaft(rf); err != nil {
		return fmt.Errorf("remove raft peer %s: %w", found.ID, err)
	}
	o.srv.members.markLeft(string(found.ID))
	o.srv.logger.Info("removed raft peer", "id", found.ID, "address", found.Address)
	reply.Index = rf.Index()
	return nil
}

// SnapshotRestore replaces the cluster's state with a snapshot archive.
func (o *OperatorEndpoint) SnapshotRestore(args *SnapshotRestoreArgs, reply *structs.GenericResponse) error {
	if done, err := o.srv.forward("Operator.SnapshotRestore", args, reply); done {
		return err
	}
	return o.srv.restoreLocal(bytes.NewReader(args.Archive))
}

// StatusEndpoint answers questions about the cluster itself.
type StatusEndpoint struct {
	srv *Server
}

// LeaderIndexArgs asks for the leader's commit index.
type LeaderIndexArgs struct{}

// LeaderIndexReply is the leader's commit index, read after the leader
// confirmed it still leads.
type LeaderIndexReply struct {
	Index uint64
}

// LeaderIndex returns the leader's commit index.
func (st *StatusEndpoint) LeaderIndex(args *LeaderIndexArgs, reply *LeaderIndexReply) error {
	if done, err := st.srv.forward("Status.LeaderIndex", args, reply); done {
		return err
	}
	if err := st.srv.awaitRaft(st.srv.raft.VerifyLeader()); err != nil {
		return fmt.Errorf("verify leadership: %w", err)
	}
	reply.Index = st.srv.raft.CommitIndex()
	return nil
}

// ConsistentRead returns once this server's state has applied everything
// the leader had committed when it was called, so a read that follows
// sees every write acknowledged before it: Drover's answer to a read
// without ?stale on a follower (Nomad forwards such reads to the leader).
// On the leader it confirms leadership and waits for its own FSM.
func (s *Server) ConsistentRead(ctx context.Context) error {
	var reply LeaderIndexReply
	if err := (&StatusEndpoint{srv: s}).LeaderIndex(&LeaderIndexArgs{}, &reply); err != nil {
		return fmt.Errorf("consistent read: %w", err)
	}
	for s.raft.AppliedIndex() < reply.Index {
		select {
		case <-ctx.Done():
			return fmt.Errorf("consistent read: waiting for index %d: %w", reply.Index, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// RaftConfiguration returns the raft peer set as this server knows it.
func (s *Server) RaftConfiguration() (*RaftConfiguration, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("read raft configuration: %w", err)
	}
	leaderAddr, leaderID := s.raft.LeaderWithID()
	out := &RaftConfiguration{Index: f.Index()}
	for _, srv := range f.Configuration().Servers {
		out.Servers = append(out.Servers, &RaftServer{
			ID:           string(srv.ID),
			Node:         s.members.nameOf(string(srv.ID)),
			Address:      string(srv.Address),
			Leader:       srv.ID == leaderID && srv.Address == leaderAddr,
			Voter:        srv.Suffrage == raft.Voter,
			RaftProtocol: "3",
		})
	}
	return out, nil
}

// RemoveRaftPeer removes a peer by ID or address, through the leader.
func (s *Server) RemoveRaftPeer(id, address string) error {
	var reply structs.GenericResponse
	return (&OperatorEndpoint{srv: s}).RaftRemovePeer(&RaftPeerArgs{ID: id, Address: address}, &reply)
}
