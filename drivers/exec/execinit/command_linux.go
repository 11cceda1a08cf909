// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build linux

package execinit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

const (
	// markerEnv in the environment makes init take over the process.
	markerEnv = "_DROVER_EXEC_INIT"
	// argv0 names the init in process listings.
	argv0 = "drover-exec-init"
	// specFD and errFD are the init's ends of the two pipes.
	specFD = 3
	errFD  = 4
)

// Namespaces says which namespaces the task gets of its own. Mount and UTS
// namespaces are always new.
type Namespaces struct {
	PID bool
	IPC bool
}

// Cmd is an init process to start, with the plugin's ends of its pipes.
type Cmd struct {
	// Cmd is the process to start. Its caller sets Stdout and Stderr (or
	// lets drivers/supervise do it) and must not change Path, Args, Env,
	// ExtraFiles or the clone flags.
	Cmd *exec.Cmd

	specW *os.File // the Spec goes here once the init is in its cgroup
	errR  *os.File // a start failure comes back here; EOF means exec'd

	childEnds []*os.File
}

// Command returns an unstarted init process for a task with the given
// namespaces: this very binary (/proc/self/exe) with the init marker.
func Command(ns Namespaces) (*Cmd, error) {
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("exec init: spec pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		specR.Close()
		specW.Close()
		return nil, fmt.Errorf("exec init: error pipe: %w", err)
	}
	flags := uintptr(syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS)
	if ns.PID {
		flags |= syscall.CLONE_NEWPID
	}
	if ns.IPC {
		flags |= syscall.CLONE_NEWIPC
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{argv0},
		Env:        []string{markerEnv + "=1"},
		ExtraFiles: []*os.File{specR, errW}, // fds 3 and 4
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: flags,
			Setpgid:    true,
		},
	}
	return &Cmd{Cmd: cmd, specW: specW, errR: errR, childEnds: []*os.File{specR, errW}}, nil
}

// CloseChildEnds closes the plugin's copies of the init's pipe ends; call
// it once the process has started, or it would never see EOF on errR.
func (c *Cmd) CloseChildEnds() {
	for _, f := range c.childEnds {
		f.Close()
	}
	c.childEnds = nil
}

// Close releases every pipe end still open.
func (c *Cmd) Close() {
	c.CloseChildEnds()
	c.specW.Close()
	c.errR.Close()
}

// Release sends spec to the started init, which then sets up the task and
// execs its command, and waits up to timeout for the outcome: nil once the
// command runs, or why it could not be started. Call it after the init is
// in the task's cgroup. Release closes the pipes.
func (c *Cmd) Release(spec *Spec, timeout time.Duration) error {
	defer c.Close()
	c.CloseChildEnds()
	b, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("exec init: encode spec: %w", err)
	}
	c.specW.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.specW.Write(b); err != nil {
		return fmt.Errorf("exec init: send spec: %w", err)
	}
	c.specW.Close()
	c.errR.SetReadDeadline(time.Now().Add(timeout))
	msg, err := io.ReadAll(c.errR)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("exec init: no word from the task's init after %v", timeout)
	}
	if err != nil {
		return fmt.Errorf("exec init: read outcome: %w", err)
	}
	if len(msg) > 0 {
		return errors.New(string(msg))
	}
	return nil
}
