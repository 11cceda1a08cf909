// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build !linux

package cgroups

import (
	"errors"
	"os/exec"
)

// StartCommand fails off Linux, where Detect finds no cgroups anyway.
func (g *Group) StartCommand(*exec.Cmd) error {
	return errors.New("cgroups are only available on Linux")
}
