// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskstats

import (
	"context"
	"errors"
	"math"
	"os"
	"syscall"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

func TestCPURates(t *testing.T) {
	var c CPU
	t0 := time.Unix(100, 0)
	if st := c.Sample(t0, time.Second, time.Second); st.Percent != 0 {
		t.Errorf("first sample Percent = %v, want 0", st.Percent)
	}
	// Over 2s of wall time: 1s user and 0.5s system = 75% of a core.
	st := c.Sample(t0.Add(2*time.Second), 2*time.Second, 1500*time.Millisecond)
	for name, got := range map[string][2]float64{
		"UserMode":   {st.UserMode, 50},
		"SystemMode": {st.SystemMode, 25},
		"Percent":    {st.Percent, 75},
		"TotalTicks": {st.TotalTicks, 0.75 * CoreMHz()},
	} {
		if math.Abs(got[0]-got[1]) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got[0], got[1])
		}
	}
}

func TestParseStat(t *testing.T) {
	line := "42 (a b) c) S 1 40 40 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 1 0 12345 1000000 7 18446744073709551615"
	st, err := parseStat(42, line)
	if err != nil {
		t.Fatal(err)
	}
	want := ProcStat{PID: 42, PGID: 40, User: 2500 * time.Millisecond, System: 300 * time.Millisecond, RSS: 7 * pageSize}
	if st != want {
		t.Errorf("parseStat = %+v, want %+v", st, want)
	}
	if _, err := parseStat(1, "1 (x) S 1"); err == nil {
		t.Error("short line parsed")
	}
}

func TestGroupProcsFindsOwnGroup(t *testing.T) {
	pgid := syscall.Getpgrp()
	procs, err := GroupProcs(pgid)
	if err != nil {
		t.Fatal(err)
	}
	var p Procs
	u := p.Sample(time.Now(), procs)
	self := os.Getpid()
	found := false
	for _, st := range procs {
		found = found || st.PID == self
	}
	if !found {
		t.Fatalf("own pid %d not in group %d: %+v", self, pgid, procs)
	}
	if u.ResourceUsage.MemoryStats.RSS == 0 || len(u.Pids) != len(procs) {
		t.Errorf("usage = %+v with %d pids, want RSS > 0 and %d pids", u.ResourceUsage.MemoryStats, len(u.Pids), len(procs))
	}
}

func TestStreamStops(t *testing.T) {
	sample := func(at time.Time) (*plugins.TaskResourceUsage, error) {
		return &plugins.TaskResourceUsage{Timestamp: at.UnixNano()}, nil
	}
	t.Run("ctx", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		ch := Stream(ctx, time.Millisecond, nil, sample, hclog.NewNullLogger())
		<-ch
		<-ch
		cancel()
		drain(t, ch)
	})
	t.Run("done", func(t *testing.T) {
		done := make(chan struct{})
		ch := Stream(context.Background(), time.Millisecond, done, sample, hclog.NewNullLogger())
		<-ch
		close(done)
		drain(t, ch)
	})
	t.Run("failed samples skipped", func(t *testing.T) {
		n := 0
		flaky := func(at time.Time) (*plugins.TaskResourceUsage, error) {
			n++
			if n == 1 {
				return nil, errors.New("gone")
			}
			return sample(at)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch := Stream(ctx, time.Millisecond, nil, flaky, hclog.NewNullLogger())
		select {
		case u := <-ch:
			if u == nil {
				t.Fatal("nil sample")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no sample after a failed one")
		}
	})
}

func drain(t *testing.T, ch <-chan *plugins.TaskResourceUsage) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("stream not closed")
		}
	}
}
