// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package tasktable

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/droverhq/drover/plugins"
)

type fakeTask struct {
	Outcome
	name string
}

func TestStartGetAndDuplicates(t *testing.T) {
	tb := New[*fakeTask]("fake")
	if _, err := tb.Get("t1"); !errors.Is(err, plugins.ErrTaskNotFound) || !strings.Contains(err.Error(), `fake task "t1"`) {
		t.Errorf("Get of unknown = %v", err)
	}

	// While a start runs, the ID is taken but not visible.
	inStart := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := tb.Start("t1", func() (*fakeTask, error) {
			close(inStart)
			<-release
			return &fakeTask{name: "first"}, nil
		})
		done <- err
	}()
	<-inStart
	if _, err := tb.Get("t1"); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("Get while starting = %v, want not found", err)
	}
	called := false
	if _, err := tb.Start("t1", func() (*fakeTask, error) { called = true; return &fakeTask{}, nil }); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Start = %v, want already running", err)
	}
	if err := tb.Recover("t1", func() (*fakeTask, error) { called = true; return &fakeTask{}, nil }); err != nil {
		t.Errorf("Recover of an ID being started = %v, want no-op", err)
	}
	if called {
		t.Error("a second start or recover of a taken ID ran")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, err := tb.Get("t1"); err != nil || got.name != "first" {
		t.Errorf("Get = %+v, %v", got, err)
	}

	// A failed start frees the ID.
	boom := errors.New("boom")
	if _, err := tb.Start("t2", func() (*fakeTask, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("failed Start = %v", err)
	}
	if _, err := tb.Start("t2", func() (*fakeTask, error) { return &fakeTask{}, nil }); err != nil {
		t.Errorf("Start after a failed one = %v", err)
	}
	if err := tb.Recover("t3", func() (*fakeTask, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("failed Recover = %v", err)
	}
	if _, err := tb.Get("t3"); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("task of a failed Recover is known: %v", err)
	}
}

func TestWaitDestroyAndStatus(t *testing.T) {
	tb := New[*fakeTask]("fake")
	cfg := &plugins.TaskConfig{ID: "t1", Name: "web"}
	ft, _ := tb.Start("t1", func() (*fakeTask, error) { return &fakeTask{}, nil })
	started := time.Now()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := tb.Wait(ctx, "t1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait of a running task = %v, want the context's error", err)
	}
	if st := Status("t1", cfg, ft, started, map[string]string{"pid": "1"}); st.State != plugins.TaskStateRunning || st.ExitResult != nil || st.Name != "web" || st.DriverAttributes["pid"] != "1" {
		t.Errorf("Status running = %+v", st)
	}
	var sawRunning []bool
	destroy := func(_ *fakeTask, running bool) error { sawRunning = append(sawRunning, running); return nil }
	if err := tb.Destroy("t1", false, destroy); err == nil || !strings.Contains(err.Error(), "still running") || len(sawRunning) != 0 {
		t.Errorf("Destroy of a running task without force = %v (destroy called %v)", err, sawRunning)
	}

	exitedAt := started.Add(time.Second)
	if !ft.Set(&plugins.ExitResult{ExitCode: 3}, exitedAt) || ft.Set(&plugins.ExitResult{ExitCode: 4}, time.Now()) {
		t.Error("Set: only the first call should count")
	}
	res, err := tb.Wait(context.Background(), "t1")
	if err != nil || res.ExitCode != 3 {
		t.Errorf("Wait = %+v, %v", res, err)
	}
	res.ExitCode = 99 // callers get copies
	if st := Status("t1", cfg, ft, started, nil); st.State != plugins.TaskStateExited || st.ExitResult.ExitCode != 3 || !st.CompletedAt.Equal(exitedAt) {
		t.Errorf("Status exited = %+v", st)
	}

	boom := errors.New("boom")
	if err := tb.Destroy("t1", false, func(*fakeTask, bool) error { return boom }); !errors.Is(err, boom) || !strings.Contains(err.Error(), `destroy task "t1"`) {
		t.Errorf("failed Destroy = %v", err)
	}
	if _, err := tb.Get("t1"); err != nil {
		t.Error("a failed Destroy forgot the task")
	}
	if err := tb.Destroy("t1", false, destroy); err != nil || len(sawRunning) != 1 || sawRunning[0] {
		t.Errorf("Destroy of an exited task = %v (running %v)", err, sawRunning)
	}
	if _, err := tb.Get("t1"); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("task known after Destroy: %v", err)
	}

	tb.Start("t2", func() (*fakeTask, error) { return &fakeTask{}, nil })
	if err := tb.Destroy("t2", true, destroy); err != nil || !sawRunning[1] {
		t.Errorf("forced Destroy = %v (running %v)", err, sawRunning)
	}
	for _, err := range []error{tb.Destroy("nope", true, destroy), func() error { _, err := tb.Wait(context.Background(), "nope"); return err }()} {
		if !errors.Is(err, plugins.ErrTaskNotFound) {
			t.Errorf("unknown task: %v", err)
		}
	}
}

func TestHandles(t *testing.T) {
	type state struct{ PID int }
	cfg := &plugins.TaskConfig{ID: "t1"}
	h, err := EncodeHandle(cfg, 2, state{PID: 7})
	if err != nil {
		t.Fatal(err)
	}
	var got state
	if id, err := DecodeHandle(h, 2, &got); err != nil || id != "t1" || got.PID != 7 {
		t.Errorf("DecodeHandle = %q, %+v, %v", id, got, err)
	}
	if _, err := EncodeHandle(cfg, 1, func() {}); err == nil {
		t.Error("EncodeHandle encoded a func")
	}
	for _, tt := range []struct {
		h    *plugins.TaskHandle
		want string
	}{
		{nil, "no task config"},
		{&plugins.TaskHandle{Version: 2}, "no task config"},
		{&plugins.TaskHandle{Version: 1, Config: cfg, State: h.State}, "handle version 1, want 2"},
		{&plugins.TaskHandle{Version: 2, Config: cfg, State: []byte("{")}, "decode handle state"},
	} {
		if _, err := DecodeHandle(tt.h, 2, &got); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeHandle(%+v) = %v, want %q", tt.h, err, tt.want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for _, tt := range []struct {
		name string
		want int
	}{{"", 15}, {"SIGINT", 2}, {"hup", 1}, {"SIGUSR1", 10}, {"KILL", 9}, {"sigterm", 15}} {
		sig, err := ParseSignal(tt.name)
		if err != nil || int(sig) != tt.want {
			t.Errorf("ParseSignal(%q) = %d, %v, want %d", tt.name, sig, err, tt.want)
		}
	}
	if _, err := ParseSignal("SIGNOPE"); err == nil || !strings.Contains(err.Error(), "SIGNOPE") {
		t.Errorf("ParseSignal(SIGNOPE) = %v", err)
	}
}

func TestSignaled(t *testing.T) {
	tb := New[*fakeTask]("fake")
	tb.Start("t1", func() (*fakeTask, error) { return &fakeTask{name: "web"}, nil })
	if ft, sig, err := tb.Signaled("stop", "t1", "INT"); err != nil || ft.name != "web" || sig != 2 {
		t.Errorf("Signaled = %+v, %d, %v", ft, sig, err)
	}
	if _, _, err := tb.Signaled("signal", "t1", "SIGNOPE"); err == nil || !strings.Contains(err.Error(), `signal task "t1": unknown signal "SIGNOPE"`) {
		t.Errorf("Signaled with a bad name = %v", err)
	}
	if _, _, err := tb.Signaled("stop", "nope", ""); !errors.Is(err, plugins.ErrTaskNotFound) {
		t.Errorf("Signaled of an unknown task = %v", err)
	}
}
