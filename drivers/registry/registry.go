// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package registry lists the drivers built into the drover binary. The
// `drover plugin driver NAME,NAME...` subcommand serves some of them from
// one plugin subprocess, and the agent launches one such subprocess for
// all enabled built-in drivers, so built-in and third-party drivers take
// the same path.
package registry

import (
	"sort"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/drivers/containerd"
	"github.com/droverhq/drover/drivers/exec"
	"github.com/droverhq/drover/drivers/mock"
	"github.com/droverhq/drover/drivers/rawexec"
	"github.com/droverhq/drover/plugins"
)

// Builtin returns the built-in drivers by name. The map is new on every
// call: callers may change it.
func Builtin() map[string]func(logger hclog.Logger) plugins.Driver {
	return map[string]func(logger hclog.Logger) plugins.Driver{
		rawexec.Name:    func(logger hclog.Logger) plugins.Driver { return rawexec.New(logger) },
		containerd.Name: func(logger hclog.Logger) plugins.Driver { return containerd.New(logger) },
		exec.Name:       func(logger hclog.Logger) plugins.Driver { return exec.New(logger) },
		mock.Name:       func(logger hclog.Logger) plugins.Driver { return mock.New(logger) },
	}
}

// Names returns the built-in drivers' names, sorted.
func Names() []string {
	var names []string
	for name := range Builtin() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
