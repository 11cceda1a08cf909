// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

// This file gets the client its task drivers, as go-plugin subprocesses:
// the built-in drivers all served by ONE subprocess of this binary
// (`drover plugin driver raw_exec,exec,...`: one Go runtime instead of one
// per driver), and each third-party driver from plugin_dir in its own. After
// an agent restart it reattaches to the processes the earlier agent left
// running, so their tasks stay supervised.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/droverhq/drover/drivers/registry"
	"github.com/droverhq/drover/plugins"
)

// reattachTimeout bounds the connection to a plugin an earlier agent left
// running.
const reattachTimeout = 10 * time.Second

// externalLaunchTimeout bounds a third-party plugin's start-up: a file in
// plugin_dir that never completes the handshake must not hold the agent up
// for go-plugin's default minute.
const externalLaunchTimeout = 20 * time.Second

// optInDrivers are the built-in drivers that do nothing unless their
// plugin config says `enabled = true`.
var optInDrivers = map[string]bool{"raw_exec": true, "mock_driver": true}

// pluginEnabled reads `enabled` from a plugin's config block.
func pluginEnabled(cfg map[string]any) bool {
	switch v := cfg["enabled"].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// pluginDir is where third-party driver plugins live: the agent's
// plugin_dir, else Nomad's default, <data_dir>/plugins.
func (a *Agent) pluginDir() string {
	if a.cfg.PluginDir != "" {
		return a.cfg.PluginDir
	}
	return filepath.Join(a.cfg.DataDir, "plugins")
}

// savedDriver is what the client state keeps per driver: how to reach its
// plugin process again and, for a third-party driver, the plugin's file
// (so a restarted agent does not launch that file a second time).
type savedDriver struct {
	Reattach json.RawMessage
	Path     string `json:",omitempty"`
}

// decodeSavedDriver reads a savedDriver, or the bare reattach config that
// agents saved before third-party plugins existed.
func decodeSavedDriver(b []byte) (savedDriver, error) {
	var s savedDriver
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("decode saved driver plugin: %w", err)
	}
	if len(s.Reattach) == 0 {
		s.Reattach = b
	}
	return s, nil
}

// launchDrivers gets every driver's plugin: the one an earlier agent left
// running, from its saved reattach config, so its tasks stay supervised
// (their exit codes and output are not lost); or else a new subprocess.
// Each driver gets its `plugin "NAME" { config {...} }` block, and its
// reattach config is saved for the next agent.
//
// A plugin_dir file that is not a working driver plugin is logged and
// skipped; a third-party driver named like a built-in or like another
// plugin is an error, as the job files could not tell them apart.
func (a *Agent) launchDrivers(ctx context.Context, saved map[string][]byte) (err error) {
	if a.cfg.DevMode {
		// A dev agent killed its plugins on the way out: nothing to
		// reattach to, and nothing earlier to keep alive.
		saved = nil
	}
	a.drivers = map[string]*plugins.PluginDriver{}
	paths := map[string]string{} // third-party driver name -> plugin file
	var launched []*plugins.PluginDriver
	defer func() {
		// Leave no orphan behind an agent that fails to start: nothing
		// was saved that would let the next one reattach to it.
		if err != nil {
			for _, d := range launched {
				d.Kill()
			}
		}
	}()

	for _, name := range slices.Sorted(maps.Keys(saved)) {
		if d, path := a.reattachDriver(ctx, name, saved[name]); d != nil {
			a.drivers[name] = d
			if path != "" {
				paths[name] = path
			}
		}
	}

	var builtins []string
	for _, name := range registry.Names() {
		if a.drivers[name] != nil {
			continue
		}
		if optInDrivers[name] && !pluginEnabled(a.cfg.PluginConfig[name]) && saved[name] == nil {
			// Off unless enabled (raw_exec, as in Nomad): a driver that
			// could only report "undetected" is not worth serving.
			continue
		}
		builtins = append(builtins, name)
	}
	if len(builtins) > 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find own executable for driver plugins: %w", err)
		}
		cmd := exec.Command(exe, "plugin", "driver", strings.Join(builtins, ","))
		ds, err := plugins.LaunchDrivers(ctx, builtins, cmd, a.logger)
		if err != nil {
			return err
		}
		for _, name := range builtins {
			a.drivers[name] = ds[name]
		}
		launched = append(launched, ds[builtins[0]])
	}

	ext, err := a.launchExternalDrivers(ctx, paths)
	launched = append(launched, ext...)
	if err != nil {
		return err
	}

	for _, name := range slices.Sorted(maps.Keys(a.drivers)) {
		if err := a.configureDriver(name, a.drivers[name], paths[name]); err != nil {
			return err
		}
	}
	for name := range saved {
		if a.drivers[name] == nil {
			a.state.PutDriver(name, nil)
		}
	}
	syncCtx, cancel := context.WithTimeout(ctx, reattachTimeout)
	defer cancel()
	if err := a.state.Sync(syncCtx); err != nil {
		return fmt.Errorf("save driver plugin reattach configs: %w", err)
	}
	return nil
}

// configureDriver saves d's reattach config and hands it its plugin block.
func (a *Agent) configureDriver(name string, d *plugins.PluginDriver, path string) error {
	rc, err := plugins.MarshalReattachConfig(d.ReattachConfig())
	if err != nil {
		return fmt.Errorf("driver plugin %q: %w", name, err)
	}
	b, err := json.Marshal(savedDriver{Reattach: rc, Path: path})
	if err != nil {
		return fmt.Errorf("driver plugin %q: encode reattach config: %w", name, err)
	}
	a.state.PutDriver(name, b)
	var conf []byte
	if block := a.cfg.PluginConfig[name]; block != nil {
		if conf, err = json.Marshal(block); err != nil {
			return fmt.Errorf("encode config of plugin %q: %w", name, err)
		}
	}
	if err := d.SetConfig(conf); err != nil {
		return fmt.Errorf("plugin %q: %w", name, err)
	}
	return nil
}

// launchExternalDrivers launches every executable in plugin_dir that an
// earlier agent's plugin (paths, by driver name) does not already serve,
// asks each its driver's name and adds it to a.drivers and paths. It
// returns the processes it launched, also on error, for the caller to
// clean up.
func (a *Agent) launchExternalDrivers(ctx context.Context, paths map[string]string) ([]*plugins.PluginDriver, error) {
	dir := a.pluginDir()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read plugin_dir: %w", err)
	}
	running := map[string]bool{}
	for _, p := range paths {
		running[p] = true
	}
	builtin := registry.Builtin()
	var launched []*plugins.PluginDriver
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if running[path] {
			continue
		}
		info, err := os.Stat(path)
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			a.logger.Debug("plugin_dir entry is not an executable file, skipping", "file", path)
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, externalLaunchTimeout)
		d, err := plugins.Launch(lctx, "", exec.Command(path), a.logger)
		cancel()
		if err != nil {
			a.logger.Error("plugin_dir file is not a working driver plugin, skipping it", "file", path, "error", err)
			continue
		}
		launched = append(launched, d)
		name := d.Name()
		if _, ok := builtin[name]; ok {
			return launched, fmt.Errorf("plugin_dir file %s serves driver %q, the name of a built-in driver: rename its driver or remove the file", path, name)
		}
		if other, ok := paths[name]; ok {
			return launched, fmt.Errorf("plugin_dir files %s and %s both serve driver %q: remove one", other, path, name)
		}
		a.drivers[name] = d
		paths[name] = path
		a.logger.Info("launched third-party driver plugin", "driver", name, "file", path, "pid", d.ReattachConfig().Pid)
	}
	return launched, nil
}

// reattachDriver connects to the plugin an earlier agent launched for
// driver name and returns it with the plugin's file (empty for
// built-ins), or nil when the plugin is gone.
func (a *Agent) reattachDriver(ctx context.Context, name string, saved []byte) (*plugins.PluginDriver, string) {
	s, err := decodeSavedDriver(saved)
	if err != nil {
		a.logger.Warn("bad saved reattach config for driver plugin", "driver", name, "error", err)
		return nil, ""
	}
	rc, err := plugins.UnmarshalReattachConfig(s.Reattach)
	if err != nil {
		a.logger.Warn("bad saved reattach config for driver plugin", "driver", name, "error", err)
		return nil, ""
	}
	ctx, cancel := context.WithTimeout(ctx, reattachTimeout)
	defer cancel()
	d, err := plugins.Reattach(ctx, name, rc, a.logger)
	if err != nil {
		a.logger.Info("driver plugin not reattachable", "driver", name, "pid", rc.Pid, "error", err)
		return nil, ""
	}
	args := []any{"driver", name, "pid", rc.Pid}
	if s.Path != "" {
		args = append(args, "file", s.Path)
	}
	a.logger.Info("reattached to driver plugin", args...)
	return d, s.Path
}
