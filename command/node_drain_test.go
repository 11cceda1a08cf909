// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/api"
)

func drainAgent(t *testing.T) *fakeAgent {
	agent := newFakeAgent(t)
	agent.reply("GET /v1/nodes", 5, []api.NodeListStub{{ID: nodeID}})
	agent.reply("PUT /v1/node/{id}/drain", 9, map[string]any{"NodeModifyIndex": 9})
	agent.reply("PUT /v1/node/{id}/eligibility", 9, map[string]any{"NodeModifyIndex": 9})
	return agent
}

// drainBody decodes the drain request the CLI sent.
func drainBody(t *testing.T, agent *fakeAgent) map[string]any {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(agent.body("PUT /v1/node/"+nodeID+"/drain"), &body); err != nil {
		t.Fatalf("drain request body: %v", err)
	}
	return body
}

func TestNodeEligibility(t *testing.T) {
	cases := []struct {
		flag, want, out string
	}{
		{"-disable", "ineligible", `Node "` + nodeID + `" scheduling eligibility set: ineligible for scheduling` + "\n"},
		{"-enable", "eligible", `Node "` + nodeID + `" scheduling eligibility set: eligible for scheduling` + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.flag, func(t *testing.T) {
			agent := drainAgent(t)
			runCLI(t, agent, "", "node", "eligibility", tc.flag, "3508").check(t, ExitOK, tc.out, "")
			agent.wantRequests("GET /v1/nodes?prefix=3508", "PUT /v1/node/"+nodeID+"/eligibility")
			var body map[string]any
			_ = json.Unmarshal(agent.body("PUT /v1/node/"+nodeID+"/eligibility"), &body)
			if body["Eligibility"] != tc.want || body["NodeID"] != nodeID {
				t.Fatalf("body = %v", body)
			}
		})
	}
}

func TestNodeEligibilityUsage(t *testing.T) {
	r := runCLI(t, nil, "", "node", "eligibility", "-enable", "-disable", "3508")
	if r.code != ExitError || r.stderr == "" {
		t.Fatalf("both flags accepted: %+v", r)
	}
}

func TestNodeDrainEnableDetach(t *testing.T) {
	agent := drainAgent(t)
	runCLI(t, agent, "", "node", "drain", "-enable", "-yes", "-detach", "-deadline", "30m", "-ignore-system", "-m", "upgrade", "3508").
		check(t, ExitOK, `Node "`+nodeID+`" drain strategy set`+"\n", "")
	agent.wantRequests("GET /v1/nodes?prefix=3508", "PUT /v1/node/"+nodeID+"/drain")
	body := drainBody(t, agent)
	spec, _ := body["DrainSpec"].(map[string]any)
	if spec == nil || spec["Deadline"] != float64(30*time.Minute) || spec["IgnoreSystemJobs"] != true {
		t.Fatalf("DrainSpec = %v", body["DrainSpec"])
	}
	if meta, _ := body["Meta"].(map[string]any); meta["message"] != "upgrade" {
		t.Fatalf("Meta = %v", body["Meta"])
	}
}

func TestNodeDrainDeadlines(t *testing.T) {
	cases := []struct {
		flags []string
		want  time.Duration
	}{
		{nil, time.Hour},
		{[]string{"-force"}, -time.Second},
		{[]string{"-no-deadline"}, 0},
	}
	for _, tc := range cases {
		agent := drainAgent(t)
		args := append(append([]string{"node", "drain", "-enable", "-yes", "-detach"}, tc.flags...), "3508")
		if r := runCLI(t, agent, "", args...); r.code != ExitOK {
			t.Fatalf("%v: exit %d: %s", tc.flags, r.code, r.stderr)
		}
		spec, _ := drainBody(t, agent)["DrainSpec"].(map[string]any)
		if spec == nil || spec["Deadline"] != float64(tc.want) {
			t.Errorf("%v: DrainSpec = %v, want deadline %s", tc.flags, spec, tc.want)
		}
	}
}

func TestNodeDrainDisable(t *testing.T) {
	for _, keep := range []bool{false, true} {
		agent := drainAgent(t)
		args := []string{"node", "drain", "-disable"}
		if keep {
			args = append(args, "-keep-ineligible")
		}
		runCLI(t, agent, "", append(args, "3508")...).check(t, ExitOK, `Node "`+nodeID+`" drain strategy unset`+"\n", "")
		body := drainBody(t, agent)
		if body["DrainSpec"] != nil || body["MarkEligible"] != !keep {
			t.Errorf("keep-ineligible=%v: body = %v", keep, body)
		}
	}
}

func TestNodeDrainDeclined(t *testing.T) {
	agent := drainAgent(t)
	runCLI(t, agent, "n\n", "node", "drain", "-enable", "3508").check(t, ExitOK,
		`Are you sure you want to enable drain mode for node "`+nodeID+`"? [y/N] Canceling drain toggle`+"\n", "")
	agent.wantRequests("GET /v1/nodes?prefix=3508")
}

func TestNodeDrainMonitor(t *testing.T) {
	agent := drainAgent(t)
	agent.reply("GET /v1/node/{id}", 10, map[string]any{"ID": nodeID, "Status": "ready", "SchedulingEligibility": "ineligible"})
	agent.reply("GET /v1/node/{id}/allocations", 10, []any{})
	r := runCLI(t, agent, "y\n", "node", "drain", "-enable", "3508")
	want := `Are you sure you want to enable drain mode for node "` + nodeID + `"? [y/N] ` +
		`2024-05-01T12:00:00Z: Ctrl-C to stop monitoring: will not cancel the node drain
2024-05-01T12:00:00Z: Node "` + nodeID + `" drain strategy set
`
	if r.code != ExitOK || len(r.stdout) < len(want) || r.stdout[:len(want)] != want {
		t.Fatalf("exit %d, stdout:\n%s\nwant prefix:\n%s", r.code, r.stdout, want)
	}
	for _, line := range []string{
		`2024-05-01T12:00:00Z: Drain complete for node ` + nodeID + "\n",
		`2024-05-01T12:00:00Z: All allocations on node "` + nodeID + `" have stopped` + "\n",
	} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, r.stdout)
		}
	}
}

func TestNodeDrainUsage(t *testing.T) {
	cases := [][]string{
		{"node", "drain", "3508"},
		{"node", "drain", "-enable", "-disable", "3508"},
		{"node", "drain", "-enable", "-force", "-no-deadline", "3508"},
		{"node", "drain", "-enable", "-force", "-deadline", "1m", "3508"},
		{"node", "drain", "-monitor", "-enable", "3508"},
		{"node", "drain", "-enable", "-keep-ineligible", "3508"},
		{"node", "drain", "-enable"},
	}
	for _, args := range cases {
		if r := runCLI(t, nil, "", args...); r.code != ExitError || r.stderr == "" {
			t.Errorf("%v accepted: %+v", args, r)
		}
	}
}
