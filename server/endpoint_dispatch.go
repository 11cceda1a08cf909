// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/droverhq/drover/structs"
)

// This file owns `job dispatch`: instantiating a parameterized job as a
// child job carrying a payload and metadata.

// DispatchPayloadSizeLimit is the largest dispatch payload, as Nomad's.
const DispatchPayloadSizeLimit = 16 * 1024

// DispatchLaunchSuffix separates a parameterized parent's ID from the rest
// of its children's IDs: "<parent>/dispatch-<unix seconds>-<8 hex>".
const DispatchLaunchSuffix = "/dispatch-"

// JobDispatchArgs asks to dispatch a parameterized job.
type JobDispatchArgs struct {
	Namespace string
	JobID     string
	Payload   []byte
	Meta      map[string]string
	// IDPrefixTemplate goes into the child's ID after "dispatch-".
	IDPrefixTemplate string
	// Priority overrides the parent's priority when not zero.
	Priority int
	// IdempotencyToken makes a repeated dispatch return the child the
	// first one created.
	IdempotencyToken string
}

// JobDispatchReply names the dispatched child, its evaluation and the
// write's index, as Nomad's JobDispatchResponse.
type JobDispatchReply struct {
	DispatchedJobID string
	EvalID          string
	EvalCreateIndex uint64
	JobCreateIndex  uint64
	Index           uint64
}

// ErrDispatchInvalid wraps every dispatch request the parent's
// parameterized block refuses; the HTTP layer answers it with 400.
var ErrDispatchInvalid = errors.New("invalid dispatch")

// ValidateDispatch checks a dispatch request against the parent: it must be
// a running parameterized job, the payload must be allowed (and present
// when required) and no larger than DispatchPayloadSizeLimit, and the meta
// keys must include every meta_required key and nothing outside
// meta_required and meta_optional.
func ValidateDispatch(parent *structs.Job, args *JobDispatchArgs) error {
	if !parent.IsParameterized() {
		return fmt.Errorf("%w: job %q is not a parameterized job", ErrDispatchInvalid, parent.ID)
	}
	if parent.Stop {
		return fmt.Errorf("%w: job %q is stopped", ErrDispatchInvalid, parent.ID)
	}
	var problems []string
	cfg := parent.ParameterizedJob
	switch {
	case len(args.Payload) > DispatchPayloadSizeLimit:
		problems = append(problems, fmt.Sprintf("payload exceeds maximum size; %d > %d", len(args.Payload), DispatchPayloadSizeLimit))
	case cfg.Payload == structs.DispatchPayloadRequired && len(args.Payload) == 0:
		problems = append(problems, "payload is required by the job and none was given")
	case cfg.Payload == structs.DispatchPayloadForbidden && len(args.Payload) > 0:
		problems = append(problems, "payload is forbidden by the job and one was given")
	}
	for _, k := range cfg.MetaRequired {
		if _, ok := args.Meta[k]; !ok {
			problems = append(problems, fmt.Sprintf("missing required meta key %q", k))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(args.Meta)) {
		if !slices.Contains(cfg.MetaRequired, k) && !slices.Contains(cfg.MetaOptional, k) {
			problems = append(problems, fmt.Sprintf("meta key %q is neither required nor optional (allowed: %s)", k, allowedMeta(cfg)))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w of job %q: %s", ErrDispatchInvalid, parent.ID, strings.Join(problems, "; "))
	}
	return nil
}

func allowedMeta(cfg *structs.ParameterizedJobConfig) string {
	all := append(slices.Clone(cfg.MetaRequired), cfg.MetaOptional...)
	if len(all) == 0 {
		return "none"
	}
	return strings.Join(all, ", ")
}

// DispatchedChild derives the child of a parameterized parent for a
// (validated) dispatch at now: its meta merged over the parent's, the
// payload stored on it, marked Dispatched. suffix is the 8 hex characters
// that keep two dispatches in one second apart.
func DispatchedChild(parent *structs.Job, args *JobDispatchArgs, now time.Time, suffix string) *structs.Job {
	c := childOf(parent)
	if args.IDPrefixTemplate != "" {
		c.ID = fmt.Sprintf("%s%s%s-%d-%s", parent.ID, DispatchLaunchSuffix, args.IDPrefixTemplate, now.Unix(), suffix)
	} else {
		c.ID = fmt.Sprintf("%s%s%d-%s", parent.ID, DispatchLaunchSuffix, now.Unix(), suffix)
	}
	c.Name = c.ID
	c.Dispatched = true
	c.DispatchIdempotencyToken = args.IdempotencyToken
	c.Payload = slices.Clone(args.Payload)
	if len(args.Meta) > 0 {
		if c.Meta == nil {
			c.Meta = make(map[string]string, len(args.Meta))
		}
		maps.Copy(c.Meta, args.Meta)
	}
	if args.Priority > 0 {
		c.Priority = args.Priority
	}
	return c
}

// randomSuffix returns 8 random hex characters.
func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Dispatch instantiates a parameterized job: it validates the request and
// registers the child with its evaluation.
func (j *JobEndpoint) Dispatch(args *JobDispatchArgs, reply *JobDispatchReply) error {
	if done, err := j.srv.forward("Job.Dispatch", args, reply); done {
		return err
	}
	ns := args.Namespace
	if ns == "" {
		ns = structs.DefaultNamespace
	}
	snap := j.srv.state.Snapshot()
	parent, err := snap.JobByID(ns, args.JobID)
	if err != nil {
		return fmt.Errorf("dispatch job %q: %w", args.JobID, err)
	}
	if parent == nil {
		return fmt.Errorf("job %q not found", args.JobID)
	}
	if err := ValidateDispatch(parent, args); err != nil {
		return err
	}
	if args.IdempotencyToken != "" {
		kids, err := children(snap, parent)
		if err != nil {
			return err
		}
		for _, k := range kids {
			if k.DispatchIdempotencyToken == args.IdempotencyToken {
				idx, _ := snap.LatestIndex()
				*reply = JobDispatchReply{DispatchedJobID: k.ID, JobCreateIndex: k.CreateIndex, Index: idx}
				return nil
			}
		}
	}
	child := DispatchedChild(parent, args, time.Now(), randomSuffix())
	var r JobRegisterReply
	if err := j.Register(&JobRegisterArgs{Job: child}, &r); err != nil {
		return fmt.Errorf("dispatch job %q: %w", args.JobID, err)
	}
	*reply = JobDispatchReply{
		DispatchedJobID: child.ID,
		EvalID:          r.EvalID,
		EvalCreateIndex: r.Index,
		JobCreateIndex:  r.Index,
		Index:           r.Index,
	}
	return nil
}

// DispatchJob dispatches a parameterized job through the leader and
// returns once this server has applied the child.
func (s *Server) DispatchJob(args *JobDispatchArgs) (*JobDispatchReply, error) {
	var reply JobDispatchReply
	if err := (&JobEndpoint{srv: s}).Dispatch(args, &reply); err != nil {
		return nil, err
	}
	return &reply, s.waitApplied(reply.Index)
}
