// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"errors"
	"strings"

	"github.com/droverhq/drover/structs"
)

// Servers is the client's view of the control plane. The client follows
// its allocations with the pull protocol (AllocPuller), the only one it
// speaks.
type Servers interface {
	Register(ctx context.Context, req *structs.NodeRegisterRequest) (*structs.NodeUpdateResponse, error)
	UpdateStatus(ctx context.Context, req *structs.NodeUpdateStatusRequest) (*structs.NodeUpdateResponse, error)
	UpdateAllocs(ctx context.Context, req *structs.AllocUpdateRequest) (*structs.GenericResponse, error)
	AllocPuller
}

// AllocPuller is the pull protocol of allocations: the blocking query
// returns only the IDs and AllocModifyIndex of the node's allocations
// ("Node.GetClientAllocIndexes", blocking until they change past
// req.MinIndex or req.MaxWait passes) and the client fetches the changed
// ones ("Node.GetAllocs"), so a change to one allocation does not resend
// every allocation of the node with its job.
type AllocPuller interface {
	GetClientAllocIndexes(ctx context.Context, req *structs.NodeAllocsRequest) (*structs.NodeClientAllocsResponse, error)
	GetAllocs(ctx context.Context, req *structs.AllocsGetRequest) (*structs.AllocsGetResponse, error)
}

// ErrUnknownNode is what a Servers implementation returns (wrapped, or as
// text over RPC) when the node is not registered, e.g. after the servers
// lost their state or garbage collected a node that was down. The client
// answers it by registering again.
var ErrUnknownNode = errors.New("node not found")

// isUnknownNode recognises ErrUnknownNode, also when it crossed an RPC
// boundary and only its text survived.
func isUnknownNode(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnknownNode) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "node not found") || strings.Contains(msg, "unknown node")
}
