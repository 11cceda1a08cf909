// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package exec

import (
	"context"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/droverhq/drover/drivers/execio"
	"github.com/droverhq/drover/drivers/osthread"
	"github.com/droverhq/drover/drivers/taskstats"
	"github.com/droverhq/drover/plugins"
)

var _ plugins.TaskOperations = (*Driver)(nil)

// Capabilities: exec signals, execs and chroots.
func (d *Driver) Capabilities() (*plugins.Capabilities, error) {
	return &plugins.Capabilities{SendSignals: true, Exec: true, FSIsolation: plugins.FSIsolationChroot}, nil
}

// SignalTask signals the task's process group.
func (d *Driver) SignalTask(taskID, signal string) error {
	t, sig, err := d.tasks.Signaled("signal", taskID, signal)
	if err != nil {
		return err
	}
	if err := t.proc.Signal(sig); err != nil {
		return fmt.Errorf("signal task %q: %w", taskID, err)
	}
	return nil
}

// TaskStats reads the task's cgroup (see taskstats.CgroupSampler).
func (d *Driver) TaskStats(ctx context.Context, taskID string, interval time.Duration) (<-chan *plugins.TaskResourceUsage, error) {
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return nil, err
	}
	return taskstats.Stream(ctx, interval, t.Done(), taskstats.CgroupSampler(t.group), t.logger), nil
}

// ExecTask runs cmd inside the task: chrooted into the task's root (the
// kernel's /proc/PID/root view of it, mounts included), in its PID, IPC
// and UTS namespaces, in its cgroup, as its user, with its environment.
//
// Joining namespaces happens on a locked OS thread that is thrown away
// afterwards: setns changes only the calling thread, and the child forked
// from it inherits the change. The mount namespace cannot be joined by a
// multi-threaded process, hence the chroot through /proc.
func (d *Driver) ExecTask(ctx context.Context, taskID string, cmd []string, tty bool,
	stdin io.Reader, stdout, stderr io.Writer, resize <-chan plugins.TerminalSize) (int, error) {
	if len(cmd) == 0 {
		return 0, fmt.Errorf("exec in task %q: no command", taskID)
	}
	t, err := d.tasks.Get(taskID)
	if err != nil {
		return 0, err
	}
	if res, _ := t.Exit(); res != nil {
		return 0, fmt.Errorf("exec in task %q: task has exited", taskID)
	}
	pid := t.proc.State().PID
	root := "/proc/" + strconv.Itoa(pid) + "/root"
	env := taskEnv(t.cfg.Env)
	path, err := lookPathIn(root, cmd[0], t.cfg.Env["PATH"])
	if err != nil {
		return 0, fmt.Errorf("exec in task %q: %w", taskID, err)
	}
	name := t.cfg.User
	if name == "" {
		name = defaultUser
	}
	uid, gid, groups, err := lookupUser(name)
	if err != nil {
		return 0, fmt.Errorf("exec in task %q: %w", taskID, err)
	}
	c := &osexec.Cmd{Path: path, Args: cmd, Env: env, Dir: "/"}
	c.SysProcAttr = &syscall.SysProcAttr{
		Chroot:     root,
		Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: groups},
	}
	start := func() error {
		// The thread that joined the task's namespaces is discarded.
		err := osthread.RunThrowaway(func() error {
			if err := joinNamespaces(pid); err != nil {
				return err
			}
			return c.Start()
		})
		if err != nil {
			return err
		}
		if err := t.group.AddProc(c.Process.Pid); err != nil {
			_ = c.Process.Kill()
			_ = c.Wait()
			return err
		}
		return nil
	}
	d.logger.Debug("exec in task", "task_id", taskID, "command", path, "tty", tty)
	code, err := execio.RunWithStart(ctx, c, start, tty, stdin, stdout, stderr, resize)
	if err != nil {
		return 0, fmt.Errorf("exec in task %q: %w", taskID, err)
	}
	return code, nil
}

// joinNamespaces moves the calling thread into pid's PID (for its
// children), IPC and UTS namespaces. Joining one the thread is already in
// is harmless, so a task sharing the host's IPC namespace needs no check.
func joinNamespaces(pid int) error {
	for _, ns := range []struct {
		name string
		flag int
	}{{"pid", unix.CLONE_NEWPID}, {"ipc", unix.CLONE_NEWIPC}, {"uts", unix.CLONE_NEWUTS}} {
		path := fmt.Sprintf("/proc/%d/ns/%s", pid, ns.name)
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("join task namespaces: %w", err)
		}
		err = unix.Setns(int(f.Fd()), ns.flag)
		f.Close()
		if err != nil {
			return fmt.Errorf("join task namespace %s: %w", path, err)
		}
	}
	return nil
}

// lookPathIn finds command as the task would: a path is taken as is, a
// name is searched in the task's PATH, all inside root.
func lookPathIn(root, command, pathEnv string) (string, error) {
	if strings.Contains(command, "/") {
		return command, nil
	}
	if pathEnv == "" {
		pathEnv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, command)
		if fi, err := os.Stat(filepath.Join(root, p)); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("command %q not found in the task's PATH", command)
}
