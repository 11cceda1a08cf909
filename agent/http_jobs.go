// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/droverhq/drover/agent/jobconv"
	"github.com/droverhq/drover/api"
	"github.com/droverhq/drover/server"
	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// maxJobBody bounds a job registration body.
const maxJobBody = 32 << 20

func (h *HTTPServer) jobsList(w http.ResponseWriter, r *http.Request) (any, error) {
	var out []*structs.JobListStub
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		jobs, err := snap.Jobs(q.namespace, q.prefix)
		if err != nil {
			return 0, err
		}
		out = make([]*structs.JobListStub, 0, len(jobs))
		for _, j := range jobs {
			job, sum, err := withStatus(snap, j)
			if err != nil {
				return 0, err
			}
			out = append(out, job.Stub(sum))
		}
		return snap.Index(state.TableJobs, state.TableAllocs, state.TableEvals)
	})
	return out, err
}

// withStatus returns a copy of job with its derived status, and its summary.
func withStatus(snap *state.Snapshot, j *structs.Job) (*structs.Job, *structs.JobSummary, error) {
	status, err := snap.JobStatus(j)
	if err != nil {
		return nil, nil, err
	}
	sum, err := snap.JobSummary(j)
	if err != nil {
		return nil, nil, err
	}
	if j.IsPeriodic() || j.IsParameterized() {
		if sum.Children, err = server.ChildrenSummary(snap, j); err != nil {
			return nil, nil, err
		}
	}
	c := *j
	c.Status = status
	return &c, sum, nil
}

func (h *HTTPServer) jobsRegister(w http.ResponseWriter, r *http.Request) (any, error) {
	if h.srv == nil {
		return nil, errorf(http.StatusNotImplemented, "this agent runs no server; register jobs with a server agent")
	}
	var req api.JobRegisterRequest
	if err := readJobRequest(r, "job registration", &req); err != nil {
		return nil, err
	}
	job, err := runnableJob(r, req.Job, "job registration")
	if err != nil {
		return nil, err
	}
	var evalID string
	var index uint64
	if req.EnforceIndex {
		// The leader checks the index under the job's write lock.
		evalID, index, err = h.srv.RegisterJobAtIndex(job, req.JobModifyIndex)
	} else {
		evalID, index, err = h.srv.RegisterJob(job)
	}
	if server.IsEnforceIndexError(err) || server.IsJobRefusedError(err) {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	if err != nil {
		return nil, err
	}
	stored, err := h.srv.State().Snapshot().JobByID(job.Namespace, job.ID)
	if err != nil {
		return nil, err
	}
	resp := &api.JobRegisterResponse{EvalID: evalID, EvalCreateIndex: index, Warnings: h.srv.JobWarnings(job)}
	if stored != nil {
		resp.JobModifyIndex = stored.JobModifyIndex
	}
	resp.LastIndex = index
	setIndex(w, index)
	return resp, nil
}

func (h *HTTPServer) jobGet(w http.ResponseWriter, r *http.Request) (any, error) {
	var out *structs.Job
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		j, err := snap.JobByID(q.namespace, r.PathValue("id"))
		if err != nil {
			return 0, err
		}
		if j == nil {
			out = nil
			return snap.Index(state.TableJobs)
		}
		out, _, err = withStatus(snap, j)
		if err != nil {
			return 0, err
		}
		return snap.Index(state.TableJobs, state.TableAllocs, state.TableEvals)
	})
	if err == nil && out == nil {
		return nil, notFound("job")
	}
	return out, err
}

func (h *HTTPServer) jobDeregister(w http.ResponseWriter, r *http.Request) (any, error) {
	if h.srv == nil {
		return nil, errorf(http.StatusNotImplemented, "this agent runs no server; stop jobs with a server agent")
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	purge := false
	if v := r.URL.Query().Get("purge"); v != "" {
		if purge, err = strconv.ParseBool(v); err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid purge %q: %v", v, err)
		}
	}
	id := r.PathValue("id")
	job, err := h.srv.State().Snapshot().JobByID(q.namespace, id)
	if err != nil {
		return nil, err
	}
	if job == nil {
		return nil, notFound("job")
	}
	evalID, index, err := h.srv.DeregisterJob(q.namespace, id, purge)
	if err != nil {
		return nil, err
	}
	setIndex(w, index)
	return &api.JobDeregisterResponse{
		EvalID:          evalID,
		EvalCreateIndex: index,
		JobModifyIndex:  index,
		QueryMeta:       api.QueryMeta{LastIndex: index},
	}, nil
}

func (h *HTTPServer) jobAllocations(w http.ResponseWriter, r *http.Request) (any, error) {
	all, _ := strconv.ParseBool(r.URL.Query().Get("all"))
	var out []*structs.AllocListStub
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		allocs, err := snap.AllocsByJob(q.namespace, r.PathValue("id"))
		if err != nil {
			return 0, err
		}
		job, err := snap.JobByID(q.namespace, r.PathValue("id"))
		if err != nil {
			return 0, err
		}
		out = make([]*structs.AllocListStub, 0, len(allocs))
		for _, a := range allocs {
			// Without ?all, allocations of an earlier incarnation of a
			// purged and re-registered job are left out, as Nomad does.
			if !all && job != nil && a.Job != nil && a.Job.CreateIndex != job.CreateIndex {
				continue
			}
			out = append(out, a.Stub())
		}
		return snap.Index(state.TableAllocs)
	})
	return out, err
}

func (h *HTTPServer) jobSummary(w http.ResponseWriter, r *http.Request) (any, error) {
	var out *structs.JobSummary
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		j, err := snap.JobByID(q.namespace, r.PathValue("id"))
		if err != nil {
			return 0, err
		}
		out = nil
		if j == nil {
			return snap.Index(state.TableJobs)
		}
		if out, err = snap.JobSummary(j); err != nil {
			return 0, err
		}
		if j.IsPeriodic() || j.IsParameterized() {
			if out.Children, err = server.ChildrenSummary(snap, j); err != nil {
				return 0, err
			}
		}
		return snap.Index(state.TableJobs, state.TableAllocs, state.TableEvals)
	})
	if err == nil && out == nil {
		return nil, notFound("job")
	}
	return out, err
}

// readJobRequest reads a job request body (registration, plan) of at most
// maxJobBody bytes into out; what names the request in errors.
func readJobRequest(r *http.Request, what string, out any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJobBody+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "read request body: %v", err)
	}
	if len(body) > maxJobBody {
		return errorf(http.StatusRequestEntityTooLarge, "%s is larger than %d bytes", what, maxJobBody)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return errorf(http.StatusBadRequest, "decode %s: %v", what, err)
	}
	return nil
}

// runnableJob turns a request's job into the server's model, checked as a
// registration checks it: it must match the URL's job ID (when the path
// has one), convert, canonicalise and validate, and ask for nothing the
// runtime cannot run (refused rather than run with less than asked).
func runnableJob(r *http.Request, in *api.Job, what string) (*structs.Job, error) {
	if in == nil {
		return nil, errorf(http.StatusBadRequest, "%s has no Job", what)
	}
	if id := r.PathValue("id"); id != "" && (in.ID == nil || *in.ID != id) {
		return nil, errorf(http.StatusBadRequest, "job ID does not match the URL (%q)", id)
	}
	if ns := r.URL.Query().Get("namespace"); ns != "" && in.Namespace == nil {
		in.Namespace = &ns
	}
	job, err := jobconv.APIJobToStructs(in)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	job.Canonicalize()
	if err := job.Validate(); err != nil {
		return nil, errorf(http.StatusBadRequest, "job validation failed:\n%v", err)
	}
	if missing := job.UnsupportedFeatures(); len(missing) > 0 {
		return nil, errorf(http.StatusBadRequest, "Drover cannot run these parts of the job yet:\n* %s", strings.Join(missing, "\n* "))
	}
	return job, nil
}
