// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/droverhq/drover/plugins"
)

func TestParsePluginConfig(t *testing.T) {
	for _, tt := range []struct {
		config  string
		want    PluginConfig
		wantErr string
	}{
		{config: ``, want: PluginConfig{Address: DefaultAddress, Namespace: DefaultNamespace}},
		{config: `{"address":"/tmp/c.sock","namespace":"ns-1","allow_privileged":true}`, want: PluginConfig{Address: "/tmp/c.sock", Namespace: "ns-1", AllowPrivileged: true}},
		{config: `{"adress":"/x"}`, wantErr: `unknown field "adress"`},
		{config: `{"address":"rel.sock"}`, wantErr: "absolute"},
		{config: `{"namespace":"a/b"}`, wantErr: `namespace "a/b"`},
		{config: `{"enabled":"yes"}`, wantErr: "enabled"},
		{config: `{} {}`, wantErr: "after the object"},
	} {
		got, err := parsePluginConfig([]byte(tt.config))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parsePluginConfig(%s) = %v, want error with %q", tt.config, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Address != tt.want.Address || got.Namespace != tt.want.Namespace ||
			got.AllowPrivileged != tt.want.AllowPrivileged || !got.enabled() {
			t.Errorf("parsePluginConfig(%s) = %+v, %v", tt.config, got, err)
		}
	}
	if c, _ := parsePluginConfig([]byte(`{"enabled":false}`)); c.enabled() {
		t.Error("enabled=false is enabled")
	}
}

func TestParseTaskConfig(t *testing.T) {
	for _, tt := range []struct{ config, wantErr string }{
		{``, `missing required field "image"`},
		{`{"command":"sh"}`, `missing required field "image"`},
		{`{"image":"busybox","comand":"sh"}`, `unknown field "comand"`},
		{`{"image":"busybox","args":"x"}`, "args"},
		{`{"image":"oci-archive://x.tar"}`, "must be absolute"},
		{`{"image":"busybox","cwd":"tmp"}`, "cwd"},
		{`{"image":"oci-archive:///x.tar","entrypoint":["/bin/sh"],"command":"-c","args":["x"],"cwd":"/","privileged":true}`, ""},
	} {
		_, err := parseTaskConfig([]byte(tt.config))
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("parseTaskConfig(%s) = %v, want error %q", tt.config, err, tt.wantErr)
		}
	}
}

func TestProcessArgs(t *testing.T) {
	image := ocispec.ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"serve", "--port=1"}}
	for _, tt := range []struct {
		name  string
		tc    TaskConfig
		image ocispec.ImageConfig
		want  []string
	}{
		{"image only", TaskConfig{}, image, []string{"/entry", "serve", "--port=1"}},
		{"command replaces cmd", TaskConfig{Command: "run", Args: []string{"a"}}, image, []string{"/entry", "run", "a"}},
		{"args replace cmd", TaskConfig{Args: []string{"a", "b"}}, image, []string{"/entry", "a", "b"}},
		{"entrypoint drops cmd", TaskConfig{Entrypoint: []string{"/bin/sh"}}, image, []string{"/bin/sh"}},
		{"entrypoint and command", TaskConfig{Entrypoint: []string{"/bin/sh", "-c"}, Command: "echo hi"}, image, []string{"/bin/sh", "-c", "echo hi"}},
		{"no entrypoint in image", TaskConfig{Command: "sleep", Args: []string{"1"}}, ocispec.ImageConfig{Cmd: []string{"sh"}}, []string{"sleep", "1"}},
		{"nothing", TaskConfig{}, ocispec.ImageConfig{}, nil},
	} {
		got, err := processArgs(tt.tc, tt.image)
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s: processArgs = %v, want error", tt.name, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: processArgs = %q, %v, want %q", tt.name, got, err, tt.want)
		}
	}
	// The image's slices are not changed by appending to them.
	if !slices.Equal(image.Entrypoint, []string{"/entry"}) {
		t.Errorf("image entrypoint changed: %v", image.Entrypoint)
	}
}

func TestContainerID(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, cfg := range []plugins.TaskConfig{
		{ID: "8f6c2d3e-1111-2222-3333-444455556666/web/abc123", Name: "web"},
		{ID: "8f6c2d3e-1111-2222-3333-444455556666/web/abc124", Name: "web"},
		{ID: "x/y/z", Name: "--weird name/with.slashes--"},
		{ID: "x/y/w", Name: strings.Repeat("long-", 40)},
		{ID: "x/y/v", Name: "///"},
	} {
		id := containerID(&cfg)
		if !valid.MatchString(id) || len(id) > 76 {
			t.Errorf("containerID(%q) = %q: not a valid containerd ID", cfg.Name, id)
		}
		if seen[id] {
			t.Errorf("containerID(%q) = %q twice", cfg.ID, id)
		}
		seen[id] = true
		if again := containerID(&cfg); again != id {
			t.Errorf("containerID not deterministic: %q, %q", id, again)
		}
	}
}

func TestExitResult(t *testing.T) {
	for _, tt := range []struct {
		code           uint32
		exit, signal   int
		wantSuccessful bool
	}{
		{0, 0, 0, true},
		{3, 3, 0, false},
		{128, 128, 0, false},
		{137, 137, 9, false},
		{143, 143, 15, false},
	} {
		res := exitResult(tt.code)
		if res.ExitCode != tt.exit || res.Signal != tt.signal || res.Successful() != tt.wantSuccessful {
			t.Errorf("exitResult(%d) = %+v", tt.code, res)
		}
	}
}

func TestTaskEnv(t *testing.T) {
	cfg := &plugins.TaskConfig{
		AllocDir: "/data/alloc/a1", TaskDir: "/data/alloc/a1/web",
		Env: map[string]string{"B": "2", "A": "1", "NOMAD_TASK_DIR": "/data/alloc/a1/web/local"},
	}
	want := []string{"A=1", "B=2", "NOMAD_ALLOC_DIR=/alloc", "NOMAD_SECRETS_DIR=/secrets", "NOMAD_TASK_DIR=/local"}
	if got := taskEnv(cfg); !slices.Equal(got, want) {
		t.Errorf("taskEnv = %q, want %q", got, want)
	}
	if cfg.Env["NOMAD_TASK_DIR"] != "/data/alloc/a1/web/local" {
		t.Error("taskEnv changed the task's config")
	}
}
