// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"testing"
	"time"

	"github.com/droverhq/drover/structs"
)

// A restored task runner replays the restarts its policy counted, but not
// the restarts users asked for: those never counted.
func TestRestartTrackerRestoreSkipsUserRestarts(t *testing.T) {
	policy := structs.RestartPolicy{Attempts: 2, Interval: time.Hour, Delay: time.Second, Mode: structs.RestartPolicyModeFail}
	now := time.Now()
	at := func(d time.Duration) int64 { return now.Add(d).UnixNano() }
	events := []*structs.TaskEvent{
		{Type: structs.TaskRestarting, Time: at(-3 * time.Minute), RestartReason: ReasonWithinPolicy},
		{Type: structs.TaskRestarting, Time: at(-2 * time.Minute), RestartReason: ReasonUserRequested},
		{Type: structs.TaskRestarting, Time: at(-1 * time.Minute), RestartReason: ReasonUserRequested},
		{Type: structs.TaskStarted, Time: at(-30 * time.Second)},
	}
	r := newRestartTracker(policy, structs.JobTypeService)
	r.restore(events)
	if r.count != 1 {
		t.Fatalf("restored count = %d, want 1 (user restarts must not count)", r.count)
	}
}
