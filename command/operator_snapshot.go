// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/droverhq/drover/agent"
	"github.com/droverhq/drover/api"
)

// "operator snapshot" dispatches save, restore and inspect itself, like
// "operator raft" (the dispatcher resolves at most two words).

func init() {
	Register("operator snapshot", func(ui *UI) Command { return &OperatorSnapshotCommand{Meta: Meta{UI: ui}} })
}

// OperatorSnapshotCommand implements "drover operator snapshot
// save|restore|inspect".
type OperatorSnapshotCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *OperatorSnapshotCommand) Synopsis() string {
	return "Saves and restores snapshots of Drover server state"
}

// Help implements Command.
func (c *OperatorSnapshotCommand) Help() string {
	return `Usage: drover operator snapshot <subcommand> [options] <file>

  Save a point-in-time snapshot of the servers' state, restore one, or
  describe a snapshot file. A snapshot file is a gzipped tar archive of
  raft's snapshot metadata (meta.json), the state (state.bin) and their
  SHA-256 sums (SHA256SUMS).

Subcommands:

  save [-stale] <file>
    Write a snapshot of the cluster's state to <file>. -stale lets any
    server answer without checking with the leader.

  restore <file>
    Replace the cluster's state with the snapshot in <file>. For disaster
    recovery: every server takes on the snapshot's state.

  inspect <file>
    Print the snapshot's ID, size, index, term and version. Needs no
    agent.

` + generalOptions
}

// Run implements Command.
func (c *OperatorSnapshotCommand) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		c.UI.Error(c.Help())
		return ExitError
	}
	switch args[0] {
	case "save":
		return c.save(args[1:])
	case "restore":
		return c.restore(args[1:])
	case "inspect":
		return c.inspect(args[1:])
	}
	return c.usageError("operator snapshot", fmt.Sprintf("Unknown subcommand %q: use save, restore or inspect", args[0]))
}

func (c *OperatorSnapshotCommand) save(args []string) int {
	var stale bool
	fs := c.FlagSet("operator snapshot save")
	fs.BoolVar(&stale, "stale", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() != 1 {
		return c.usageError("operator snapshot save", "This command takes one argument: <file>")
	}
	path := fs.Arg(0)
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	snap, err := client.Operator().Snapshot(&api.QueryOptions{AllowStale: stale})
	if err != nil {
		c.UI.Error(fmt.Sprintf("Failed to get snapshot file: %v", err))
		return ExitError
	}
	defer snap.Close()
	// Write beside the target and rename, so a failed download (or a bad
	// checksum, reported at EOF) never leaves a truncated file behind.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		c.UI.Error(fmt.Sprintf("Failed to create snapshot file: %v", err))
		return ExitError
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, snap); err != nil {
		tmp.Close()
		c.UI.Error(fmt.Sprintf("Failed to write snapshot file: %v", err))
		return ExitError
	}
	if err := tmp.Close(); err != nil {
		c.UI.Error(fmt.Sprintf("Failed to write snapshot file: %v", err))
		return ExitError
	}
	if _, err := inspectFile(tmp.Name()); err != nil {
		c.UI.Error(fmt.Sprintf("Snapshot is invalid: %v", err))
		return ExitError
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		c.UI.Error(fmt.Sprintf("Failed to move snapshot file into place: %v", err))
		return ExitError
	}
	c.UI.Output(fmt.Sprintf("State file written to %s", path))
	return ExitOK
}

func (c *OperatorSnapshotCommand) restore(args []string) int {
	fs := c.FlagSet("operator snapshot restore")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() != 1 {
		return c.usageError("operator snapshot restore", "This command takes one argument: <file>")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error opening snapshot file: %v", err))
		return ExitError
	}
	defer f.Close()
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	if _, err := client.Operator().SnapshotRestore(f, nil); err != nil {
		c.UI.Error(fmt.Sprintf("Failed to restore snapshot: %v", err))
		return ExitError
	}
	c.UI.Output("Snapshot Restored")
	return ExitOK
}

func (c *OperatorSnapshotCommand) inspect(args []string) int {
	fs := c.FlagSet("operator snapshot inspect")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() != 1 {
		return c.usageError("operator snapshot inspect", "This command takes one argument: <file>")
	}
	info, err := inspectFile(fs.Arg(0))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error inspecting snapshot: %v", err))
		return ExitError
	}
	c.UI.Output(formatList([]string{
		"ID|" + info.ID,
		"Size|" + strconv.FormatInt(info.Size, 10),
		"Index|" + strconv.FormatUint(info.Index, 10),
		"Term|" + strconv.FormatUint(info.Term, 10),
		"Version|" + strconv.Itoa(info.Version),
	}))
	return ExitOK
}

func inspectFile(path string) (*agent.SnapshotInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return agent.InspectSnapshot(f)
}
