// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

// Nomad's node pool endpoints, with the paths and JSON of the official
// client's NodePools(): GET/PUT/POST /v1/node/pools, GET and DELETE
// /v1/node/pool/:name, GET /v1/node/pool/:name/nodes and .../jobs.

import (
	"net/http"
	"strings"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/server"
	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// maxNodePoolBody bounds a node pool specification.
const maxNodePoolBody = 1 << 20

// nodePoolRoutes registers the node pool endpoints.
//
// GET /v1/node/pool/{name} cannot be a pattern of its own: Go's mux finds
// it ambiguous with GET /v1/node/{id}/allocations (both match
// /v1/node/pool/allocations) and refuses to register it. It is served by
// the less specific GET /v1/node/{id}/{sub}, which answers only for
// id "pool"; the one casualty is a pool named "allocations", whose GET
// reaches the node handler.
func (h *HTTPServer) nodePoolRoutes() {
	h.handle("GET /v1/node/pools", h.nodePoolsList)
	h.handle("PUT /v1/node/pools", h.nodePoolUpsert)
	h.handle("POST /v1/node/pools", h.nodePoolUpsert)
	h.handle("GET /v1/node/{id}/{sub}", h.nodePoolGet)
	h.handle("DELETE /v1/node/pool/{name}", h.nodePoolDelete)
	h.handle("GET /v1/node/pool/{name}/nodes", h.nodePoolNodes)
	h.handle("GET /v1/node/pool/{name}/jobs", h.nodePoolJobs)
}

func (h *HTTPServer) nodePoolsList(w http.ResponseWriter, r *http.Request) (any, error) {
	var out []*nomadapi.NodePool
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		pools, err := snap.NodePools(q.prefix)
		if err != nil {
			return 0, err
		}
		out = make([]*nomadapi.NodePool, 0, len(pools))
		for _, p := range pools {
			out = append(out, nodePoolToAPI(p))
		}
		return snap.NodePoolsIndex()
	})
	return out, err
}

// nodePoolGet serves GET /v1/node/pool/{name} (see nodePoolRoutes).
func (h *HTTPServer) nodePoolGet(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.PathValue("id") != "pool" {
		return nil, errorf(http.StatusNotFound, "no handler for %s %s", r.Method, r.URL.Path)
	}
	name := r.PathValue("sub")
	var out *nomadapi.NodePool
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		p, err := snap.NodePoolByName(name)
		if err != nil {
			return 0, err
		}
		out = nil
		if p != nil {
			out = nodePoolToAPI(p)
		}
		return snap.NodePoolsIndex()
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, notFound("node pool")
	}
	return out, nil
}

func (h *HTTPServer) nodePoolUpsert(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := h.needServer(); err != nil {
		return nil, err
	}
	var in nomadapi.NodePool
	if err := decodeBody(r, maxNodePoolBody, &in); err != nil {
		return nil, err
	}
	pool := nodePoolFromAPI(&in)
	if err := pool.Validate(); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid node pool: %v", err)
	}
	if structs.IsBuiltinNodePool(pool.Name) {
		return nil, errorf(http.StatusBadRequest, "node pool %q: %v", pool.Name, server.ErrNodePoolBuiltin)
	}
	index, err := h.srv.UpsertNodePools([]*structs.NodePool{pool})
	if err != nil {
		return nil, nodePoolWriteError(err)
	}
	setIndex(w, index)
	return nil, nil
}

func (h *HTTPServer) nodePoolDelete(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := h.needServer(); err != nil {
		return nil, err
	}
	index, err := h.srv.DeleteNodePools([]string{r.PathValue("name")})
	if err != nil {
		return nil, nodePoolWriteError(err)
	}
	setIndex(w, index)
	return nil, nil
}

// nodePoolWriteError maps a refused pool write to its status: an unknown
// pool is 404, a built-in, invalid or in-use one 400. Errors forwarded
// from the leader arrive as text, hence the matching.
func nodePoolWriteError(err error) error {
	msg := err.Error()
	switch {
	case server.IsNodePoolNotFound(err):
		return errorf(http.StatusNotFound, "%s", msg)
	case strings.Contains(msg, server.ErrNodePoolBuiltin.Error()), strings.Contains(msg, "built in"),
		strings.Contains(msg, "is in use by"), strings.Contains(msg, "invalid node pool"):
		return errorf(http.StatusBadRequest, "%s", msg)
	}
	return err
}

func (h *HTTPServer) nodePoolNodes(w http.ResponseWriter, r *http.Request) (any, error) {
	name := r.PathValue("name")
	var out []*structs.NodeListStub
	found := false
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		p, err := snap.NodePoolByName(name)
		if err != nil {
			return 0, err
		}
		found = p != nil
		nodes, err := snap.NodesInPool(name)
		if err != nil {
			return 0, err
		}
		out = make([]*structs.NodeListStub, 0, len(nodes))
		for _, n := range nodes {
			if strings.HasPrefix(n.ID, q.prefix) {
				out = append(out, n.Stub())
			}
		}
		return snap.NodePoolsIndex()
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("node pool")
	}
	return out, nil
}

func (h *HTTPServer) nodePoolJobs(w http.ResponseWriter, r *http.Request) (any, error) {
	name := r.PathValue("name")
	var out []*structs.JobListStub
	found := false
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		p, err := snap.NodePoolByName(name)
		if err != nil {
			return 0, err
		}
		found = p != nil
		jobs, err := snap.JobsInPool(q.namespace, name)
		if err != nil {
			return 0, err
		}
		out = make([]*structs.JobListStub, 0, len(jobs))
		for _, j := range jobs {
			if !strings.HasPrefix(j.ID, q.prefix) {
				continue
			}
			job, sum, err := withStatus(snap, j)
			if err != nil {
				return 0, err
			}
			out = append(out, job.Stub(sum))
		}
		return snap.Index(state.TableNodePools, state.TableNodes, state.TableJobs, state.TableAllocs, state.TableEvals)
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("node pool")
	}
	return out, nil
}

func nodePoolToAPI(p *structs.NodePool) *nomadapi.NodePool {
	out := &nomadapi.NodePool{
		Name:        p.Name,
		Description: p.Description,
		Meta:        p.Meta,
		CreateIndex: p.CreateIndex,
		ModifyIndex: p.ModifyIndex,
	}
	if sc := p.SchedulerConfiguration; sc != nil {
		out.SchedulerConfiguration = &nomadapi.NodePoolSchedulerConfiguration{
			SchedulerAlgorithm:            nomadapi.SchedulerAlgorithm(sc.SchedulerAlgorithm),
			MemoryOversubscriptionEnabled: sc.MemoryOversubscriptionEnabled,
		}
	}
	return out
}

func nodePoolFromAPI(p *nomadapi.NodePool) *structs.NodePool {
	out := &structs.NodePool{Name: p.Name, Description: p.Description, Meta: p.Meta}
	if sc := p.SchedulerConfiguration; sc != nil {
		out.SchedulerConfiguration = &structs.NodePoolSchedulerConfiguration{
			SchedulerAlgorithm:            string(sc.SchedulerAlgorithm),
			MemoryOversubscriptionEnabled: sc.MemoryOversubscriptionEnabled,
		}
	}
	return out
}
