// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os/user"
	"strconv"

	"github.com/droverhq/drover/client/artifact"
	"github.com/droverhq/drover/structs"
)

// Nomad's event types for artifacts.
const (
	TaskDownloadingArtifacts   = "Downloading Artifacts"
	TaskArtifactDownloadFailed = "Failed Artifact Download"
)

// EventDownloadingArtifacts announces the artifact downloads.
func EventDownloadingArtifacts() *structs.TaskEvent {
	return newEvent(TaskDownloadingArtifacts, "Client is downloading artifacts")
}

// EventArtifactDownloadFailed reports an artifact that could not be
// fetched; the restart policy decides what happens next.
func EventArtifactDownloadFailed(err error) *structs.TaskEvent {
	ev := newEvent(TaskArtifactDownloadFailed, err.Error())
	ev.Message = err.Error()
	ev.Details["download_error"] = err.Error()
	return ev
}

// eventError is a prestart failure that carries the event describing it,
// recorded instead of the generic "Setup Failure".
type eventError struct {
	err error
	ev  *structs.TaskEvent
}

func (e *eventError) Error() string { return e.err.Error() }
func (e *eventError) Unwrap() error { return e.err }

// failureEvent is the event to record for a prestart hook error.
func failureEvent(err error) *structs.TaskEvent {
	var ee *eventError
	if errors.As(err, &ee) {
		return ee.ev
	}
	return EventSetupFailure(err)
}

// artifactHook fetches the task's artifacts before it starts. Like Nomad
// it fetches again before every attempt until one succeeded, then not
// again for the life of the task runner.
type artifactHook struct {
	NoopHook
	fetcher artifact.Fetcher
	done    bool
}

func (*artifactHook) Name() string { return "artifacts" }

func (h *artifactHook) Prestart(ctx context.Context, req *HookRequest) error {
	if h.done || len(req.Task.Artifacts) == 0 {
		return nil
	}
	req.Emit(EventDownloadingArtifacts())
	f := h.fetcher
	owner, err := taskOwner(req.Task.User)
	if err != nil {
		return &eventError{err: err, ev: EventArtifactDownloadFailed(err)}
	}
	f.Owner = owner
	for i, a := range req.Task.Artifacts {
		ia := interpolateArtifact(req, a)
		if err := f.Fetch(ctx, ia, req.TaskDir.Dir); err != nil {
			err = fmt.Errorf("artifact %d (%s): %w", i, ia.GetterSource, err)
			return &eventError{err: err, ev: EventArtifactDownloadFailed(err)}
		}
	}
	h.done = true
	return nil
}

// taskOwner resolves the task's user, whom `chown = true` artifacts are
// given to; nil when the task runs as the agent's user.
func taskOwner(name string) (*artifact.Owner, error) {
	if name == "" {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("look up task user %q for artifact chown: %w", name, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("task user %q has no numeric uid/gid (%s/%s)", name, u.Uid, u.Gid)
	}
	return &artifact.Owner{UID: uid, GID: gid}, nil
}

// interpolateArtifact replaces ${...} references in the artifact's
// strings with the task's environment.
func interpolateArtifact(req *HookRequest, a *structs.TaskArtifact) *structs.TaskArtifact {
	c := *a
	if req.Env == nil {
		return &c
	}
	c.GetterSource = req.Env.ReplaceEnv(a.GetterSource)
	c.RelativeDest = req.Env.ReplaceEnv(a.RelativeDest)
	c.GetterOptions = maps.Clone(a.GetterOptions)
	for k, v := range c.GetterOptions {
		c.GetterOptions[k] = req.Env.ReplaceEnv(v)
	}
	c.GetterHeaders = maps.Clone(a.GetterHeaders)
	for k, v := range c.GetterHeaders {
		c.GetterHeaders[k] = req.Env.ReplaceEnv(v)
	}
	return &c
}
