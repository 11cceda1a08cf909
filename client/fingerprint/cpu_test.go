// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package fingerprint

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReservableCores(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []uint16
	}{
		{"online cores", map[string]string{"/sys/devices/system/cpu/online": "0-3,8\n"}, []uint16{0, 1, 2, 3, 8}},
		{"v2 cpuset of the agent", map[string]string{
			"/proc/self/cgroup": "0::/system.slice/drover.service\n",
			"/sys/fs/cgroup/system.slice/drover.service/cpuset.cpus.effective": "2-3\n",
			"/sys/devices/system/cpu/online":                                   "0-7\n",
		}, []uint16{2, 3}},
		{"v1 cpuset on a hybrid host", map[string]string{
			"/proc/self/cgroup": "3:cpuset:/agent\n2:cpu,cpuacct:/\n0::/\n",
			"/sys/fs/cgroup/cpuset/agent/cpuset.effective_cpus": "1,3\n",
			"/sys/devices/system/cpu/online":                    "0-3\n",
		}, []uint16{1, 3}},
		{"unreadable cpuset falls back to online", map[string]string{
			"/proc/self/cgroup":              "0::/gone\n",
			"/sys/devices/system/cpu/online": "0-1\n",
		}, []uint16{0, 1}},
		{"nothing readable", nil, []uint16{0, 1, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for p, body := range tc.files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, p), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := reservableCores(Options{Root: root}, 3); !slices.Equal(got, tc.want) {
				t.Errorf("reservableCores = %v, want %v", got, tc.want)
			}
		})
	}
}
