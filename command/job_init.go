// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

func init() {
	Register("job init", func(ui *UI) Command { return &JobInitCommand{Meta: Meta{UI: ui}} })
}

// defaultInitName is the file `job init` writes when not told otherwise.
const defaultInitName = "example.nomad.hcl"

var (
	//go:embed assets/example.nomad.hcl
	exampleJob string
	//go:embed assets/example.short.nomad.hcl
	exampleJobShort string
)

// JobInitCommand implements "drover job init": write an example job file.
type JobInitCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *JobInitCommand) Synopsis() string { return "Create an example job file" }

// Help implements Command.
func (c *JobInitCommand) Help() string {
	return `Usage: drover job init [options] [filename]

  Writes an example job file, ready to run on a dev agent, to filename
  (default "example.nomad.hcl"). An existing file is never overwritten.

Init Options:

  -short
    Write a minimal file without explanatory comments.`
}

// Run implements Command.
func (c *JobInitCommand) Run(ctx context.Context, args []string) int {
	var short bool
	flags := c.FlagSet("job init")
	flags.BoolVar(&short, "short", false, "")
	if !c.parseFlags(flags, args) {
		return ExitError
	}
	if flags.NArg() > 1 {
		return c.usageError("job init", "This command takes at most one argument: [filename]")
	}
	name := defaultInitName
	if flags.NArg() == 1 {
		name = flags.Arg(0)
	}
	content := exampleJob
	if short {
		content = exampleJobShort
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		c.UI.Error(fmt.Sprintf("Job '%s' already exists", name))
		return ExitError
	}
	if err != nil {
		c.UI.Error(fmt.Sprintf("Failed to create %q: %v", name, err))
		return ExitError
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		c.UI.Error(fmt.Sprintf("Failed to write %q: %v", name, err))
		return ExitError
	}
	if err := f.Close(); err != nil {
		c.UI.Error(fmt.Sprintf("Failed to write %q: %v", name, err))
		return ExitError
	}
	c.UI.Output(fmt.Sprintf("Example job file written to %s", name))
	return ExitOK
}
