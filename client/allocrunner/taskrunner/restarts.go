// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// Nomad's default restart policies, used when neither the task nor its
// group sets one.
var (
	DefaultServiceRestartPolicy = structs.RestartPolicy{
		Attempts: 2, Interval: 30 * time.Minute, Delay: 15 * time.Second, Mode: structs.RestartPolicyModeFail,
	}
	DefaultBatchRestartPolicy = structs.RestartPolicy{
		Attempts: 3, Interval: 24 * time.Hour, Delay: 15 * time.Second, Mode: structs.RestartPolicyModeFail,
	}
)

// restartJitter is the fraction of the delay added at random, so tasks that
// failed together do not restart in lockstep.
const restartJitter = 0.25

// RestartPolicyFor picks the task's policy, else its group's, else the
// default for the job type.
func RestartPolicyFor(jobType string, tg *structs.TaskGroup, task *structs.Task) structs.RestartPolicy {
	switch {
	case task != nil && task.RestartPolicy != nil:
		return *task.RestartPolicy
	case tg != nil && tg.RestartPolicy != nil:
		return *tg.RestartPolicy
	case isBatch(jobType):
		return DefaultBatchRestartPolicy
	default:
		return DefaultServiceRestartPolicy
	}
}

func isBatch(jobType string) bool {
	return jobType == structs.JobTypeBatch || jobType == structs.JobTypeSysbatch
}

// decisionKind is what to do after a task exits or fails to start.
type decisionKind int

const (
	// decisionDone: the task finished its work (a batch task exiting 0).
	decisionDone decisionKind = iota
	// decisionRestart: start it again after the delay.
	decisionRestart
	// decisionFail: the policy is exhausted; the task has failed.
	decisionFail
)

type decision struct {
	kind   decisionKind
	delay  time.Duration
	reason string
}

// restartTracker applies a restart policy: at most Attempts restarts within
// Interval, each after Delay (plus jitter); beyond that, mode "fail" fails
// the task and mode "delay" waits for the interval to end.
type restartTracker struct {
	policy structs.RestartPolicy
	batch  bool
	count  int
	start  time.Time
	now    func() time.Time
	jitter func(max int64) int64
}

func newRestartTracker(policy structs.RestartPolicy, jobType string) *restartTracker {
	return &restartTracker{
		policy: policy,
		batch:  isBatch(jobType),
		now:    time.Now,
		jitter: func(n int64) int64 { return rand.Int64N(n) },
	}
}

// next decides after an exit (res) or a failed start (startErr set).
// A service task that exits 0 is restarted like a failure: services are
// meant to run forever.
func (r *restartTracker) next(res *plugins.ExitResult, startErr error) decision {
	if startErr == nil && res != nil && res.Successful() && r.batch {
		return decision{kind: decisionDone}
	}
	now := r.now()
	if r.start.IsZero() || now.Sub(r.start) > r.policy.Interval {
		r.start = now
		r.count = 0
	}
	r.count++
	if r.count > r.policy.Attempts {
		if r.policy.Mode == structs.RestartPolicyModeDelay {
			return decision{
				kind:   decisionRestart,
				delay:  max(r.start.Add(r.policy.Interval).Sub(now), 0),
				reason: fmt.Sprintf("Exceeded allowed attempts %d in interval %v and mode is %q", r.policy.Attempts, r.policy.Interval, r.policy.Mode),
			}
		}
		return decision{
			kind:   decisionFail,
			reason: fmt.Sprintf("Exceeded allowed attempts %d in interval %v and mode is %q", r.policy.Attempts, r.policy.Interval, structs.RestartPolicyModeFail),
		}
	}
	delay := r.policy.Delay
	if j := int64(float64(delay) * restartJitter); j > 0 {
		delay += time.Duration(r.jitter(j))
	}
	return decision{kind: decisionRestart, delay: delay, reason: ReasonWithinPolicy}
}
