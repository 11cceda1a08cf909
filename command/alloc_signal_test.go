// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/droverhq/drover/api"
)

func TestAllocSignal(t *testing.T) {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/allocations", 3, []api.AllocationListStub{{ID: allocID, NodeID: nodeID}})
	agent.reply("GET /v1/allocation/{id}", 3, api.Allocation{ID: allocID, NodeID: nodeID})
	agent.reply("GET /v1/node/{id}", 3, api.Node{ID: nodeID, Status: "ready"})
	agent.reply("PUT /v1/client/allocation/{id}/signal", 4, struct{}{})
	agent.reply("POST /v1/client/allocation/{id}/signal", 4, struct{}{})
	r := runCLI(t, agent, "", "alloc", "signal", "-s", "SIGHUP", allocID[:8], "web")
	r.check(t, ExitOK, "", "")
	var body []byte
	for _, key := range agent.requests() {
		if strings.Contains(key, "/v1/client/allocation/"+allocID+"/signal") {
			body = agent.body(key)
		}
	}
	var req struct{ Task, Signal string }
	if err := json.Unmarshal(body, &req); err != nil || req.Task != "web" || req.Signal != "SIGHUP" {
		t.Fatalf("signal request %s: %v", body, err)
	}

	r = runCLI(t, newFakeAgent(t), "", "alloc", "signal")
	if r.code != ExitError {
		t.Fatalf("no arguments: exit %d", r.code)
	}
}
