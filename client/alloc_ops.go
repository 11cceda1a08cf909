// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/structs"
)

// ErrUnknownAlloc is returned by the allocation operations for an
// allocation this client does not run.
var ErrUnknownAlloc = errors.New("unknown allocation")

// ErrUnknownTask is returned by the allocation operations for a task the
// allocation does not have.
var ErrUnknownTask = errors.New("unknown task")

// SignalAlloc sends sig to one task of an allocation this client runs,
// or, with task "", to every task that is running. As in Nomad, naming a
// task that is not running is an error, while "all tasks" skips the ones
// that are not.
func (c *Client) SignalAlloc(ctx context.Context, allocID, task, sig string) error {
	c.mu.Lock()
	ar, ok := c.allocs[allocID]
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("signal allocation %q: %w", allocID, ErrUnknownAlloc)
	}
	if task != "" {
		tr := ar.TaskRunner(task)
		if tr == nil {
			return fmt.Errorf("signal allocation %q: %w %q", allocID, ErrUnknownTask, task)
		}
		return tr.Signal(ctx, sig)
	}
	states := ar.TaskStates()
	names := make([]string, 0, len(states))
	for name, st := range states {
		if st.State == structs.TaskStateRunning {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		err := ar.TaskRunner(name).Signal(ctx, sig)
		// A task that exited since its state was read is no failure.
		if err != nil && !errors.Is(err, taskrunner.ErrTaskNotRunning) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("signal allocation %q: %w", allocID, err)
	}
	return nil
}
