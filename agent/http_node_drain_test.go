// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"net/http"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/structs"
)

// The official client's UpdateDrain and ToggleEligibility work unchanged,
// and GET /v1/node/:id shows the drain as Nomad does.
func TestNodeDrainAndEligibilityWithOfficialClient(t *testing.T) {
	a, base := testServerAgent(t)
	node := &structs.Node{
		ID: structs.GenerateUUID(), SecretID: structs.GenerateUUID(), Name: "n1", Datacenter: "dc1",
		NodeResources: &structs.NodeResources{Cpu: structs.NodeCpuResources{CpuShares: 1000}, Memory: structs.NodeMemoryResources{MemoryMB: 1024}},
	}
	registerNode(t, a, node)
	client := officialClient(t, base)
	nodes := client.Nodes()

	if _, err := nodes.ToggleEligibility(node.ID, false, nil); err != nil {
		t.Fatalf("ToggleEligibility: %v", err)
	}
	info, _, err := nodes.Info(node.ID, nil)
	if err != nil || info.SchedulingEligibility != nomad.NodeSchedulingIneligible {
		t.Fatalf("after ToggleEligibility(false): %v %+v", err, info)
	}
	if _, err := nodes.ToggleEligibility(node.ID, true, nil); err != nil {
		t.Fatalf("ToggleEligibility(true): %v", err)
	}

	resp, err := nodes.UpdateDrainOpts(node.ID, &nomad.DrainOptions{
		DrainSpec: &nomad.DrainSpec{Deadline: time.Hour, IgnoreSystemJobs: true},
		Meta:      map[string]string{"message": "kernel upgrade"},
	}, nil)
	if err != nil || resp.NodeModifyIndex == 0 || resp.LastIndex == 0 {
		t.Fatalf("UpdateDrain: %v %+v", err, resp)
	}
	// The node has no allocations: the drainer completes the drain.
	waitFor(t, 10*time.Second, func() bool {
		info, _, err = nodes.Info(node.ID, nil)
		return err == nil && info.LastDrain != nil && info.LastDrain.Status == nomad.DrainStatusComplete
	})
	if info.DrainStrategy != nil || info.Drain || info.SchedulingEligibility != nomad.NodeSchedulingIneligible || info.LastDrain.Meta["message"] != "kernel upgrade" {
		t.Fatalf("after drain: strategy %+v drain %v eligibility %s last %+v", info.DrainStrategy, info.Drain, info.SchedulingEligibility, info.LastDrain)
	}

	// Cancelling a drain with MarkEligible makes the node eligible.
	if _, err := nodes.UpdateDrain(node.ID, nil, true, nil); err != nil {
		t.Fatalf("cancel drain: %v", err)
	}
	info, _, _ = nodes.Info(node.ID, nil)
	if info.SchedulingEligibility != nomad.NodeSchedulingEligible {
		t.Fatalf("eligibility after cancel with MarkEligible = %s", info.SchedulingEligibility)
	}
}

func TestNodeWriteErrors(t *testing.T) {
	_, base := testServerAgent(t)
	cases := []struct {
		path, body string
		code       int
	}{
		{"/v1/node/nope/drain", `{"DrainSpec": {"Deadline": 1000000000}}`, http.StatusNotFound},
		{"/v1/node/nope/eligibility", `{"Eligibility": "eligible"}`, http.StatusNotFound},
		{"/v1/node/nope/eligibility", `{"Eligibility": "sometimes"}`, http.StatusBadRequest},
		{"/v1/node/nope/drain", `{"DrainSpec": `, http.StatusBadRequest},
	}
	for _, tc := range cases {
		r := do(t, "POST", base+tc.path, tc.body)
		if r.code != tc.code {
			t.Errorf("POST %s %s: %d %s, want %d", tc.path, tc.body, r.code, strings.TrimSpace(r.body), tc.code)
		}
	}
}
