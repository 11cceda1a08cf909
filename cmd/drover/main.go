// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Command drover is the one Drover binary: agent (server, client, HTTP API),
// CLI and built-in driver plugins.
package main

import (
	"os"

	"github.com/droverhq/drover/command"
)

func main() {
	os.Exit(command.Main(os.Args[1:], os.Stdout, os.Stderr))
}
