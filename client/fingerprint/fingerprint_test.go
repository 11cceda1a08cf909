// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package fingerprint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/droverhq/drover/plugins"
)

func TestFingerprintThisMachine(t *testing.T) {
	dir := t.TempDir()
	h, err := FingerprintHost(Options{DataDir: dir, Version: "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	a := h.Attributes
	for _, k := range []string{
		"kernel.name", "kernel.version", "cpu.arch", "cpu.numcores", "cpu.frequency",
		"cpu.totalcompute", "memory.totalbytes", "unique.hostname", "unique.network.ip-address",
		"unique.storage.bytestotal", "unique.storage.bytesfree", "unique.storage.volume", "nomad.version",
	} {
		if a[k] == "" {
			t.Errorf("attribute %s missing", k)
		}
	}
	if a["kernel.name"] != runtime.GOOS || a["cpu.arch"] != runtime.GOARCH || a["nomad.version"] != "0.1.0" {
		t.Errorf("unexpected identity attributes: %v", a)
	}
	if n, _ := strconv.Atoi(a["cpu.numcores"]); n != runtime.NumCPU() {
		t.Errorf("cpu.numcores = %q, want %d", a["cpu.numcores"], runtime.NumCPU())
	}
	r := h.Resources
	if r.Cpu.CpuShares < int64(runtime.NumCPU())*100 {
		t.Errorf("cpu shares %d implausibly low", r.Cpu.CpuShares)
	}
	if r.Memory.MemoryMB < 64 {
		t.Errorf("memory %d MB implausibly low", r.Memory.MemoryMB)
	}
	if r.Disk.DiskMB <= 0 {
		t.Errorf("disk %d MB, want > 0", r.Disk.DiskMB)
	}
	total, _ := strconv.ParseUint(a["unique.storage.bytestotal"], 10, 64)
	free, _ := strconv.ParseUint(a["unique.storage.bytesfree"], 10, 64)
	if free > total || total == 0 {
		t.Errorf("storage free %d total %d", free, total)
	}
	if len(r.Cpu.ReservableCpuCores) != runtime.NumCPU() {
		t.Errorf("reservable cores %v", r.Cpu.ReservableCpuCores)
	}
}

func writeFile(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFingerprintFakeRoot(t *testing.T) {
	cases := []struct {
		name      string
		files     map[string]string
		wantMHz   string
		wantModel string
		wantOS    string
		wantOSVer string
		wantMemMB int64
	}{
		{
			name: "cpufreq wins over cpuinfo",
			files: map[string]string{
				"proc/cpuinfo": "processor\t: 0\nmodel name\t: Fake CPU 9000\ncpu MHz\t\t: 1200.500\n",
				"sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq": "3400000\n",
				"proc/meminfo":              "MemTotal:        2048000 kB\nMemFree: 1 kB\n",
				"etc/os-release":            "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"13\"\n",
				"proc/sys/kernel/osrelease": "6.1.0-fake\n",
			},
			wantMHz: "3400", wantModel: "Fake CPU 9000", wantOS: "debian", wantOSVer: "13", wantMemMB: 2000,
		},
		{
			name: "cpuinfo only",
			files: map[string]string{
				"proc/cpuinfo":   "model name : Other\ncpu MHz : 2100.9\n",
				"etc/os-release": "ID='alpine'\nVERSION_ID=3.20.1\n",
			},
			wantMHz: "2100", wantModel: "Other", wantOS: "alpine", wantOSVer: "3.20.1",
		},
		{
			name:    "nothing known falls back",
			files:   map[string]string{},
			wantMHz: strconv.Itoa(DefaultCPUMHz),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, content := range c.files {
				writeFile(t, root, rel, content)
			}
			h, err := FingerprintHost(Options{Root: root, DevMode: true})
			if err != nil {
				t.Fatal(err)
			}
			a := h.Attributes
			if a["cpu.frequency"] != c.wantMHz {
				t.Errorf("cpu.frequency = %q, want %q", a["cpu.frequency"], c.wantMHz)
			}
			mhz, _ := strconv.Atoi(c.wantMHz)
			if h.Resources.Cpu.CpuShares != int64(mhz*runtime.NumCPU()) {
				t.Errorf("cpu shares = %d, want cores × MHz", h.Resources.Cpu.CpuShares)
			}
			if a["cpu.modelname"] != c.wantModel || a["os.name"] != c.wantOS || a["os.version"] != c.wantOSVer {
				t.Errorf("model/os = %q %q %q", a["cpu.modelname"], a["os.name"], a["os.version"])
			}
			if h.Resources.Memory.MemoryMB != c.wantMemMB {
				t.Errorf("memory = %d MB, want %d", h.Resources.Memory.MemoryMB, c.wantMemMB)
			}
			if a["unique.network.ip-address"] != "127.0.0.1" {
				t.Errorf("dev mode address = %q", a["unique.network.ip-address"])
			}
		})
	}
}

func TestMountSource(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "mounts", "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /var/lib ext4 rw 0 0\n/dev/sdc1 /var/libx ext4 rw 0 0\n")
	cases := map[string]string{
		"/var/lib/drover":  "/dev/sdb1",
		"/var/libx/drover": "/dev/sdc1",
		"/var/li":          "/dev/sda1",
		"/var/lib":         "/dev/sdb1",
	}
	for dir, want := range cases {
		if got := mountSource(filepath.Join(root, "mounts"), dir); got != want {
			t.Errorf("mountSource(%q) = %q, want %q", dir, got, want)
		}
	}
}

func TestNodeIdentityPersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	id1, s1, err := NodeIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	id2, s2, err := NodeIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if id1 == "" || id1 != id2 || s1 != s2 || id1 == s1 {
		t.Fatalf("identity not stable: %q/%q then %q/%q", id1, s1, id2, s2)
	}
	b, err := os.ReadFile(filepath.Join(dir, NodeIDFile))
	if err != nil || string(b) != id1+"\n" {
		t.Fatalf("client-id file = %q, %v", b, err)
	}
}

type fpDriver struct {
	plugins.Driver
	fp  *plugins.Fingerprint
	err error
}

func (d fpDriver) Fingerprint(context.Context) (*plugins.Fingerprint, error) { return d.fp, d.err }

func TestDrivers(t *testing.T) {
	drivers := map[string]plugins.Driver{
		"good":   fpDriver{fp: &plugins.Fingerprint{Health: plugins.HealthHealthy, HealthDescription: "ok", Attributes: map[string]string{"driver.good.version": "2"}}},
		"sick":   fpDriver{fp: &plugins.Fingerprint{Health: plugins.HealthUnhealthy, HealthDescription: "no runtime"}},
		"absent": fpDriver{fp: &plugins.Fingerprint{Health: plugins.HealthUndetected}},
		"broken": fpDriver{err: errors.New("plugin exited")},
	}
	infos, attrs := Drivers(context.Background(), drivers)
	cases := []struct {
		name              string
		detected, healthy bool
	}{
		{"good", true, true}, {"sick", true, false}, {"absent", false, false}, {"broken", true, false},
	}
	for _, c := range cases {
		i := infos[c.name]
		if i == nil || i.Detected != c.detected || i.Healthy != c.healthy || i.UpdateTime.IsZero() {
			t.Errorf("%s: %+v", c.name, i)
		}
	}
	if attrs["driver.good"] != "1" || attrs["driver.good.version"] != "2" || attrs["driver.sick"] != "" || len(attrs) != 2 {
		t.Errorf("driver attributes = %v", attrs)
	}
	again, _ := Drivers(context.Background(), drivers)
	for _, i := range again {
		i.UpdateTime = time.Now().Add(time.Hour)
	}
	if !DriversEqual(infos, again) {
		t.Error("same fingerprint compared unequal")
	}
	again["sick"].Healthy = true
	if DriversEqual(infos, again) {
		t.Error("health change not noticed")
	}
}
