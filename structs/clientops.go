// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// Operations the servers relay to a client on behalf of an HTTP caller
// (`alloc signal`, `alloc restart`, `alloc status -stats`, `node status
// -stats`). They ride the client stream: the server writes a
// ClientStreamRequest whose Method names the operation and AllocID the
// allocation ("" for an operation on the node), then a ClientOpRequest;
// the client answers with one ClientStreamHeader, whose empty Error means
// the operation succeeded. An operation that returns data (ClientOpHasBody)
// follows a successful header with its result, msgpack encoded.

// Client operation methods.
const (
	ClientOpAllocSignal  = "Alloc.Signal"
	ClientOpAllocRestart = "Alloc.Restart"
	ClientOpAllocStats   = "Alloc.Stats"
	ClientOpHostStats    = "Client.Stats"
)

// ClientOpHasBody reports whether the client answers op with a result
// after a successful header.
func ClientOpHasBody(op string) bool {
	return op == ClientOpAllocStats || op == ClientOpHostStats
}

// ClientOpOnNode reports whether op is about the node rather than one of
// its allocations.
func ClientOpOnNode(op string) bool { return op == ClientOpHostStats }

// TaskSignaling is Nomad's event type for a signal sent to a task on
// request.
const TaskSignaling = "Signaling"

// ClientOpRequest is the body of a client operation: the task ("" for
// every running task), for a signal its name, and for a restart whether
// every task, not only the running ones, restarts.
type ClientOpRequest struct {
	Task     string
	Signal   string
	AllTasks bool
}
