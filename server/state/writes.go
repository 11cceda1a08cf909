// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/droverhq/drover/structs"
)

// The write methods below are called only by the FSM, with the raft index
// of the entry being applied. They never read clocks: times come in the
// request.

// UpsertJob stores a job. A job whose specification changed gets a new
// Version and JobModifyIndex; re-submitting the same job keeps them.
func (s *StateStore) UpsertJob(index uint64, job *structs.Job, eval *structs.Evaluation) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		tables := []string{tableJobs}
		if err := upsertJobTxn(txn, index, job); err != nil {
			return nil, err
		}
		if eval != nil {
			if err := upsertEvalTxn(txn, index, eval); err != nil {
				return nil, err
			}
			tables = append(tables, tableEvals)
		}
		return tables, nil
	})
}

func upsertJobTxn(txn *writeTxn, index uint64, job *structs.Job) error {
	job = job.Copy()
	existing, err := txn.First(tableJobs, "id", job.Namespace, job.ID)
	if err != nil {
		return fmt.Errorf("read job %q: %w", job.ID, err)
	}
	job.ModifyIndex = index
	if existing == nil {
		job.CreateIndex = index
		job.JobModifyIndex = index
		job.Version = 0
	} else {
		old := existing.(*structs.Job)
		job.CreateIndex = old.CreateIndex
		if specEqual(old, job) {
			job.Version = old.Version
			job.JobModifyIndex = old.JobModifyIndex
		} else {
			job.Version = old.Version + 1
			job.JobModifyIndex = index
		}
	}
	if job.Status == "" {
		job.Status = structs.JobStatusPending
	}
	if err := txn.Insert(tableJobs, job); err != nil {
		return fmt.Errorf("insert job %q: %w", job.ID, err)
	}
	return nil
}

// specEqual reports whether two versions of a job ask for the same thing,
// ignoring bookkeeping fields set by the servers.
func specEqual(a, b *structs.Job) bool {
	strip := func(j *structs.Job) *structs.Job {
		c := j.Copy()
		c.Status, c.StatusDescription = "", ""
		c.Version, c.SubmitTime, c.Stable = 0, 0, false
		c.CreateIndex, c.ModifyIndex, c.JobModifyIndex = 0, 0, 0
		return c
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

// DeregisterJob stops a job (marks it Stop) or, with purge, deletes it.
// Its allocations are left to the scheduler, which eval stops them.
func (s *StateStore) DeregisterJob(index uint64, req *structs.JobDeregisterRequest) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		tables := []string{tableJobs}
		existing, err := txn.First(tableJobs, "id", req.Namespace, req.JobID)
		if err != nil {
			return nil, fmt.Errorf("read job %q: %w", req.JobID, err)
		}
		if existing != nil {
			if req.Purge {
				if err := txn.Delete(tableJobs, existing); err != nil {
					return nil, fmt.Errorf("delete job %q: %w", req.JobID, err)
				}
			} else {
				job := existing.(*structs.Job).Copy()
				if !job.Stop {
					job.Stop = true
					job.Version++
					job.JobModifyIndex = index
					job.SubmitTime = req.SubmitTime
				}
				job.ModifyIndex = index
				if err := txn.Insert(tableJobs, job); err != nil {
					return nil, fmt.Errorf("stop job %q: %w", req.JobID, err)
				}
			}
		}
		if req.Eval != nil {
			if err := upsertEvalTxn(txn, index, req.Eval); err != nil {
				return nil, err
			}
			tables = append(tables, tableEvals)
		}
		return tables, nil
	})
}

// UpsertEvals stores evaluations.
func (s *StateStore) UpsertEvals(index uint64, evals []*structs.Evaluation) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		for _, e := range evals {
			if err := upsertEvalTxn(txn, index, e); err != nil {
				return nil, err
			}
		}
		return []string{tableEvals}, nil
	})
}

func upsertEvalTxn(txn *writeTxn, index uint64, eval *structs.Evaluation) error {
	eval = eval.Copy()
	existing, err := txn.First(tableEvals, "id", eval.ID)
	if err != nil {
		return fmt.Errorf("read eval %q: %w", eval.ID, err)
	}
	if existing != nil {
		eval.CreateIndex = existing.(*structs.Evaluation).CreateIndex
		if eval.CreateTime == 0 {
			eval.CreateTime = existing.(*structs.Evaluation).CreateTime
		}
	} else {
		eval.CreateIndex = index
	}
	eval.ModifyIndex = index
	if err := txn.Insert(tableEvals, eval); err != nil {
		return fmt.Errorf("insert eval %q: %w", eval.ID, err)
	}
	return nil
}

// ApplyPlanResults commits what the plan applier accepted.
func (s *StateStore) ApplyPlanResults(index uint64, req *structs.ApplyPlanResultsRequest) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		tracker := newAllocTracker()
		job, err := sharedJobTxn(txn, req.Job)
		if err != nil {
			return nil, err
		}
		for _, stopped := range req.AllocsStopped {
			old, err := txn.alloc(stopped.ID)
			if err != nil {
				return nil, fmt.Errorf("read alloc %q: %w", stopped.ID, err)
			}
			if old == nil {
				continue // garbage collected meanwhile
			}
			alloc := old.Copy()
			alloc.DesiredStatus = stopped.DesiredStatus
			alloc.DesiredDescription = stopped.DesiredDescription
			if stopped.PreemptedByAllocation != "" {
				alloc.PreemptedByAllocation = stopped.PreemptedByAllocation
			}
			if stopped.ClientStatus != "" {
				alloc.ClientStatus = stopped.ClientStatus
			}
			alloc.ModifyIndex = index
			alloc.AllocModifyIndex = index
			alloc.ModifyTime = req.UpdatedAt
			if err := txn.putAlloc(alloc); err != nil {
				return nil, fmt.Errorf("stop alloc %q: %w", alloc.ID, err)
			}
			tracker.change(old, alloc)
		}
		var interner allocInterner
		for _, placed := range req.AllocsUpdated {
			alloc := placed.Copy()
			interner.intern(alloc)
			s.strs.alloc(alloc)
			old, err := txn.alloc(alloc.ID)
			if err != nil {
				return nil, fmt.Errorf("read alloc %q: %w", alloc.ID, err)
			}
			if old == nil {
				alloc.CreateIndex = index
				if alloc.CreateTime == 0 {
					alloc.CreateTime = req.UpdatedAt
				}
				if err := linkPreviousTxn(txn, index, alloc); err != nil {
					return nil, err
				}
			} else {
				alloc.CreateIndex = old.CreateIndex
				alloc.CreateTime = old.CreateTime
				// The client owns client-side status.
				alloc.ClientStatus = old.ClientStatus
				alloc.ClientDescription = old.ClientDescription
				alloc.TaskStates = old.TaskStates
			}
			if alloc.Job == nil {
				alloc.Job = job
			}
			alloc.ModifyIndex = index
			alloc.AllocModifyIndex = index
			alloc.ModifyTime = req.UpdatedAt
			if err := txn.putAlloc(alloc); err != nil {
				return nil, fmt.Errorf("insert alloc %q: %w", alloc.ID, err)
			}
			tracker.change(old, alloc)
		}
		if err := tracker.flush(txn); err != nil {
			return nil, err
		}
		return []string{tableAlloc}, nil
	})
}

// sharedJobTxn returns the stored copy of job when it is the same version,
// so allocations share the jobs table's copy instead of holding one decoded
// per plan.
func sharedJobTxn(txn *writeTxn, job *structs.Job) (*structs.Job, error) {
	if job == nil {
		return nil, nil
	}
	obj, err := txn.First(tableJobs, "id", job.Namespace, job.ID)
	if err != nil {
		return nil, fmt.Errorf("read job %q: %w", job.ID, err)
	}
	if obj != nil {
		stored := obj.(*structs.Job)
		if stored.Version == job.Version && stored.JobModifyIndex == job.JobModifyIndex {
			return stored, nil
		}
	}
	return job, nil
}

// UpdateAllocsFromClient applies client-side status. Only ClientStatus,
// ClientDescription and TaskStates come from the client.
func (s *StateStore) UpdateAllocsFromClient(index uint64, req *structs.AllocClientUpdate) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		tables := []string{tableAlloc}
		tracker := newAllocTracker()
		for _, update := range req.Allocs {
			old, err := txn.alloc(update.ID)
			if err != nil {
				return nil, fmt.Errorf("read alloc %q: %w", update.ID, err)
			}
			if old == nil {
				continue
			}
			// A shallow copy: the task states are replaced below, and
			// the rest is immutable (the clipped slice reallocates on
			// append).
			c := *old
			alloc := &c
			alloc.PreemptedAllocations = slices.Clip(old.PreemptedAllocations)
			s.strs.clientState(alloc, update)
			alloc.ModifyIndex = index
			alloc.ModifyTime = req.UpdatedAt
			if err := txn.putAlloc(alloc); err != nil {
				return nil, fmt.Errorf("update alloc %q: %w", alloc.ID, err)
			}
			tracker.change(old, alloc)
		}
		if err := tracker.flush(txn); err != nil {
			return nil, err
		}
		if len(req.Evals) > 0 {
			for _, e := range req.Evals {
				if err := upsertEvalTxn(txn, index, e); err != nil {
					return nil, err
				}
			}
			tables = append(tables, tableEvals)
		}
		return tables, nil
	})
}

// UpsertNode registers or re-registers a node. A re-registration keeps the
// node's CreateIndex and its scheduling eligibility and drain settings,
// which belong to operators, not to the client.
func (s *StateStore) UpsertNode(index uint64, node *structs.Node) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		node = node.Copy()
		obj, err := txn.First(tableNodes, "id", node.ID)
		if err != nil {
			return nil, fmt.Errorf("read node %q: %w", node.ID, err)
		}
		if obj != nil {
			old := obj.(*structs.Node)
			node.CreateIndex = old.CreateIndex
			node.SchedulingEligibility = old.SchedulingEligibility
			node.Drain = old.Drain
			keepOperatorDrain(node, old)
		} else {
			node.CreateIndex = index
			if node.SchedulingEligibility == "" {
				node.SchedulingEligibility = structs.NodeSchedulingEligible
			}
			if err := ensureNodeAllocsTxn(txn, node.ID); err != nil {
				return nil, err
			}
		}
		node.ModifyIndex = index
		if err := txn.Insert(tableNodes, node); err != nil {
			return nil, fmt.Errorf("insert node %q: %w", node.ID, err)
		}
		return []string{tableNodes}, nil
	})
}

// UpdateNodeStatus changes a node's status (heartbeat missed, back again).
func (s *StateStore) UpdateNodeStatus(index uint64, req *structs.NodeStatusUpdate) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		tables := []string{tableNodes}
		obj, err := txn.First(tableNodes, "id", req.NodeID)
		if err != nil {
			return nil, fmt.Errorf("read node %q: %w", req.NodeID, err)
		}
		if obj == nil {
			return nil, fmt.Errorf("node %q not found", req.NodeID)
		}
		node := obj.(*structs.Node).Copy()
		node.Status = req.Status
		node.StatusUpdatedAt = req.UpdatedAt
		node.ModifyIndex = index
		if err := txn.Insert(tableNodes, node); err != nil {
			return nil, fmt.Errorf("update node %q: %w", node.ID, err)
		}
		for _, e := range req.Evals {
			if err := upsertEvalTxn(txn, index, e); err != nil {
				return nil, err
			}
			tables = append(tables, tableEvals)
		}
		return tables, nil
	})
}
