// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build !unix

package plugins

import "os/exec"

// detachProcessGroup has nothing to do where process groups do not exist.
func detachProcessGroup(*exec.Cmd) {}

// killProcessGroup kills the launched plugin alone where process groups do
// not exist.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
