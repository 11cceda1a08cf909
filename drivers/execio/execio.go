// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package execio runs one `alloc exec` command for a driver: it wires the
// session's stdin, output and terminal to a prepared *exec.Cmd, kills the
// command when the session ends, and turns its end into an exit code.
package execio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/droverhq/drover/plugins"
)

// outputGrace is how long Run waits for output after the command exits:
// a background child may hold the output pipes open forever.
const outputGrace = 2 * time.Second

// Run starts cmd (Path, Args, Env, Dir and credentials set by the driver),
// copies the session's streams to and from it, and returns its exit code:
// the code it exited with, or 128+N when signal N killed it, as shells
// report. Whatever the command left running in its process group is
// killed when it exits. Cancelling ctx kills the command's process group and returns
// ctx's error.
func Run(ctx context.Context, cmd *exec.Cmd, tty bool, stdin io.Reader, stdout, stderr io.Writer,
	resize <-chan plugins.TerminalSize) (int, error) {
	return RunWithStart(ctx, cmd, cmd.Start, tty, stdin, stdout, stderr, resize)
}

// RunWithStart is Run with the driver's own way to start cmd (e.g. from a
// thread that joined the task's namespaces). start must call cmd.Start.
func RunWithStart(ctx context.Context, cmd *exec.Cmd, start func() error, tty bool, stdin io.Reader,
	stdout, stderr io.Writer, resize <-chan plugins.TerminalSize) (int, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var wait func() error
	var err error
	if tty {
		wait, err = startTTY(cmd, start, stdin, stdout, resize)
	} else {
		wait, err = startPipes(cmd, start, stdin, stdout, stderr)
	}
	if err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	stop := context.AfterFunc(ctx, func() {
		// The command leads its own group (Setpgid or Setsid).
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	})
	defer stop()
	werr := wait()
	// Nothing the session started outlives it.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return exitCode(werr)
}

func startPipes(cmd *exec.Cmd, start func() error, stdin io.Reader, stdout, stderr io.Writer) (func() error, error) {
	cmd.SysProcAttr.Setpgid = true
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = outputGrace
	var in io.WriteCloser
	if stdin != nil {
		var err error
		if in, err = cmd.StdinPipe(); err != nil {
			return nil, fmt.Errorf("exec %s: %w", cmd.Path, err)
		}
	}
	if err := start(); err != nil {
		if in != nil {
			in.Close()
		}
		return nil, fmt.Errorf("exec %s: %w", cmd.Path, err)
	}
	if in != nil {
		// Our own copy: os/exec's would make Wait wait for a stdin that
		// may never end.
		go func() {
			_, _ = io.Copy(in, stdin)
			in.Close()
		}()
	}
	return cmd.Wait, nil
}

// startTTY runs cmd as a session leader on a new pseudo-terminal, whose
// output (stdout and stderr both) goes to stdout.
func startTTY(cmd *exec.Cmd, start func() error, stdin io.Reader, stdout io.Writer, resize <-chan plugins.TerminalSize) (func() error, error) {
	master, slave, err := openPTY()
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", cmd.Path, err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0 // the child's stdin
	if err := start(); err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("exec %s: %w", cmd.Path, err)
	}
	slave.Close()
	done := make(chan struct{})
	outDone := make(chan struct{})
	resizeDone := make(chan struct{})
	go func() {
		defer close(outDone)
		// Ends with EIO once every holder of the terminal has exited.
		_, _ = io.Copy(stdout, master)
	}()
	if stdin != nil {
		go func() { _, _ = io.Copy(master, stdin) }()
	}
	go func() {
		defer close(resizeDone)
		for {
			select {
			case sz, ok := <-resize:
				if !ok {
					return
				}
				setSize(master, sz)
			case <-done:
				return
			}
		}
	}()
	return func() error {
		err := cmd.Wait()
		close(done)
		<-resizeDone
		select {
		case <-outDone:
		case <-time.After(outputGrace):
		}
		master.Close()
		return err
	}, nil
}

// setSize sets the terminal's size. It goes through SyscallConn: Fd
// would switch the master to blocking mode, and Close could then no
// longer interrupt the output copy.
func setSize(master *os.File, sz plugins.TerminalSize) {
	rc, err := master.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: sz.Height, Col: sz.Width})
	})
}

// openPTY opens a new pseudo-terminal pair through /dev/ptmx. The master
// is non-blocking, so Go polls it and Close interrupts a pending read.
func openPTY() (master, slave *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open pty: %w", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	slave, err = os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("open %s: %w", name, err)
	}
	return master, slave, nil
}

// exitCode maps Wait's result to a shell-style exit code.
func exitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		if errors.Is(err, exec.ErrWaitDelay) {
			return 0, nil // exited; a child kept the output open
		}
		return 0, fmt.Errorf("exec: %w", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ee.ExitCode(), nil
}
