// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import "errors"

// ErrTaskNotFound is returned (wrapped) by drivers for a task ID they do not
// know, e.g. after a plugin restart before RecoverTask. The gRPC transport
// carries it as codes.NotFound so errors.Is works on both sides; the client
// uses it to tell "task gone" from a transport failure.
var ErrTaskNotFound = errors.New("task not found")

// ErrPluginExited is returned (wrapped) by a PluginDriver's methods once its
// plugin process has gone away; the client relaunches or reattaches.
var ErrPluginExited = errors.New("driver plugin exited")
