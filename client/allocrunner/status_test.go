// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package allocrunner

import (
	"testing"

	"github.com/droverhq/drover/structs"
)

func TestClientStatus(t *testing.T) {
	run := &structs.TaskState{State: structs.TaskStateRunning}
	pend := &structs.TaskState{State: structs.TaskStatePending}
	done := &structs.TaskState{State: structs.TaskStateDead}
	fail := &structs.TaskState{State: structs.TaskStateDead, Failed: true}
	cases := []struct {
		name   string
		states map[string]*structs.TaskState
		want   string
	}{
		{"none", nil, structs.AllocClientStatusPending},
		{"all pending", map[string]*structs.TaskState{"a": pend, "b": pend}, structs.AllocClientStatusPending},
		{"one running", map[string]*structs.TaskState{"a": run, "b": pend}, structs.AllocClientStatusRunning},
		{"running and done", map[string]*structs.TaskState{"a": run, "b": done}, structs.AllocClientStatusRunning},
		{"all done", map[string]*structs.TaskState{"a": done, "b": done}, structs.AllocClientStatusComplete},
		{"failure wins", map[string]*structs.TaskState{"a": run, "b": fail}, structs.AllocClientStatusFailed},
		{"failed and done", map[string]*structs.TaskState{"a": done, "b": fail}, structs.AllocClientStatusFailed},
	}
	for _, c := range cases {
		if got, desc := ClientStatus(c.states); got != c.want || desc == "" {
			t.Errorf("%s: status %q (%q), want %q", c.name, got, desc, c.want)
		}
	}
}
