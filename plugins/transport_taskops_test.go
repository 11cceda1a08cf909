// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTransportCapabilitiesAndSignal(t *testing.T) {
	fake := newFakeDriver()
	d := connectFake(t, fake).(TaskOperations)

	caps, err := d.Capabilities()
	if err != nil {
		t.Fatalf("Capabilities: %v", err)
	}
	want, _ := fake.Capabilities()
	if !reflect.DeepEqual(caps, want) {
		t.Errorf("Capabilities = %+v, want %+v", caps, want)
	}

	if err := d.SignalTask("t1", "SIGHUP"); err != nil {
		t.Fatalf("SignalTask: %v", err)
	}
	if want := []string{"t1", "SIGHUP"}; !reflect.DeepEqual(fake.signalled, want) {
		t.Errorf("driver got signal %v, want %v", fake.signalled, want)
	}
}

func TestTransportTaskOperationErrors(t *testing.T) {
	d := connectFake(t, newFakeDriver()).(TaskOperations)
	tests := []struct {
		name     string
		call     func() error
		text     string
		notFound bool
	}{
		{"SignalTask missing", func() error { return d.SignalTask("missing", "SIGHUP") },
			`signal "missing": task not found`, true},
		{"SignalTask bad signal", func() error { return d.SignalTask("t1", "SIGBOGUS") },
			`signal "t1": unknown signal "SIGBOGUS"`, false},
		{"TaskStats", func() error {
			_, err := d.TaskStats(context.Background(), "missing", time.Second)
			return err
		}, `stats "missing": task not found`, true},
		{"ExecTask", func() error {
			_, err := d.ExecTask(context.Background(), "missing", []string{"x"}, false, nil, io.Discard, io.Discard, nil)
			return err
		}, `exec "missing": task not found`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.text {
				t.Errorf("error = %q, want %q", err, tt.text)
			}
			if got := errors.Is(err, ErrTaskNotFound); got != tt.notFound {
				t.Errorf("errors.Is(ErrTaskNotFound) = %v, want %v", got, tt.notFound)
			}
		})
	}
}

func TestTransportTaskStats(t *testing.T) {
	fake := newFakeDriver()
	d := connectFake(t, fake).(TaskOperations)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := d.TaskStats(ctx, "t1", time.Second)
	if err != nil {
		t.Fatalf("TaskStats: %v", err)
	}
	for i := range 3 {
		select {
		case u, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %d samples", i)
			}
			want := *fakeUsage
			want.Timestamp += int64(i) * int64(time.Second)
			if !reflect.DeepEqual(u, &want) {
				t.Errorf("sample %d = %+v, want %+v", i, u, &want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no sample %d", i)
		}
	}

	cancel()
	select {
	case <-fake.statsEnded:
	case <-time.After(10 * time.Second):
		t.Fatal("cancellation did not reach the driver")
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("channel not closed after cancel")
		}
	}
}

func TestTransportTaskStatsEndsWithDriver(t *testing.T) {
	d := connectFake(t, newFakeDriver()).(TaskOperations)
	ch, err := d.TaskStats(context.Background(), "short", time.Millisecond)
	if err != nil {
		t.Fatalf("TaskStats: %v", err)
	}
	n := 0
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				if n != 2 {
					t.Errorf("got %d samples, want 2", n)
				}
				return
			}
			n++
		case <-timeout:
			t.Fatal("channel not closed after the driver's ended")
		}
	}
}

func TestTransportExecTask(t *testing.T) {
	d := connectFake(t, newFakeDriver()).(TaskOperations)
	resize := make(chan TerminalSize, 1)
	resize <- TerminalSize{Height: 24, Width: 80}
	big := strings.Repeat("0123456789", 20000)
	tests := []struct {
		name       string
		cmd        []string
		stdin      io.Reader
		tty        bool
		resize     <-chan TerminalSize
		wantOut    string
		wantErrOut string
		wantCode   int
	}{
		{"args", []string{"echo", "hi"}, nil, false, nil, "echo hi", "", 0},
		{"stdin", []string{"cat"}, strings.NewReader(big), false, nil, big, "", 0},
		{"stderr and code", []string{"fail"}, nil, false, nil, "", "oops", 3},
		{"resize", []string{"resize"}, nil, true, resize, "80x24 tty=true", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code, err := d.ExecTask(context.Background(), "t1", tt.cmd, tt.tty, tt.stdin, &out, &errOut, tt.resize)
			if err != nil {
				t.Fatalf("ExecTask: %v", err)
			}
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", code, tt.wantCode)
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout = %.80q (%d bytes), want %.80q (%d bytes)", out.String(), out.Len(), tt.wantOut, len(tt.wantOut))
			}
			if errOut.String() != tt.wantErrOut {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.wantErrOut)
			}
		})
	}
}

func TestTransportExecTaskCancel(t *testing.T) {
	fake := newFakeDriver()
	d := connectFake(t, fake).(TaskOperations)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := d.ExecTask(ctx, "t1", []string{"block"}, false, nil, io.Discard, io.Discard, nil)
		errc <- err
	}()
	select {
	case <-fake.execEntered:
	case <-time.After(10 * time.Second):
		t.Fatal("ExecTask never reached the driver")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ExecTask error = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ExecTask did not return after cancel")
	}
	select {
	case err := <-fake.execEnded:
		if err == nil {
			t.Error("driver's context ended without an error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancellation did not reach the driver")
	}
}
