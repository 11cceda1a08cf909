// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestParseCPUTimes(t *testing.T) {
	before := "cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 10 0 10 80 0 0 0 0 0 0\ncpu1 0 0 0 100 0 0 0 0 0 0\nintr 1 2\n"
	after := "cpu  70 0 30 100 0 0 0 0 0 0\ncpu0 50 10 20 120 0 0 0 0 0 0\ncpu1 0 0 0 200 0 0 0 0 0 0\n"
	b, err := parseCPUTimes(strings.NewReader(before))
	if err != nil {
		t.Fatal(err)
	}
	a, err := parseCPUTimes(strings.NewReader(after))
	if err != nil {
		t.Fatal(err)
	}
	got := cpuUsage(b, a)
	if len(got) != 2 {
		t.Fatalf("%d cores, want 2 (the total line is not a core)", len(got))
	}
	// cpu0: 100 ticks passed: user+nice 50, system 10, idle 40.
	if c := got[0]; c.CPU != "cpu0" || c.User != 50 || c.System != 10 || c.Idle != 40 {
		t.Errorf("cpu0 = %+v", c)
	}
	if c := got[1]; c.Idle != 100 || c.User != 0 {
		t.Errorf("cpu1 = %+v", c)
	}
	if _, err := parseCPUTimes(strings.NewReader("cpu0 x 1 2 3\n")); err == nil {
		t.Error("bad counter accepted")
	}
	if _, err := parseCPUTimes(strings.NewReader("intr 1\n")); err == nil {
		t.Error("no core accepted")
	}
}

func TestParseMeminfo(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    HostMemoryStats
		wantErr bool
	}{
		{"modern", "MemTotal: 1000 kB\nMemFree: 200 kB\nMemAvailable: 600 kB\n",
			HostMemoryStats{Total: 1000 << 10, Available: 600 << 10, Used: 400 << 10, Free: 200 << 10}, false},
		{"old kernel", "MemTotal: 1000 kB\nMemFree: 200 kB\nBuffers: 100 kB\nCached: 300 kB\n",
			HostMemoryStats{Total: 1000 << 10, Available: 600 << 10, Used: 400 << 10, Free: 200 << 10}, false},
		{"no total", "MemFree: 200 kB\n", HostMemoryStats{}, true},
		{"garbage", "MemTotal: lots kB\n", HostMemoryStats{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMeminfo(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && *got != tt.want {
				t.Fatalf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestParseMounts(t *testing.T) {
	in := `overlay / overlay rw 0 0
proc /proc proc rw 0 0
/dev/sda1 /data ext4 rw 0 0
/dev/sda1 /data/bind ext4 rw 0 0
/dev/sdb1 /mnt/with\040space xfs rw 0 0
tmpfs /tmp tmpfs rw 0 0
`
	ms, err := parseMounts(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []mount{{"overlay", "/"}, {"/dev/sda1", "/data"}, {"/dev/sdb1", "/mnt/with space"}}
	if len(ms) != len(want) {
		t.Fatalf("mounts %v, want %v", ms, want)
	}
	for i := range want {
		if ms[i] != want[i] {
			t.Errorf("mount %d = %v, want %v", i, ms[i], want[i])
		}
	}
	if m := mountOf(ms, "/data/drover/alloc"); m.device != "/dev/sda1" {
		t.Errorf("mount of /data/drover/alloc = %v", m)
	}
	if m := mountOf(ms, "/datum"); m.device != "overlay" {
		t.Errorf("mount of /datum = %v", m)
	}
}

// TestHostStats measures this machine: the numbers are live, but never
// zero on a running host.
func TestHostStats(t *testing.T) {
	tc := newTestClient(t, time.Minute, nil)
	hs, err := tc.HostStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if hs.Memory.Total == 0 || hs.Memory.Used == 0 || len(hs.CPU) == 0 || hs.Uptime == 0 || hs.Timestamp == 0 {
		t.Fatalf("host stats %+v", hs)
	}
	if hs.AllocDirStats == nil || hs.AllocDirStats.Size == 0 || hs.AllocDirStats.Available == 0 {
		t.Fatalf("alloc dir stats %+v", hs.AllocDirStats)
	}
	for _, c := range hs.CPU {
		if sum := c.User + c.System + c.Idle; sum < 0 || sum > 100.001 {
			t.Errorf("core %s shares sum to %v", c.CPU, sum)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tc.HostStats(ctx); err == nil {
		t.Error("HostStats with an ended context succeeded")
	}
}
