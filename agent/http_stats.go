// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"net/http"

	"github.com/droverhq/drover/structs"
)

// localNode is what the host stats need of this agent's client: which node
// it is.
type localNode interface {
	NodeID() string
}

// hostStats serves GET /v1/client/stats[?node_id=]: the host's memory,
// per-core CPU, disks and uptime (Nomad's HostStats). Without node_id, or
// with this agent's own node, the local client measures; any other node is
// asked through the servers, like an allocation operation.
func (h *HTTPServer) hostStats(_ http.ResponseWriter, r *http.Request) (any, error) {
	nodeID := r.URL.Query().Get("node_id")
	if ops, ok := h.allocs.(AllocOperator); ok {
		if self, ok := h.allocs.(localNode); ok && (nodeID == "" || nodeID == self.NodeID()) {
			out, err := ops.HostStats(r.Context())
			return out, allocOpError(err)
		}
	}
	if nodeID == "" {
		return nil, errorf(http.StatusBadRequest, "missing node_id: this agent runs no client")
	}
	if h.srv == nil {
		return nil, errorf(http.StatusNotFound, "unknown node %q: this agent runs no server to relay to it", nodeID)
	}
	node, err := h.srv.State().Snapshot().NodeByID(nodeID)
	if err != nil {
		return nil, err
	}
	if node == nil {
		return nil, notFound("node")
	}
	return h.remoteAllocOp(r.Context(), structs.ClientOpHostStats, node.ID, "", &structs.ClientOpRequest{})
}
