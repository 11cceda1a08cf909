// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/droverhq/drover/agent/config"
)

func TestResolveAgentConfig(t *testing.T) {
	cfg := config.DevConfig()
	cfg.Name = "n1"
	cfg.Client.Servers = []string{"10.0.0.1", "10.0.0.2:5000"}
	out, cleanup, err := resolveAgentConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := out.DataDir
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("dev data dir not created: %v", err)
	}
	cleanup()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("dev data dir left behind")
	}
	if got := strings.Join(out.Servers, ","); got != "10.0.0.1:4647,10.0.0.2:5000" {
		t.Fatalf("servers = %s", got)
	}
	if out.PluginConfig["raw_exec"]["enabled"] != true || !out.Server || !out.Client || out.NodeName != "n1" {
		t.Fatalf("resolved: %+v", out)
	}
	if out.PluginDir != "" || out.DefaultSchedulerConfig != nil {
		t.Fatalf("plugin_dir and default_scheduler_config unset, got %q %+v", out.PluginDir, out.DefaultSchedulerConfig)
	}

	cfg.PluginDir = "rel/plugins"
	cfg.Server.DefaultSchedulerConfig = &config.SchedulerConfig{SchedulerAlgorithm: "spread"}
	out, cleanup, err = resolveAgentConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if !filepath.IsAbs(out.PluginDir) || !strings.HasSuffix(out.PluginDir, "rel/plugins") {
		t.Fatalf("plugin_dir not made absolute: %q", out.PluginDir)
	}
	if c := out.DefaultSchedulerConfig; c == nil || c.SchedulerAlgorithm != "spread" || !c.PreemptionConfig.SystemSchedulerEnabled {
		t.Fatalf("default_scheduler_config: %+v", c)
	}
}

func TestAgentCommandConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(bad, []byte("server {\n  enabled = true\n  bogus = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-config", bad}, "bad.hcl:3"},
		{[]string{"-config", filepath.Join(dir, "missing.hcl")}, "no such file"},
		{[]string{"-dev", "-log-level", "LOUD"}, `Invalid log level "LOUD"`},
		{[]string{"extra"}, "agent takes no arguments"},
		{[]string{"-data-dir", dir}, "neither server nor client is enabled"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), &UI{Out: &stdout, Err: &stderr}, append([]string{"agent"}, tt.args...))
		if code != ExitError || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("agent %v: exit %d, stderr %q; want %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}
