// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
)

// Plugin config defaults.
const (
	DefaultAddress   = "/run/containerd/containerd.sock"
	DefaultNamespace = "drover"
)

// PluginConfig is the agent's `plugin "containerd" { config { ... } }`
// block. Unlike raw_exec the driver is on by default: it isolates tasks,
// and a host without a containerd socket just fingerprints as undetected.
type PluginConfig struct {
	// Enabled turns the driver off when false (default true).
	Enabled *bool `json:"enabled"`
	// Address is containerd's gRPC socket.
	Address string `json:"address"`
	// Namespace is the containerd namespace that holds Drover's
	// containers and images, apart from other users of the daemon.
	Namespace string `json:"namespace"`
	// AllowPrivileged lets tasks set `privileged = true` (default false,
	// as in Nomad's docker driver): a privileged container is root on the
	// host.
	AllowPrivileged bool `json:"allow_privileged"`
}

func (c PluginConfig) enabled() bool { return c.Enabled == nil || *c.Enabled }

// TaskConfig is a containerd task's `config` block.
type TaskConfig struct {
	// Image is an image reference ("docker.io/library/redis:7", pulled
	// unless already present) or a local OCI image-layout archive
	// "oci-archive:///abs/path/image.tar" (imported once, cached by the
	// archive's digest).
	Image string `json:"image"`
	// Entrypoint replaces the image's entrypoint; setting it also drops
	// the image's command, as `docker run --entrypoint` does.
	Entrypoint []string `json:"entrypoint"`
	// Command replaces the image's command; Args follow it. Args alone
	// replace the image's command too.
	Command string   `json:"command"`
	Args    []string `json:"args"`
	// Cwd is the working directory inside the container (default: the
	// image's, else "/").
	Cwd string `json:"cwd"`
	// Privileged runs the container with all capabilities and devices and
	// no seccomp filter; the plugin must allow it.
	Privileged bool `json:"privileged"`
}

// ociArchivePrefix marks a TaskConfig.Image that is a local archive.
const ociArchivePrefix = "oci-archive://"

// namespacePattern is containerd's rule for namespace names.
var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$`)

func parsePluginConfig(b []byte) (PluginConfig, error) {
	var c PluginConfig
	if len(bytes.TrimSpace(b)) > 0 {
		if err := decodeStrict(b, &c); err != nil {
			return c, fmt.Errorf("containerd plugin config: %w", err)
		}
	}
	if c.Address == "" {
		c.Address = DefaultAddress
	}
	if !filepath.IsAbs(c.Address) {
		return c, fmt.Errorf("containerd plugin config: address %q must be an absolute socket path", c.Address)
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	if !namespacePattern.MatchString(c.Namespace) {
		return c, fmt.Errorf("containerd plugin config: namespace %q: use letters, digits and single . _ - between them", c.Namespace)
	}
	return c, nil
}

func parseTaskConfig(b []byte) (TaskConfig, error) {
	var c TaskConfig
	if len(bytes.TrimSpace(b)) == 0 {
		return c, errors.New("containerd task config: missing required field \"image\"")
	}
	if err := decodeStrict(b, &c); err != nil {
		return c, fmt.Errorf("containerd task config: %w", err)
	}
	if c.Image == "" {
		return c, errors.New("containerd task config: missing required field \"image\"")
	}
	if path, ok := strings.CutPrefix(c.Image, ociArchivePrefix); ok && !filepath.IsAbs(path) {
		return c, fmt.Errorf("containerd task config: image %q: the archive path must be absolute (oci-archive:///abs/path.tar)", c.Image)
	}
	if c.Cwd != "" && !strings.HasPrefix(c.Cwd, "/") {
		return c, fmt.Errorf("containerd task config: cwd %q must be absolute", c.Cwd)
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
