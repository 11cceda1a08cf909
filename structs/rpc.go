// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import "time"

// The messages clients and servers exchange over RPC. Method names are
// "Node.Register", "Node.UpdateStatus", "Node.GetClientAllocIndexes",
// "Node.GetAllocs" and "Node.UpdateAlloc".

// NodeRegisterRequest registers (or re-registers) a client node.
type NodeRegisterRequest struct {
	Node *Node
}

// NodeUpdateStatusRequest is a client's heartbeat, with its status.
type NodeUpdateStatusRequest struct {
	NodeID   string
	SecretID string
	Status   string
}

// NodeUpdateResponse answers a register or heartbeat.
type NodeUpdateResponse struct {
	// HeartbeatTTL is how long the server waits for the next heartbeat
	// before it marks the node down.
	HeartbeatTTL time.Duration
	Index        uint64
	// LeaderRPCAddr and Servers help the client find the cluster.
	LeaderRPCAddr string
	Servers       []string
}

// NodeAllocsRequest asks for the allocations of a node, blocking until the
// state index passes MinIndex or MaxWait elapses.
type NodeAllocsRequest struct {
	NodeID   string
	SecretID string
	MinIndex uint64
	MaxWait  time.Duration
}

// NodeAllocsResponse carries the node's allocations with their jobs: what
// the client's watcher hands on once it has pulled the changed ones.
type NodeAllocsResponse struct {
	Allocs []*Allocation
	Index  uint64
}

// AllocUpdateRequest carries client-side status of allocations: only ID,
// ClientStatus, ClientDescription and TaskStates are read.
type AllocUpdateRequest struct {
	NodeID   string
	SecretID string
	Allocs   []*Allocation
}

// GenericResponse is an acknowledgement with the index of the write.
type GenericResponse struct {
	Index uint64
}

// Streams the servers open to a client over its multiplexed connection, to
// reach what only the client has (log files today; fs, stats and exec
// later). The server writes a ClientStreamRequest; the client answers
// with a ClientStreamHeader, then the body.

// Client stream methods.
const (
	ClientStreamLogs = "FS.Logs"
)

// ClientStreamRequest asks a client for a stream.
type ClientStreamRequest struct {
	Method  string
	AllocID string
	Task    string
	LogType string
	Origin  string
	Offset  int64
	Follow  bool
	Plain   bool
}

// ClientStreamHeader answers a ClientStreamRequest: an empty Error means
// the body follows; Code is the HTTP status the error maps to.
type ClientStreamHeader struct {
	Error string
	Code  int
}

// ClientHello is the first message of a client's multiplexed session: it
// tells the server which node the session belongs to.
type ClientHello struct {
	NodeID   string
	SecretID string
}
