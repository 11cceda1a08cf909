// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package execinit is the first process of an exec task: the plugin binary
// re-executed inside the task's new namespaces, which builds the task's
// file system, gives up its privileges and then becomes the task's command.
//
// How it is wired (the re-exec pattern, as moby's reexec): this package's
// init function runs in every binary that imports it, before main. In a
// normal run it does nothing. When the process was started by Command, the
// environment variable "_DROVER_EXEC_INIT" is set and argv[0] is
// "drover-exec-init": init then never returns. The drover binary imports
// drivers/registry, which imports drivers/exec, which imports this package,
// so `/proc/self/exe` of the plugin process is always able to serve as the
// init; a test binary of drivers/exec is too.
//
// The parent and the init talk through two pipes, passed as fds 3 and 4:
//
//  1. The plugin starts the init (Command) with clone flags for new mount,
//     UTS, and optionally PID and IPC namespaces. The init blocks reading
//     its Spec from fd 3.
//  2. The plugin moves the init's PID into the task's cgroup, then writes
//     the Spec and closes fd 3 (Cmd.Release). So every byte the task ever
//     allocates is charged to its cgroup.
//  3. The init makes its mounts private, binds the task directory onto
//     itself, binds the host's system directories into it read-only, the
//     alloc directory read-write, mounts /proc, /sys (read-only) and a
//     minimal /dev, pivots into it (or chroots), drops every capability not
//     in Spec.Caps from the bounding set, switches to the task's user and
//     execs the command. fd 4 is close-on-exec: the plugin reading EOF on
//     it with no data knows the exec succeeded; otherwise it reads why the
//     start failed.
//
// With a private PID namespace the command is PID 1 of its namespace: when
// it exits the kernel kills everything else in the namespace. Like any PID
// 1 (and as under Nomad's exec driver or Docker without --init) it gets
// only the signals it installed handlers for, SIGKILL aside; a StopTask
// signal it ignores is followed by SIGKILL after the kill timeout.
package execinit
