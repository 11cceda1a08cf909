// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// Operations the servers relay to a client on behalf of an HTTP caller
// (`alloc signal`). They ride the client stream: the server writes a
// ClientStreamRequest whose Method names the operation and AllocID the
// allocation, then a ClientOpRequest; the client answers with one
// ClientStreamHeader, whose empty Error means the operation succeeded.

// Client operation methods.
const (
	ClientOpAllocSignal = "Alloc.Signal"
)

// TaskSignaling is Nomad's event type for a signal sent to a task on
// request.
const TaskSignaling = "Signaling"

// ClientOpRequest is the body of a client operation: the task ("" for
// every running task) and, for a signal, its name.
type ClientOpRequest struct {
	Task   string
	Signal string
}
