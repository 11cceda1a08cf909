// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"errors"
	"testing"
	"time"

	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

func TestRestartTracker(t *testing.T) {
	ok := &plugins.ExitResult{}
	bad := &plugins.ExitResult{ExitCode: 1}
	policy := structs.RestartPolicy{Attempts: 2, Interval: time.Minute, Delay: time.Second, Mode: structs.RestartPolicyModeFail}
	delayPolicy := policy
	delayPolicy.Mode = structs.RestartPolicyModeDelay

	type step struct {
		after    time.Duration // clock advance before this exit
		res      *plugins.ExitResult
		startErr error
		want     decisionKind
		delay    time.Duration
	}
	cases := []struct {
		name    string
		jobType string
		policy  structs.RestartPolicy
		steps   []step
	}{
		{"batch success is done", structs.JobTypeBatch, policy, []step{{res: ok, want: decisionDone}}},
		{"service success restarts", structs.JobTypeService, policy, []step{
			{res: ok, want: decisionRestart, delay: time.Second},
			{res: ok, want: decisionRestart, delay: time.Second},
			{res: ok, want: decisionFail},
		}},
		{"batch failure uses attempts then fails", structs.JobTypeBatch, policy, []step{
			{res: bad, want: decisionRestart, delay: time.Second},
			{res: bad, want: decisionRestart, delay: time.Second},
			{res: bad, want: decisionFail},
		}},
		{"start errors count", structs.JobTypeService, policy, []step{
			{startErr: errors.New("x"), want: decisionRestart, delay: time.Second},
			{startErr: errors.New("x"), want: decisionRestart, delay: time.Second},
			{startErr: errors.New("x"), want: decisionFail},
		}},
		{"interval resets the count", structs.JobTypeService, policy, []step{
			{res: bad, want: decisionRestart, delay: time.Second},
			{res: bad, want: decisionRestart, delay: time.Second},
			{after: 2 * time.Minute, res: bad, want: decisionRestart, delay: time.Second},
		}},
		{"delay mode waits out the interval", structs.JobTypeService, delayPolicy, []step{
			{res: bad, want: decisionRestart, delay: time.Second},
			{after: 10 * time.Second, res: bad, want: decisionRestart, delay: time.Second},
			{after: 10 * time.Second, res: bad, want: decisionRestart, delay: 40 * time.Second},
		}},
		{"zero attempts fails at once", structs.JobTypeService, structs.RestartPolicy{Mode: structs.RestartPolicyModeFail}, []step{
			{res: bad, want: decisionFail},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := time.Unix(1000, 0)
			rt := newRestartTracker(c.policy, c.jobType)
			rt.now = func() time.Time { return clock }
			rt.jitter = func(int64) int64 { return 0 }
			for i, s := range c.steps {
				clock = clock.Add(s.after)
				d := rt.next(s.res, s.startErr)
				if d.kind != s.want || (s.want == decisionRestart && d.delay != s.delay) {
					t.Fatalf("step %d: got %+v, want kind %d delay %v", i, d, s.want, s.delay)
				}
				if d.kind != decisionDone && d.reason == "" {
					t.Fatalf("step %d: no reason", i)
				}
			}
		})
	}
}

func TestRestartJitterBounded(t *testing.T) {
	rt := newRestartTracker(structs.RestartPolicy{Attempts: 100, Interval: time.Hour, Delay: 4 * time.Second}, structs.JobTypeService)
	for range 50 {
		d := rt.next(&plugins.ExitResult{ExitCode: 1}, nil)
		if d.delay < 4*time.Second || d.delay >= 5*time.Second {
			t.Fatalf("delay %v outside [4s, 5s)", d.delay)
		}
	}
}

func TestRestartPolicyFor(t *testing.T) {
	own := &structs.RestartPolicy{Attempts: 9}
	group := &structs.RestartPolicy{Attempts: 7}
	cases := []struct {
		name    string
		jobType string
		tg      *structs.TaskGroup
		task    *structs.Task
		want    int
	}{
		{"task wins", structs.JobTypeService, &structs.TaskGroup{RestartPolicy: group}, &structs.Task{RestartPolicy: own}, 9},
		{"group next", structs.JobTypeService, &structs.TaskGroup{RestartPolicy: group}, &structs.Task{}, 7},
		{"service default", structs.JobTypeService, &structs.TaskGroup{}, &structs.Task{}, 2},
		{"batch default", structs.JobTypeBatch, nil, nil, 3},
	}
	for _, c := range cases {
		if got := RestartPolicyFor(c.jobType, c.tg, c.task).Attempts; got != c.want {
			t.Errorf("%s: attempts %d, want %d", c.name, got, c.want)
		}
	}
}
