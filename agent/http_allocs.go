// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"net/http"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

func (h *HTTPServer) allocsList(w http.ResponseWriter, r *http.Request) (any, error) {
	var out []*structs.AllocListStub
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		allocs, err := snap.Allocs(q.namespace, q.prefix)
		if err != nil {
			return 0, err
		}
		out = make([]*structs.AllocListStub, 0, len(allocs))
		for _, a := range allocs {
			out = append(out, a.Stub())
		}
		return snap.Index(state.TableAllocs)
	})
	return out, err
}

func (h *HTTPServer) allocGet(w http.ResponseWriter, r *http.Request) (any, error) {
	var out *structs.Allocation
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		a, err := snap.AllocByID(r.PathValue("id"))
		if err != nil {
			return 0, err
		}
		out = a
		if a == nil {
			return snap.Index(state.TableAllocs)
		}
		return a.ModifyIndex, nil
	})
	if err == nil && out == nil {
		return nil, notFound("alloc")
	}
	return out, err
}

func (h *HTTPServer) evalsList(w http.ResponseWriter, r *http.Request) (any, error) {
	var out []*structs.Evaluation
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		evals, err := snap.Evals(q.namespace, q.prefix)
		if err != nil {
			return 0, err
		}
		out = append(make([]*structs.Evaluation, 0, len(evals)), evals...)
		return snap.Index(state.TableEvals)
	})
	return out, err
}

func (h *HTTPServer) evalGet(w http.ResponseWriter, r *http.Request) (any, error) {
	var out *structs.Evaluation
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		e, err := snap.EvalByID(r.PathValue("id"))
		if err != nil {
			return 0, err
		}
		out = e
		if e == nil {
			return snap.Index(state.TableEvals)
		}
		return e.ModifyIndex, nil
	})
	if err == nil && out == nil {
		return nil, notFound("eval")
	}
	return out, err
}

func (h *HTTPServer) evalAllocations(w http.ResponseWriter, r *http.Request) (any, error) {
	var out []*structs.AllocListStub
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		allocs, err := snap.AllocsByEval(r.PathValue("id"))
		if err != nil {
			return 0, err
		}
		out = make([]*structs.AllocListStub, 0, len(allocs))
		for _, a := range allocs {
			out = append(out, a.Stub())
		}
		return snap.Index(state.TableAllocs)
	})
	return out, err
}

func (h *HTTPServer) nodesList(w http.ResponseWriter, r *http.Request) (any, error) {
	var out []*structs.NodeListStub
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		nodes, err := snap.NodesByPrefix(q.prefix)
		if err != nil {
			return 0, err
		}
		out = make([]*structs.NodeListStub, 0, len(nodes))
		for _, n := range nodes {
			out = append(out, n.Stub())
		}
		return snap.Index(state.TableNodes)
	})
	return out, err
}

func (h *HTTPServer) nodeGet(w http.ResponseWriter, r *http.Request) (any, error) {
	var out *structs.Node
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		n, err := snap.NodeByID(r.PathValue("id"))
		if err != nil {
			return 0, err
		}
		out = n
		if n == nil {
			return snap.Index(state.TableNodes)
		}
		return n.ModifyIndex, nil
	})
	if err == nil && out == nil {
		return nil, notFound("node")
	}
	return out, err
}

func (h *HTTPServer) nodeAllocations(w http.ResponseWriter, r *http.Request) (any, error) {
	var out []*structs.Allocation
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		allocs, err := snap.AllocsByNode(r.PathValue("id"))
		if err != nil {
			return 0, err
		}
		out = append(make([]*structs.Allocation, 0, len(allocs)), allocs...)
		return snap.Index(state.TableAllocs)
	})
	return out, err
}
