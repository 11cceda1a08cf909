// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/droverhq/drover/plugins"
)

// Where the allocation's directories appear inside the container, as in
// Nomad's docker driver; the NOMAD_*_DIR variables are set to match.
const (
	containerAllocDir   = "/alloc"
	containerLocalDir   = "/local"
	containerSecretsDir = "/secrets"
)

// taskMounts binds the shared alloc dir and the task's local/ and secrets/
// into the container, creating missing sources (a bind mount needs one).
func taskMounts(cfg *plugins.TaskConfig) ([]specs.Mount, error) {
	var mounts []specs.Mount
	add := func(source, dest string) error {
		if err := os.MkdirAll(source, 0o755); err != nil {
			return fmt.Errorf("mount source for %s: %w", dest, err)
		}
		mounts = append(mounts, specs.Mount{
			Destination: dest, Type: "bind", Source: source,
			Options: []string{"rbind", "rw", "rprivate"},
		})
		return nil
	}
	if cfg.AllocDir != "" {
		if err := add(filepath.Join(cfg.AllocDir, "alloc"), containerAllocDir); err != nil {
			return nil, err
		}
	}
	if cfg.TaskDir != "" {
		if err := add(filepath.Join(cfg.TaskDir, "local"), containerLocalDir); err != nil {
			return nil, err
		}
		if err := add(filepath.Join(cfg.TaskDir, "secrets"), containerSecretsDir); err != nil {
			return nil, err
		}
	}
	return mounts, nil
}

// taskEnv is the task's environment as the container sees it: the
// NOMAD_*_DIR variables point at the mounts, not at host paths.
func taskEnv(cfg *plugins.TaskConfig) []string {
	env := maps.Clone(cfg.Env)
	if env == nil {
		env = map[string]string{}
	}
	if cfg.AllocDir != "" {
		env["NOMAD_ALLOC_DIR"] = containerAllocDir
	}
	if cfg.TaskDir != "" {
		env["NOMAD_TASK_DIR"] = containerLocalDir
		env["NOMAD_SECRETS_DIR"] = containerSecretsDir
	}
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// processArgs combines the task's entrypoint/command/args with the
// image's, following `docker run`: an entrypoint given drops the image's
// command; a command or args given replace the image's command.
func processArgs(tc TaskConfig, image ocispec.ImageConfig) ([]string, error) {
	entrypoint := image.Entrypoint
	cmd := image.Cmd
	if len(tc.Entrypoint) > 0 {
		entrypoint, cmd = tc.Entrypoint, nil
	}
	switch {
	case tc.Command != "":
		cmd = append([]string{tc.Command}, tc.Args...)
	case len(tc.Args) > 0:
		cmd = tc.Args
	}
	args := append(slices.Clone(entrypoint), cmd...)
	if len(args) == 0 {
		return nil, errors.New("no command: the image has no entrypoint or command, and the task sets none")
	}
	return args, nil
}

// specOpts builds the container's OCI spec on top of containerd's
// defaults: the image's config, then the task's process, mounts, host
// networking, resources and security settings.
func specOpts(cfg *plugins.TaskConfig, tc TaskConfig, img oci.Image, imgConfig ocispec.ImageConfig, cgroup string) ([]oci.SpecOpts, error) {
	args, err := processArgs(tc, imgConfig)
	if err != nil {
		return nil, err
	}
	mounts, err := taskMounts(cfg)
	if err != nil {
		return nil, err
	}
	opts := []oci.SpecOpts{
		oci.WithImageConfig(img),
		oci.WithProcessArgs(args...),
		oci.WithEnv(taskEnv(cfg)),
		oci.WithMounts(mounts),
		// Host networking: the task binds the node's ports directly, so
		// the scheduler's port assignments (NOMAD_PORT_*) need no mapping.
		oci.WithHostNamespace(specs.NetworkNamespace),
		oci.WithHostHostsFile,
		oci.WithHostResolvconf,
		oci.WithCgroup(cgroup),
	}
	if tc.Cwd != "" {
		opts = append(opts, oci.WithProcessCwd(tc.Cwd))
	}
	if cfg.User != "" {
		opts = append(opts, oci.WithUser(cfg.User))
	}
	opts = append(opts, resourceOpts(cfg)...)
	if tc.Privileged {
		opts = append(opts, oci.WithPrivileged, oci.WithAllDevicesAllowed, oci.WithHostDevices)
	} else {
		opts = append(opts, seccomp.WithDefaultProfile())
	}
	return opts, nil
}

// resourceOpts turns the scheduler's reservation into cgroup limits, as
// Nomad does for containers: MemoryMB is the hard limit, unless
// MemoryMaxMB is larger, which makes MemoryMB a soft reservation and
// MemoryMaxMB the hard limit; swap is not allowed beyond it; CPUMHz
// becomes relative CPU shares; exclusive Cores become the container's
// cpuset.
func resourceOpts(cfg *plugins.TaskConfig) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if cfg.MemoryMB > 0 {
		limit := cfg.MemoryMB << 20
		if cfg.MemoryMaxMB > cfg.MemoryMB {
			limit = cfg.MemoryMaxMB << 20
			opts = append(opts, withMemoryReservation(cfg.MemoryMB<<20))
		}
		opts = append(opts, oci.WithMemoryLimit(uint64(limit)))
		if swapAccounting() {
			opts = append(opts, oci.WithMemorySwap(limit))
		}
	}
	if cfg.CPUMHz > 0 {
		opts = append(opts, oci.WithCPUShares(uint64(max(cfg.CPUMHz, 2))))
	}
	if len(cfg.Cores) > 0 {
		cpus := make([]string, len(cfg.Cores))
		for i, c := range cfg.Cores {
			cpus[i] = strconv.Itoa(int(c))
		}
		opts = append(opts, oci.WithCPUs(strings.Join(cpus, ",")))
	}
	return opts
}

// withMemoryReservation sets the soft memory limit, which oci lacks.
func withMemoryReservation(bytes int64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Linux == nil {
			s.Linux = &specs.Linux{}
		}
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		if s.Linux.Resources.Memory == nil {
			s.Linux.Resources.Memory = &specs.LinuxMemory{}
		}
		s.Linux.Resources.Memory.Reservation = &bytes
		return nil
	}
}
