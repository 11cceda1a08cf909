// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
)

// TestDevAgentPorts runs a job with a dynamic and a static port on a dev
// agent: the node reports its network and port settings, the allocation
// records its ports, the task sees them in its environment and in its
// interpolated config, serves on the dynamic port when python3 is
// installed, and a second job asking for the same static port is not
// placed.
func TestDevAgentPorts(t *testing.T) {
	static := freePorts(t, 1)[0]
	a := startDevAgentWithClient(t, `
  min_dynamic_port = 23000
  max_dynamic_port = 23010
  reserved {
    reserved_ports = "23000-23004"
  }`)
	nc, err := nomad.NewClient(&nomad.Config{Address: a.addr})
	if err != nil {
		t.Fatal(err)
	}

	nodes, _, err := nc.Nodes().List(nil)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes: %v %v", nodes, err)
	}
	node, _, err := nc.Nodes().Info(nodes[0].ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	nr := node.NodeResources
	if nr == nil || len(nr.Networks) == 0 || nr.Networks[0].IP != "127.0.0.1" || nr.MinDynamicPort != 23000 || nr.MaxDynamicPort != 23010 {
		t.Fatalf("node resources = %+v", nr)
	}
	if r := node.ReservedResources; r == nil || r.Networks.ReservedHostPorts != "23000-23004" {
		t.Fatalf("reserved resources = %+v", node.ReservedResources)
	}

	_, pyErr := exec.LookPath("python3")
	serve := "sleep 300"
	if pyErr == nil {
		serve = "exec python3 -m http.server $NOMAD_PORT_http --bind 127.0.0.1"
	}
	job := portsJob("ports", static, `echo "env=$NOMAD_PORT_http addr=$NOMAD_ADDR_http host=$NOMAD_HOST_PORT_http static=$NOMAD_PORT_db interp=${NOMAD_PORT_http}"; `+serve)
	if _, _, err := nc.Jobs().Register(job, nil); err != nil {
		t.Fatalf("register: %v", err)
	}

	var alloc *nomad.Allocation
	a.waitFor(30*time.Second, "running allocation", func() (bool, error) {
		stubs, _, err := nc.Jobs().Allocations("ports", false, nil)
		if err != nil || len(stubs) == 0 {
			return false, nil
		}
		if stubs[0].ClientStatus == "failed" {
			return false, fmt.Errorf("allocation %s failed", stubs[0].ID)
		}
		if stubs[0].ClientStatus != "running" {
			return false, nil
		}
		alloc, _, err = nc.Allocations().Info(stubs[0].ID, nil)
		return err == nil, err
	})

	ar := alloc.AllocatedResources
	if ar == nil || len(ar.Shared.Networks) != 1 || ar.Shared.Networks[0].IP != "127.0.0.1" {
		t.Fatalf("allocated networks = %+v", ar)
	}
	ports := map[string]nomad.PortMapping{}
	for _, p := range ar.Shared.Ports {
		ports[p.Label] = p
	}
	http_, db := ports["http"], ports["db"]
	if http_.Value < 23005 || http_.Value > 23010 || http_.HostIP != "127.0.0.1" {
		t.Fatalf("http port = %+v: want one of 23005-23010 (23000-23004 are reserved)", http_)
	}
	if db.Value != static {
		t.Fatalf("db port = %+v, want %d", db, static)
	}

	want := fmt.Sprintf("env=%d addr=127.0.0.1:%d host=%d static=%d interp=%d", http_.Value, http_.Value, http_.Value, static, http_.Value)
	a.waitFor(20*time.Second, "port variables in the task's stdout", func() (bool, error) {
		resp, err := http.Get(a.addr + "/v1/client/fs/logs/" + alloc.ID + "?task=server&type=stdout&plain=true")
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), want), nil
	})

	if pyErr == nil {
		url := "http://127.0.0.1:" + strconv.Itoa(http_.Value) + "/"
		a.waitFor(20*time.Second, "task serving on its dynamic port", func() (bool, error) {
			resp, err := http.Get(url)
			if err != nil {
				return false, nil
			}
			resp.Body.Close()
			return resp.StatusCode == 200, nil
		})
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, code := a.cli(ctx, "alloc", "status", alloc.ID[:8])
	if code != 0 {
		t.Fatalf("alloc status exited %d:\n%s", code, out)
	}

	// The same static port cannot be given twice on the node.
	clash := portsJob("clash", static, "sleep 300")
	resp, _, err := nc.Jobs().Register(clash, nil)
	if err != nil {
		t.Fatalf("register clash: %v", err)
	}
	a.waitFor(20*time.Second, "clash evaluation to report the collision", func() (bool, error) {
		ev, _, err := nc.Evaluations().Info(resp.EvalID, nil)
		if err != nil || ev.Status != "complete" {
			return false, nil
		}
		m := ev.FailedTGAllocs["web"]
		if m == nil {
			return false, fmt.Errorf("clash placed: %+v", ev)
		}
		return m.DimensionExhausted["network: reserved port collision"] == 1, nil
	})
}

// portsJob is a raw_exec service with a dynamic port "http" and a static
// port "db", whose task runs script in a shell.
func portsJob(id string, static int, script string) *nomad.Job {
	job := nomad.NewServiceJob(id, id, "global", 50)
	job.Datacenters = []string{"*"}
	tg := nomad.NewTaskGroup("web", 1)
	tg.Networks = []*nomad.NetworkResource{{
		Mode:          "host",
		DynamicPorts:  []nomad.Port{{Label: "http"}},
		ReservedPorts: []nomad.Port{{Label: "db", Value: static}},
	}}
	task := nomad.NewTask("server", "raw_exec")
	task.Config = map[string]any{"command": "/bin/sh", "args": []string{"-c", script}}
	cpu, mem := 50, 64
	task.Resources = &nomad.Resources{CPU: &cpu, MemoryMB: &mem}
	tg.Tasks = []*nomad.Task{task}
	job.TaskGroups = []*nomad.TaskGroup{tg}
	return job
}
