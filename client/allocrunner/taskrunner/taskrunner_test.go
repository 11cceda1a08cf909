// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/droverhq/drover/client/allocdir"
	"github.com/droverhq/drover/client/clienttest"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// recordingHook records the stages it sees and can fail Prestart.
type recordingHook struct {
	mu           sync.Mutex
	calls        []string
	failPrestart error
}

func (h *recordingHook) Name() string { return "recording" }

func (h *recordingHook) record(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, s)
}

func (h *recordingHook) Prestart(context.Context, *HookRequest) error {
	h.record("prestart")
	return h.failPrestart
}

func (h *recordingHook) Poststart(_ context.Context, req *HookRequest) error {
	h.record("poststart")
	if req.TaskID == "" {
		return errors.New("no task id in poststart")
	}
	return nil
}

func (h *recordingHook) Exited(_ context.Context, _ *HookRequest, res *plugins.ExitResult) error {
	h.record(fmt.Sprintf("exited:%d", res.ExitCode))
	return nil
}

func (h *recordingHook) Stop(context.Context, *HookRequest) error {
	h.record("stop")
	return nil
}

func runTask(t *testing.T, cfg map[string]any, extra Hook) (*TaskRunner, *clienttest.Driver) {
	t.Helper()
	alloc := clienttest.Alloc(structs.JobTypeBatch, cfg)
	alloc.Job.TaskGroups[0].RestartPolicy = &structs.RestartPolicy{
		Attempts: 1, Interval: time.Minute, Delay: time.Millisecond, Mode: structs.RestartPolicyModeFail,
	}
	driver := clienttest.NewDriver()
	tr := New(Config{
		Alloc:    alloc,
		Task:     alloc.Job.TaskGroups[0].Tasks[0],
		AllocDir: allocdir.New(t.TempDir(), alloc.ID),
		Driver:   driver,
		Hooks:    append(DefaultHooks(), extra),
	})
	go tr.Run()
	select {
	case <-tr.WaitCh():
	case <-time.After(5 * time.Second):
		t.Fatal("task runner did not finish")
	}
	return tr, driver
}

func TestHookStages(t *testing.T) {
	h := &recordingHook{}
	tr, driver := runTask(t, map[string]any{"run_for": "1ms", "exit_code": 4}, h)
	want := "[prestart poststart exited:4 prestart poststart exited:4 stop]"
	if got := fmt.Sprint(h.calls); got != want {
		t.Fatalf("hook calls %s, want %s", got, want)
	}
	if st := tr.State(); !st.Failed || st.Restarts != 1 {
		t.Fatalf("state %+v", st)
	}
	if driver.Live() != 0 {
		t.Fatalf("driver hook left %d tasks undestroyed", driver.Live())
	}
}

func TestPrestartFailure(t *testing.T) {
	h := &recordingHook{failPrestart: errors.New("template missing")}
	tr, driver := runTask(t, map[string]any{}, h)
	if n := len(driver.Started()); n != 0 {
		t.Fatalf("driver started %d tasks despite failing prestart", n)
	}
	st := tr.State()
	var setupFailures int
	for _, e := range st.Events {
		if e.Type == structs.TaskSetupFailure {
			setupFailures++
			if e.DisplayMessage != `prestart hook "recording": template missing` {
				t.Errorf("display message %q", e.DisplayMessage)
			}
		}
	}
	if setupFailures != 2 || !st.Failed || st.State != structs.TaskStateDead {
		t.Fatalf("%d setup failures, state %+v", setupFailures, st)
	}
}
