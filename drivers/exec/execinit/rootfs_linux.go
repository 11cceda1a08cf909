// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package execinit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// devices are the host device nodes a task's /dev gets (as bind mounts of
// the host's nodes: creating nodes would need CAP_MKNOD in the namespace).
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// buildRoot assembles the task's file system under spec.Root, inside the
// init's private mount namespace: none of it is visible on the host, and
// it all goes away with the namespace's last process. On the host, only
// the empty mount point directories remain in the task directory.
func buildRoot(spec *Spec) error {
	root := spec.Root
	// A bind of the root onto itself makes it a mount point, which
	// pivot_root requires, and lets binds below it stack on this mount.
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind task root %s: %w", root, err)
	}
	for _, m := range spec.Mounts {
		if err := bind(root, m); err != nil {
			return err
		}
	}
	proc, err := mountPoint(root, "/proc", true)
	if err != nil {
		return err
	}
	if err := unix.Mount("proc", proc, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	sys, err := mountPoint(root, "/sys", true)
	if err != nil {
		return err
	}
	if err := unix.Mount("sysfs", sys, "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /sys: %w", err)
	}
	return buildDev(root, spec.HostIPC)
}

// bind mounts m.Source at m.Target inside root, read-only if asked.
func bind(root string, m Mount) error {
	fi, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("mount %s: %w", m.Source, err)
	}
	target, err := mountPoint(root, m.Target, fi.IsDir())
	if err != nil {
		return err
	}
	if err := unix.Mount(m.Source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", m.Source, m.Target, err)
	}
	if m.ReadOnly {
		if err := makeReadOnly(target); err != nil {
			return fmt.Errorf("make %s read-only: %w", m.Target, err)
		}
	}
	return nil
}

// makeReadOnly makes the mount at target and every mount below it
// read-only, leaving their other flags (nosuid, nodev...) as they are.
func makeReadOnly(target string) error {
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	err := unix.MountSetattr(-1, target, unix.AT_RECURSIVE, attr)
	if !errors.Is(err, unix.ENOSYS) {
		return err
	}
	// Kernels before 5.12: remount the top mount only, keeping its flags.
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		return err
	}
	flags := uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME | unix.MS_RELATIME)
	return unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|flags, "")
}

// buildDev mounts a small /dev: a tmpfs holding the host's harmless
// devices, the usual /proc/self/fd links, and /dev/shm (the host's with
// ipc_mode = "host", else a private tmpfs).
func buildDev(root string, hostIPC bool) error {
	dev, err := mountPoint(root, "/dev", true)
	if err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755,size=64k"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, name := range devices {
		if err := bind(root, Mount{Source: "/dev/" + name, Target: "/dev/" + name}); err != nil {
			return err
		}
	}
	for link, to := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	} {
		if err := os.Symlink(to, filepath.Join(dev, link)); err != nil {
			return fmt.Errorf("link /dev/%s: %w", link, err)
		}
	}
	if hostIPC {
		return bind(root, Mount{Source: "/dev/shm", Target: "/dev/shm"})
	}
	shm, err := mountPoint(root, "/dev/shm", true)
	if err != nil {
		return err
	}
	if err := unix.Mount("shm", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777"); err != nil {
		return fmt.Errorf("mount /dev/shm: %w", err)
	}
	return nil
}

// mountPoint returns the host path of target inside root, creating it (a
// directory, or an empty file when dir is false) and any missing parent.
// No component may be a symbolic link: a task that planted one in its
// directory must not redirect a mount onto the host.
func mountPoint(root, target string, dir bool) (string, error) {
	rel := strings.TrimPrefix(filepath.Clean("/"+target), "/")
	if rel == "" {
		return "", fmt.Errorf("mount target %q: is the root", target)
	}
	parts := strings.Split(rel, "/")
	cur := root
	for i, p := range parts {
		cur = filepath.Join(cur, p)
		last := i == len(parts)-1
		fi, err := os.Lstat(cur)
		switch {
		case err == nil && fi.Mode()&os.ModeSymlink != 0:
			return "", fmt.Errorf("mount target %s: %s is a symbolic link", target, cur)
		case err == nil:
			continue
		case !errors.Is(err, os.ErrNotExist):
			return "", fmt.Errorf("mount target %s: %w", target, err)
		case last && !dir:
			f, err := os.OpenFile(cur, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return "", fmt.Errorf("mount target %s: %w", target, err)
			}
			f.Close()
		default:
			if err := os.Mkdir(cur, 0o755); err != nil {
				return "", fmt.Errorf("mount target %s: %w", target, err)
			}
		}
	}
	return cur, nil
}

// enterRoot makes root the process's "/". pivot_root detaches the host's
// file system from the namespace entirely; chroot (no_pivot_root, or a
// ramdisk root where pivot_root fails) leaves it reachable to a process
// holding CAP_SYS_CHROOT, so it is the fallback.
func enterRoot(root string, noPivot bool) error {
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("chdir %s: %w", root, err)
	}
	if !noPivot {
		// pivot_root(".", ".") stacks the old root on top of the new one;
		// unmounting "." then removes the old root, leaving the new one.
		if err := unix.PivotRoot(".", "."); err == nil {
			if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
				return fmt.Errorf("detach host root: %w", err)
			}
			return unix.Chdir("/")
		}
	}
	if err := unix.Mount(root, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move task root to /: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot %s: %w", root, err)
	}
	return unix.Chdir("/")
}
