// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build unix

package plugins

import (
	"os/exec"
	"syscall"
)

// detachProcessGroup puts the plugin in its own process group, so a signal
// aimed at the agent's group (Ctrl-C in a terminal, a shell's job control)
// does not reach the plugin and the tasks it supervises.
func detachProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// killProcessGroup kills a launched plugin and everything it started, if
// it was started: detachProcessGroup made its pid its group's id.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
