// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package allocrunner

import "github.com/droverhq/drover/structs"

// ClientStatus derives an allocation's client status from its tasks, with
// Nomad's precedence: any failed task fails the allocation; otherwise any
// running task makes it running; otherwise any pending task keeps it
// pending; otherwise every task finished and it is complete.
func ClientStatus(states map[string]*structs.TaskState) (status, description string) {
	var failed, running, pending, dead bool
	for _, s := range states {
		switch s.State {
		case structs.TaskStateRunning:
			running = true
		case structs.TaskStatePending:
			pending = true
		case structs.TaskStateDead:
			if s.Failed {
				failed = true
			} else {
				dead = true
			}
		}
	}
	switch {
	case failed:
		return structs.AllocClientStatusFailed, "Failed tasks"
	case running:
		return structs.AllocClientStatusRunning, "Tasks are running"
	case pending:
		return structs.AllocClientStatusPending, "No tasks have started"
	case dead:
		return structs.AllocClientStatusComplete, "All tasks have completed"
	}
	return structs.AllocClientStatusPending, "No tasks have started"
}
