// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package exec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// Namespace modes of pid_mode and ipc_mode.
const (
	modePrivate = "private"
	modeHost    = "host"
)

// PluginConfig is the agent's `plugin "exec" { config { ... } }` block,
// with Nomad's options.
type PluginConfig struct {
	// DefaultPIDMode and DefaultIPCMode apply to tasks that set no
	// pid_mode or ipc_mode: "private" (the default) or "host".
	DefaultPIDMode string `json:"default_pid_mode"`
	DefaultIPCMode string `json:"default_ipc_mode"`
	// NoPivotRoot enters the task's root with chroot, for hosts whose root
	// file system is a ramdisk.
	NoPivotRoot bool `json:"no_pivot_root"`
	// AllowCaps are the capabilities tasks may have; "all" allows every
	// one. Unset means DefaultCaps.
	AllowCaps []string `json:"allow_caps"`
	// ChrootEnv maps host paths to where they appear, read-only, in the
	// task's root. Unset means DefaultChrootEnv; sources missing on the
	// host are skipped.
	ChrootEnv map[string]string `json:"chroot_env"`
}

// TaskConfig is an exec task's `config` block.
type TaskConfig struct {
	Command string   `json:"command"`
	Args    []string `json:"args"`
	PIDMode string   `json:"pid_mode"`
	IPCMode string   `json:"ipc_mode"`
	CapAdd  []string `json:"cap_add"`
	CapDrop []string `json:"cap_drop"`
}

// DefaultChrootEnv is Nomad's default chroot: the host's system
// directories.
var DefaultChrootEnv = map[string]string{
	"/bin":            "/bin",
	"/etc":            "/etc",
	"/lib":            "/lib",
	"/lib32":          "/lib32",
	"/lib64":          "/lib64",
	"/run/resolvconf": "/run/resolvconf",
	"/sbin":           "/sbin",
	"/usr":            "/usr",
}

// settings is the validated plugin config.
type settings struct {
	pidMode, ipcMode string
	noPivotRoot      bool
	allowed          capSet
	chrootEnv        map[string]string
}

func parsePluginConfig(b []byte) (settings, error) {
	var c PluginConfig
	if len(bytes.TrimSpace(b)) > 0 {
		if err := decodeStrict(b, &c); err != nil {
			return settings{}, fmt.Errorf("exec plugin config: %w", err)
		}
	}
	s := settings{noPivotRoot: c.NoPivotRoot, chrootEnv: maps.Clone(DefaultChrootEnv)}
	var err error
	if s.pidMode, err = parseMode("default_pid_mode", c.DefaultPIDMode, modePrivate); err != nil {
		return settings{}, fmt.Errorf("exec plugin config: %w", err)
	}
	if s.ipcMode, err = parseMode("default_ipc_mode", c.DefaultIPCMode, modePrivate); err != nil {
		return settings{}, fmt.Errorf("exec plugin config: %w", err)
	}
	s.allowed = defaultCaps()
	if c.AllowCaps != nil {
		if s.allowed, err = parseCaps(c.AllowCaps); err != nil {
			return settings{}, fmt.Errorf("exec plugin config: allow_caps: %w", err)
		}
	}
	if c.ChrootEnv != nil {
		for src, dst := range c.ChrootEnv {
			if !filepath.IsAbs(src) || !filepath.IsAbs(dst) || filepath.Clean(dst) == "/" {
				return settings{}, fmt.Errorf("exec plugin config: chroot_env: %q = %q: both must be absolute paths and the target not /", src, dst)
			}
		}
		s.chrootEnv = maps.Clone(c.ChrootEnv)
	}
	return s, nil
}

// taskSettings is a task's validated config, with the plugin's defaults
// applied.
type taskSettings struct {
	TaskConfig
	privatePID, privateIPC bool
	caps                   []uint
}

func parseTaskConfig(b []byte, s settings) (taskSettings, error) {
	var c TaskConfig
	if len(bytes.TrimSpace(b)) > 0 {
		if err := decodeStrict(b, &c); err != nil {
			return taskSettings{}, fmt.Errorf("exec task config: %w", err)
		}
	}
	if c.Command == "" {
		return taskSettings{}, errors.New("exec task config: missing required field \"command\"")
	}
	ts := taskSettings{TaskConfig: c}
	pid, err := parseMode("pid_mode", c.PIDMode, s.pidMode)
	if err != nil {
		return taskSettings{}, fmt.Errorf("exec task config: %w", err)
	}
	ipc, err := parseMode("ipc_mode", c.IPCMode, s.ipcMode)
	if err != nil {
		return taskSettings{}, fmt.Errorf("exec task config: %w", err)
	}
	ts.privatePID, ts.privateIPC = pid == modePrivate, ipc == modePrivate
	caps, err := taskCaps(s.allowed, c.CapAdd, c.CapDrop)
	if err != nil {
		return taskSettings{}, fmt.Errorf("exec task config: %w", err)
	}
	ts.caps = caps.numbers()
	return ts, nil
}

func parseMode(field, mode, def string) (string, error) {
	switch mode {
	case "":
		return def, nil
	case modePrivate, modeHost:
		return mode, nil
	}
	return "", fmt.Errorf("%s: %q is neither %q nor %q", field, mode, modePrivate, modeHost)
}

// sortedChroot lists the chroot_env sources in the order to mount them:
// by target, so that a parent is mounted before what is mounted in it.
func sortedChroot(env map[string]string) []string {
	return slices.SortedFunc(maps.Keys(env), func(a, b string) int {
		return strings.Compare(filepath.Clean(env[a]), filepath.Clean(env[b]))
	})
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
