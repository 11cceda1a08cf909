// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package cgroups

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStatsFromFiles(t *testing.T) {
	t.Run("v2", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{
			"memory.stat":         "anon 100\nfile 200\nkernel 5\n",
			"memory.current":      "400\n",
			"memory.swap.current": "7\n",
			"memory.peak":         "900\n",
			"cpu.stat":            "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\nnr_periods 10\nnr_throttled 2\nthrottled_usec 50\n",
		})
		u, err := (&Group{Version: V2, Dirs: map[string]string{unifiedKey: dir}}).Stats()
		if err != nil {
			t.Fatal(err)
		}
		want := Usage{RSS: 100, Cache: 200, Swap: 7, MemUsage: 400, MemMaxUsage: 900, HasCPU: true,
			CPUUser: 2 * time.Millisecond, CPUSystem: time.Millisecond, ThrottledPeriods: 2,
			ThrottledTime: 50 * time.Microsecond, HasSwap: true, HasMemMaxUsage: true}
		if u != want {
			t.Errorf("Stats = %+v, want %+v", u, want)
		}
	})
	t.Run("v1 with cpuacct", func(t *testing.T) {
		mem, cpu := t.TempDir(), t.TempDir()
		writeFiles(t, mem, map[string]string{
			"memory.stat":               "rss 1\ntotal_rss 100\ntotal_cache 200\ntotal_swap 3\n",
			"memory.usage_in_bytes":     "400\n",
			"memory.max_usage_in_bytes": "800\n",
		})
		writeFiles(t, cpu, map[string]string{
			"cpu.stat":     "nr_periods 4\nnr_throttled 1\nthrottled_time 99\n",
			"cpuacct.stat": "user 30\nsystem 20\n",
		})
		u, err := (&Group{Version: V1, Dirs: map[string]string{"memory": mem, "cpu": cpu}}).Stats()
		if err != nil {
			t.Fatal(err)
		}
		want := Usage{RSS: 100, Cache: 200, Swap: 3, MemUsage: 400, MemMaxUsage: 800, HasCPU: true,
			CPUUser: 300 * time.Millisecond, CPUSystem: 200 * time.Millisecond, ThrottledPeriods: 1,
			ThrottledTime: 99, HasSwap: true, HasMemMaxUsage: true}
		if u != want {
			t.Errorf("Stats = %+v, want %+v", u, want)
		}
	})
	t.Run("v1 without cpuacct", func(t *testing.T) {
		mem, cpu := t.TempDir(), t.TempDir()
		writeFiles(t, mem, map[string]string{"memory.stat": "total_rss 5\n", "memory.usage_in_bytes": "6\n"})
		u, err := (&Group{Version: V1, Dirs: map[string]string{"memory": mem, "cpu": cpu}}).Stats()
		if err != nil {
			t.Fatal(err)
		}
		if u.HasCPU || u.RSS != 5 || u.MemUsage != 6 || u.HasSwap {
			t.Errorf("Stats = %+v", u)
		}
	})
	t.Run("missing group", func(t *testing.T) {
		if _, err := (&Group{Version: V2, Dirs: map[string]string{unifiedKey: "/nonexistent"}}).Stats(); err == nil {
			t.Error("no error for a missing group")
		}
	})
}
