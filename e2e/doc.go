// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package e2e holds end-to-end tests: they run the real drover binary as
// agents and drive them the way users do, through the CLI and the HTTP API
// (with Nomad's own Go client).
package e2e
