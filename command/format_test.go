// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/droverhq/drover/api"
)

func TestRelativeTime(t *testing.T) {
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{0, "0s ago"},
		{400 * time.Millisecond, "0s ago"},
		{21 * time.Second, "21s ago"},
		{68 * time.Second, "1m8s ago"},
		{5 * time.Minute, "5m ago"},
		{6*time.Hour + 4*time.Minute + 5*time.Second, "6h4m ago"},
		{time.Hour + 5*time.Second, "1h ago"},
		{25*time.Hour + 30*time.Minute, "1d1h ago"},
		{-3 * time.Second, "3s from now"},
	}
	for _, tt := range tests {
		if got := relativeTime(testNow.Add(-tt.ago), testNow); got != tt.want {
			t.Errorf("relativeTime(-%s) = %q, want %q", tt.ago, got, tt.want)
		}
	}
	if got := relativeTime(time.Time{}, testNow); got != "N/A" {
		t.Errorf("zero time = %q", got)
	}
}

func TestHumanBytes(t *testing.T) {
	tests := map[uint64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 6_606_028: "6.3 MiB",
		256 << 20: "256 MiB", 8 << 30: "8.0 GiB", 50 << 30: "50 GiB",
	}
	for in, want := range tests {
		if got := humanBytes(in); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatKVAndList(t *testing.T) {
	if got, want := formatKV([]string{"ID|abc", "Client Status|running"}),
		"ID            = abc\nClient Status = running"; got != want {
		t.Errorf("formatKV = %q, want %q", got, want)
	}
	if got, want := formatList([]string{"ID|Class", "a|", "bbb|x"}),
		"ID   Class\na    <none>\nbbb  x"; got != want {
		t.Errorf("formatList = %q, want %q", got, want)
	}
}

func TestUUIDPrefixes(t *testing.T) {
	tests := []struct {
		in, sanitized string
		uuidLike      bool
	}{
		{"c2b4606", "c2b460", true},
		{"c2b4606d", "c2b4606d", true},
		{"c2b4606d-1", "c2b4606d-", true},
		{"c2b4606d-1b", "c2b4606d-1b", true},
		{"hello", "hell", false},
		{"a", "", false},
		{"DEAD", "DEAD", false},
	}
	for _, tt := range tests {
		if got := sanitizeUUIDPrefix(tt.in); got != tt.sanitized {
			t.Errorf("sanitizeUUIDPrefix(%q) = %q, want %q", tt.in, got, tt.sanitized)
		}
		if got := looksLikeUUIDPrefix(tt.in); got != tt.uuidLike {
			t.Errorf("looksLikeUUIDPrefix(%q) = %t", tt.in, got)
		}
	}
}

func TestLogsOrigin(t *testing.T) {
	tests := []struct {
		name   string
		opts   logsOptions
		origin string
		offset int64
		keep   int
	}{
		{"whole log", logsOptions{lines: -1, bytes: -1}, "start", 0, -1},
		{"tail", logsOptions{tail: true, lines: -1, bytes: -1}, "end", 1200, 10},
		{"lines", logsOptions{lines: 3, bytes: -1}, "end", 360, 3},
		{"bytes win", logsOptions{tail: true, lines: 3, bytes: 50}, "end", 50, -1},
	}
	for _, tt := range tests {
		origin, offset, keep := tt.opts.origin()
		if origin != tt.origin || offset != tt.offset || keep != tt.keep {
			t.Errorf("%s: got (%s, %d, %d), want (%s, %d, %d)", tt.name, origin, offset, keep, tt.origin, tt.offset, tt.keep)
		}
	}
}

func TestLastLines(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\n", 5, "a\nb\n"},
		{"a\nb\n", 0, ""},
		{"", 3, ""},
	}
	for _, tt := range tests {
		if got := string(lastLines([]byte(tt.in), tt.n)); got != tt.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestFormatAllocMetrics(t *testing.T) {
	m := &api.AllocationMetric{
		NodesEvaluated: 0,
		NodesAvailable: map[string]int{"dc2": 0, "dc1": 3},
		ClassFiltered:  map[string]int{"gpu": 2},
		QuotaExhausted: []string{"cpu exhausted (1000 needed > 500 limit)"},
	}
	want := `  * No nodes were eligible for evaluation
  * No nodes are available in datacenter "dc2"
  * Class "gpu": 2 nodes excluded by filter
  * Quota limit hit "cpu exhausted (1000 needed > 500 limit)"`
	if got := formatAllocMetrics(m, "  "); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestDecodeJSONJob(t *testing.T) {
	tests := []struct {
		name, src, wantID, wantErr string
	}{
		{"wrapped", `{"Job": {"ID": "a"}}`, "a", ""},
		{"bare", `{"ID": "b", "Type": "batch"}`, "b", ""},
		{"no id", `{"Type": "batch"}`, "", "parsing JSON job file f.json: no job ID or Name"},
		{"garbage", `{`, "", "parsing JSON job file f.json: unexpected EOF"},
	}
	for _, tt := range tests {
		job, err := decodeJSONJob("f.json", []byte(tt.src))
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || *job.ID != tt.wantID {
			t.Errorf("%s: job %v, err %v", tt.name, job, err)
		}
	}
}

func TestReadJobFromStdin(t *testing.T) {
	job, err := readJob("-", stringsReader(`{"Job": {"ID": "from-stdin"}}`), jobFileOptions{json: true})
	if err != nil || *job.ID != "from-stdin" {
		t.Fatalf("job %v, err %v", job, err)
	}
	path := filepath.Join(t.TempDir(), "bad.hcl")
	os.WriteFile(path, []byte("job \"x\" {\n  group = 3 = 4\n}\n"), 0o600)
	if _, err := readJob(path, nil, jobFileOptions{}); err == nil {
		t.Fatal("a malformed HCL file parsed")
	}
}
