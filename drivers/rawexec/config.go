// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package rawexec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// PluginConfig is the agent's `plugin "raw_exec" { config { ... } }` block.
// raw_exec runs tasks with the agent's privileges and no isolation, so, as
// in Nomad, it is off unless enabled.
type PluginConfig struct {
	Enabled bool `json:"enabled"`
}

// TaskConfig is a raw_exec task's `config` block.
type TaskConfig struct {
	// Command is looked up in the task's local/ directory, then PATH.
	Command string   `json:"command"`
	Args    []string `json:"args"`
}

func parsePluginConfig(b []byte) (PluginConfig, error) {
	var c PluginConfig
	if len(bytes.TrimSpace(b)) == 0 {
		return c, nil
	}
	if err := decodeStrict(b, &c); err != nil {
		return c, fmt.Errorf("raw_exec plugin config: %w", err)
	}
	return c, nil
}

func parseTaskConfig(b []byte) (TaskConfig, error) {
	var c TaskConfig
	if len(bytes.TrimSpace(b)) == 0 {
		return c, errors.New("raw_exec task config: missing required field \"command\"")
	}
	if err := decodeStrict(b, &c); err != nil {
		return c, fmt.Errorf("raw_exec task config: %w", err)
	}
	if c.Command == "" {
		return c, errors.New("raw_exec task config: missing required field \"command\"")
	}
	return c, nil
}

// decodeStrict decodes one JSON object into v, rejecting unknown keys
// (json's error names the key) and trailing data.
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
