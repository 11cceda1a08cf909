// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"
)

// connect serves fake over a real gRPC connection and returns the agent's
// Driver for it.
func connectFake(t *testing.T, fake *fakeDriver) Driver {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, pluginSet(fake))
	t.Cleanup(func() {
		// Stop the server first: closing the client first makes the
		// server stop itself from a handler, concurrently with this Stop
		// (an unsynchronised field in go-plugin's GRPCServer).
		server.Stop()
		client.Close()
	})
	raw, err := client.Dispense(PluginSetKey)
	if err != nil {
		t.Fatalf("dispense: %v", err)
	}
	return raw.(Driver)
}

func testTaskConfig(id string) *TaskConfig {
	return &TaskConfig{
		ID: id, Name: "web", AllocID: "a1", JobName: "job", TaskGroupName: "tg",
		Namespace: "default", DriverConfig: []byte(`{"command":"sleep"}`),
		Env: map[string]string{"NOMAD_TASK_NAME": "web"}, User: "nobody",
		AllocDir: "/a", TaskDir: "/a/web", StdoutPath: "/a/logs/web.stdout",
		StderrPath: "/a/logs/web.stderr", LogMaxFiles: 3, LogMaxFileSizeMB: 7,
		CPUMHz: 100, MemoryMB: 256, MemoryMaxMB: 512,
	}
}

func TestTransportRoundTrip(t *testing.T) {
	fake := newFakeDriver()
	d := connectFake(t, fake)

	if got := d.Name(); got != "fake" {
		t.Errorf("Name = %q, want fake", got)
	}

	if err := d.SetConfig([]byte(`{"enabled":true}`)); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	if string(fake.config) != `{"enabled":true}` {
		t.Errorf("driver got config %q", fake.config)
	}

	fp, err := d.Fingerprint(context.Background())
	if err != nil {
		t.Fatalf("Fingerprint: %v", err)
	}
	wantFP := &Fingerprint{Health: HealthHealthy, HealthDescription: "all good",
		Attributes: map[string]string{"driver.fake": "1"}}
	if !reflect.DeepEqual(fp, wantFP) {
		t.Errorf("Fingerprint = %+v, want %+v", fp, wantFP)
	}

	cfg := testTaskConfig("t1")
	h, err := d.StartTask(cfg)
	if err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	if !reflect.DeepEqual(fake.started, cfg) {
		t.Errorf("driver got config %+v, want %+v", fake.started, cfg)
	}
	wantH := &TaskHandle{Version: 2, Config: cfg, State: []byte(`{"pid":42}`)}
	if !reflect.DeepEqual(h, wantH) {
		t.Errorf("StartTask handle = %+v, want %+v", h, wantH)
	}

	res, err := d.WaitTask(context.Background(), "t1")
	if err != nil {
		t.Fatalf("WaitTask: %v", err)
	}
	wantRes := &ExitResult{ExitCode: 3, Signal: 9, OOMKilled: true, Err: "lost"}
	if !reflect.DeepEqual(res, wantRes) {
		t.Errorf("WaitTask = %+v, want %+v", res, wantRes)
	}

	if err := d.StopTask("t1", 1500*time.Millisecond, "SIGINT"); err != nil {
		t.Fatalf("StopTask: %v", err)
	}
	if want := []any{"t1", 1500 * time.Millisecond, "SIGINT"}; !reflect.DeepEqual(fake.stopped, want) {
		t.Errorf("driver got stop %v, want %v", fake.stopped, want)
	}

	if err := d.DestroyTask("t1", true); err != nil {
		t.Fatalf("DestroyTask: %v", err)
	}
	if want := []any{"t1", true}; !reflect.DeepEqual(fake.destroyed, want) {
		t.Errorf("driver got destroy %v, want %v", fake.destroyed, want)
	}

	for _, id := range []string{"t1", "done"} {
		st, err := d.InspectTask(id)
		if err != nil {
			t.Fatalf("InspectTask(%s): %v", id, err)
		}
		want, _ := fake.InspectTask(id)
		if !st.StartedAt.Equal(want.StartedAt) || !st.CompletedAt.Equal(want.CompletedAt) {
			t.Errorf("InspectTask(%s) times = %v/%v, want %v/%v", id, st.StartedAt, st.CompletedAt, want.StartedAt, want.CompletedAt)
		}
		st.StartedAt, st.CompletedAt = want.StartedAt, want.CompletedAt
		if !reflect.DeepEqual(st, want) {
			t.Errorf("InspectTask(%s) = %+v, want %+v", id, st, want)
		}
	}
	if st, _ := d.InspectTask("t1"); !st.CompletedAt.IsZero() {
		t.Errorf("zero CompletedAt came back as %v", st.CompletedAt)
	}

	if err := d.RecoverTask(wantH); err != nil {
		t.Fatalf("RecoverTask: %v", err)
	}
	if !reflect.DeepEqual(fake.recovered, wantH) {
		t.Errorf("driver recovered %+v, want %+v", fake.recovered, wantH)
	}
}

func TestTransportErrors(t *testing.T) {
	d := connectFake(t, newFakeDriver())
	tests := []struct {
		name     string
		call     func() error
		text     string
		notFound bool
	}{
		{"SetConfig", func() error { return d.SetConfig([]byte("bad")) }, "bad config: boom", false},
		{"StartTask", func() error { _, err := d.StartTask(testTaskConfig("fail")); return err },
			`start task "fail": command not found`, false},
		{"WaitTask", func() error { _, err := d.WaitTask(context.Background(), "missing"); return err },
			`wait "missing": task not found`, true},
		{"StopTask", func() error { return d.StopTask("missing", time.Second, "") },
			`stop "missing": task not found`, true},
		{"DestroyTask", func() error { return d.DestroyTask("t1", false) },
			`destroy "t1": task still running`, false},
		{"InspectTask", func() error { _, err := d.InspectTask("missing"); return err },
			`inspect "missing": task not found`, true},
		{"RecoverTask", func() error { return d.RecoverTask(nil) }, "recover: no handle", false},
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

func TestTransportWaitTaskCancel(t *testing.T) {
	fake := newFakeDriver()
	d := connectFake(t, fake)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := d.WaitTask(ctx, "block")
		errc <- err
	}()

	select {
	case <-fake.waitEntered:
	case <-time.After(10 * time.Second):
		t.Fatal("WaitTask never reached the driver")
	}
	cancel()

	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WaitTask error = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitTask did not return after cancel")
	}
	select {
	case err := <-fake.waitEnded:
		if err == nil {
			t.Error("driver's context ended without an error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancellation did not reach the driver")
	}
}
