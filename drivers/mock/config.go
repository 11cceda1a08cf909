// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package mock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// TaskConfig is the task's `config` block: the script the pretend task
// follows. Durations are Go duration strings ("250ms", "1m").
type TaskConfig struct {
	// RunFor is how long the task runs before exiting on its own; unset
	// runs until stopped.
	RunFor string `json:"run_for"`
	// ExitCode and ExitSignal are how it exits on its own.
	ExitCode   int `json:"exit_code"`
	ExitSignal int `json:"exit_signal"`
	// StartError makes StartTask fail with this text.
	StartError string `json:"start_error"`
	// StartBlockFor delays StartTask's return.
	StartBlockFor string `json:"start_block_for"`
	// KillAfter is how long the task takes to exit once StopTask signals
	// it; if that exceeds the stop timeout, it is killed (SIGKILL) at the
	// timeout instead.
	KillAfter string `json:"kill_after"`
	// StdoutString is written to the task's stdout StdoutRepeat more
	// times after the first, every StdoutRepeatDuration.
	StdoutString         string `json:"stdout_string"`
	StdoutRepeat         int    `json:"stdout_repeat"`
	StdoutRepeatDuration string `json:"stdout_repeat_duration"`
	// SignalError makes SignalTask fail with this text.
	SignalError string `json:"signal_error"`
	// Stats is the usage TaskStats reports.
	Stats *Stats `json:"stats"`
}

// Stats is the fixed resource usage a mock task reports.
type Stats struct {
	CPUPercent    float64 `json:"cpu_percent"`
	CPUTotalTicks float64 `json:"cpu_total_ticks"`
	MemoryRSS     uint64  `json:"memory_rss"`
	MemoryCache   uint64  `json:"memory_cache"`
	MemorySwap    uint64  `json:"memory_swap"`
	MemoryUsage   uint64  `json:"memory_usage"`
	MemoryMax     uint64  `json:"memory_max_usage"`
}

// UnmarshalJSON accepts the block as an object or, as HCL-to-JSON turns a
// nested block, a list of one object.
func (s *Stats) UnmarshalJSON(b []byte) error {
	type plain Stats
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		if len(list) != 1 {
			return fmt.Errorf("stats: want one block, got %d", len(list))
		}
		b = list[0]
	}
	return decodeStrict(b, (*plain)(s))
}

// taskSettings is TaskConfig with its durations parsed.
type taskSettings struct {
	TaskConfig
	runFor, startBlockFor, killAfter, repeatEvery time.Duration
}

func parseTaskConfig(b []byte) (taskSettings, error) {
	var s taskSettings
	if len(bytes.TrimSpace(b)) > 0 {
		if err := decodeStrict(b, &s.TaskConfig); err != nil {
			return s, fmt.Errorf("mock task config: %w", err)
		}
	}
	for _, f := range []struct {
		name string
		in   string
		out  *time.Duration
	}{
		{"run_for", s.RunFor, &s.runFor},
		{"start_block_for", s.StartBlockFor, &s.startBlockFor},
		{"kill_after", s.KillAfter, &s.killAfter},
		{"stdout_repeat_duration", s.StdoutRepeatDuration, &s.repeatEvery},
	} {
		if f.in == "" {
			continue
		}
		d, err := time.ParseDuration(f.in)
		if err != nil || d < 0 {
			return s, fmt.Errorf("mock task config: %s: invalid duration %q", f.name, f.in)
		}
		*f.out = d
	}
	if s.StdoutRepeat < 0 {
		return s, errors.New("mock task config: stdout_repeat must not be negative")
	}
	return s, nil
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the object")
	}
	return nil
}
