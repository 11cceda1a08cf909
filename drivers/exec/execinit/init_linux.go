// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package execinit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// init turns the process into a task's init when Command started it. It
// must run before main: the binary's own main (the drover CLI, a test
// runner) has nothing to do in a task.
func init() {
	if os.Getenv(markerEnv) != "1" {
		return
	}
	// Capability changes are per thread and execve keeps the calling
	// thread's: everything from here to the exec happens on this one.
	runtime.LockOSThread()
	err := run()
	report := os.NewFile(errFD, "exec-init-outcome")
	fmt.Fprintf(report, "%v", err)
	os.Exit(127)
}

// run sets the task up and execs its command; it returns only on failure.
func run() error {
	spec, err := readSpec()
	if err != nil {
		return err
	}
	syscall.CloseOnExec(errFD)
	lastCap, err := readLastCap()
	if err != nil {
		return err
	}
	// Nothing mounted from here on may leak into the host's namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := buildRoot(spec); err != nil {
		return err
	}
	if err := enterRoot(spec.Root, spec.NoPivotRoot); err != nil {
		return err
	}
	dir := spec.Dir
	if dir == "" {
		dir = "/"
	}
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("chdir %s in the task root: %w", dir, err)
	}
	if err := limitCaps(spec.Caps, lastCap); err != nil {
		return err
	}
	if err := switchUser(spec); err != nil {
		return err
	}
	return execCommand(spec)
}

func readSpec() (*Spec, error) {
	f := os.NewFile(specFD, "exec-init-spec")
	defer f.Close()
	var spec Spec
	if err := json.NewDecoder(f).Decode(&spec); err != nil {
		return nil, fmt.Errorf("exec init: read spec: %w", err)
	}
	if spec.Root == "" || spec.Command == "" {
		return nil, errors.New("exec init: spec without root or command")
	}
	return &spec, nil
}

func readLastCap() (uint, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, fmt.Errorf("read last capability: %w", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 8)
	if err != nil {
		return 0, fmt.Errorf("parse last capability: %w", err)
	}
	return uint(n), nil
}

// limitCaps drops from the bounding set every capability not in keep, and
// clears the ambient set, so that the command (and anything it executes)
// can never hold more than keep.
func limitCaps(keep []uint, lastCap uint) error {
	kept := map[uint]bool{}
	for _, c := range keep {
		kept[c] = true
	}
	for c := uint(0); c <= lastCap; c++ {
		if kept[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	return nil
}

// switchUser sets the task's groups, group and user. Going from root to
// another user clears the permitted and effective capabilities.
func switchUser(spec *Spec) error {
	groups := make([]int, len(spec.Groups))
	for i, g := range spec.Groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(int(spec.GID)); err != nil {
		return fmt.Errorf("setgid %d: %w", spec.GID, err)
	}
	if err := syscall.Setuid(int(spec.UID)); err != nil {
		return fmt.Errorf("setuid %d: %w", spec.UID, err)
	}
	return nil
}

// defaultPath is searched when the task's environment sets no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// candidates lists where command may be inside the root, in the order
// Nomad's exec driver searches: as is when absolute; else the local
// directory, the task directory, then PATH for a bare name.
func candidates(command string, env []string) []string {
	if filepath.IsAbs(command) {
		return []string{command}
	}
	out := []string{filepath.Join("/local", command), filepath.Join("/", command)}
	if strings.Contains(command, "/") {
		return out
	}
	path := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok && v != "" {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if filepath.IsAbs(dir) {
			out = append(out, filepath.Join(dir, command))
		}
	}
	return out
}

// execCommand replaces the init with the task's command; it returns only
// if no candidate could be executed.
func execCommand(spec *Spec) error {
	argv := append([]string{spec.Command}, spec.Args...)
	var denied error
	for _, path := range candidates(spec.Command, spec.Env) {
		err := syscall.Exec(path, argv, spec.Env)
		switch {
		case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR):
			continue
		case errors.Is(err, syscall.EACCES):
			if denied == nil {
				denied = fmt.Errorf("exec %s: %w", path, err)
			}
			continue
		default:
			return fmt.Errorf("exec %s: %w", path, err)
		}
	}
	if denied != nil {
		return denied
	}
	return fmt.Errorf("command %q not found in the task's chroot (searched /local, the task directory and PATH)", spec.Command)
}
