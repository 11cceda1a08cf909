// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"net/http"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// listRead serves a blocking list query: fetch reads the objects from the
// snapshot, conv turns each into its wire form, and table's index is the
// response's index.
func listRead[T, W any](h *HTTPServer, w http.ResponseWriter, r *http.Request, table string,
	fetch func(q *queryOptions, snap *state.Snapshot) ([]T, error), conv func(T) W) (any, error) {
	var out []W
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		objs, err := fetch(q, snap)
		if err != nil {
			return 0, err
		}
		out = make([]W, 0, len(objs))
		for _, o := range objs {
			out = append(out, conv(o))
		}
		return snap.Index(table)
	})
	return out, err
}

// getRead serves a blocking read of one object by the {id} in the path; it
// wakes when that object changes and answers 404 "<what> not found" when
// it does not exist.
func getRead[T any](h *HTTPServer, w http.ResponseWriter, r *http.Request, what, table string,
	fetch func(snap *state.Snapshot, id string) (*T, error), modifyIndex func(*T) uint64) (any, error) {
	var out *T
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		o, err := fetch(snap, r.PathValue("id"))
		if err != nil {
			return 0, err
		}
		out = o
		if o == nil {
			return snap.Index(table)
		}
		return modifyIndex(o), nil
	})
	if err == nil && out == nil {
		return nil, notFound(what)
	}
	return out, err
}

func identity[T any](v T) T { return v }

func allocStub(a *structs.Allocation) *structs.AllocListStub { return a.Stub() }

func (h *HTTPServer) allocsList(w http.ResponseWriter, r *http.Request) (any, error) {
	return listRead(h, w, r, state.TableAllocs, func(q *queryOptions, snap *state.Snapshot) ([]*structs.Allocation, error) {
		return snap.Allocs(q.namespace, q.prefix)
	}, allocStub)
}

func (h *HTTPServer) allocGet(w http.ResponseWriter, r *http.Request) (any, error) {
	return getRead(h, w, r, "alloc", state.TableAllocs, (*state.Snapshot).AllocByID,
		func(a *structs.Allocation) uint64 { return a.ModifyIndex })
}

func (h *HTTPServer) evalsList(w http.ResponseWriter, r *http.Request) (any, error) {
	return listRead(h, w, r, state.TableEvals, func(q *queryOptions, snap *state.Snapshot) ([]*structs.Evaluation, error) {
		return snap.Evals(q.namespace, q.prefix)
	}, identity[*structs.Evaluation])
}

func (h *HTTPServer) evalGet(w http.ResponseWriter, r *http.Request) (any, error) {
	return getRead(h, w, r, "eval", state.TableEvals, (*state.Snapshot).EvalByID,
		func(e *structs.Evaluation) uint64 { return e.ModifyIndex })
}

func (h *HTTPServer) evalAllocations(w http.ResponseWriter, r *http.Request) (any, error) {
	return listRead(h, w, r, state.TableAllocs, func(q *queryOptions, snap *state.Snapshot) ([]*structs.Allocation, error) {
		return snap.AllocsByEval(r.PathValue("id"))
	}, allocStub)
}

func (h *HTTPServer) nodesList(w http.ResponseWriter, r *http.Request) (any, error) {
	return listRead(h, w, r, state.TableNodes, func(q *queryOptions, snap *state.Snapshot) ([]*structs.Node, error) {
		return snap.NodesByPrefix(q.prefix)
	}, (*structs.Node).Stub)
}

func (h *HTTPServer) nodeGet(w http.ResponseWriter, r *http.Request) (any, error) {
	return getRead(h, w, r, "node", state.TableNodes, (*state.Snapshot).NodeByID,
		func(n *structs.Node) uint64 { return n.ModifyIndex })
}

func (h *HTTPServer) nodeAllocations(w http.ResponseWriter, r *http.Request) (any, error) {
	return listRead(h, w, r, state.TableAllocs, func(q *queryOptions, snap *state.Snapshot) ([]*structs.Allocation, error) {
		return snap.AllocsByNode(r.PathValue("id"))
	}, identity[*structs.Allocation])
}

func (h *HTTPServer) jobEvaluations(w http.ResponseWriter, r *http.Request) (any, error) {
	return listRead(h, w, r, state.TableEvals, func(q *queryOptions, snap *state.Snapshot) ([]*structs.Evaluation, error) {
		return snap.EvalsByJob(q.namespace, r.PathValue("id"))
	}, identity[*structs.Evaluation])
}
