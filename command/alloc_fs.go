// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	// Only for AllocFileInfo, which package api does not re-export yet.

	"github.com/droverhq/drover/api"
)

func init() {
	Register("alloc fs", func(ui *UI) Command { return &AllocFSCommand{Meta: Meta{UI: ui}} })
}

// AllocFSCommand implements "drover alloc fs": list, stat, print or
// follow the files of an allocation's directory.
type AllocFSCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *AllocFSCommand) Synopsis() string { return "Inspect the contents of an allocation directory" }

// Help implements Command.
func (c *AllocFSCommand) Help() string {
	return `Usage: drover alloc fs [options] <allocation> [<path>]

  Lists a directory of an allocation, or prints a file. <path> is relative
  to the allocation's directory and defaults to its top ("/"); paths that
  lead out of it are refused. <allocation> may be a unique ID prefix.

` + generalOptions + `

FS Options:

  -stat
    Show the file's information instead of its contents.

  -f
    Follow the file: keep printing what is appended until interrupted.

  -tail
    Start from the end of the file (the last 10 lines unless -n or -c says
    otherwise).

  -n <lines>
    Show the last <lines> lines; implies -tail.

  -c <bytes>
    Show the last <bytes> bytes; implies -tail.

  -task <task>
    Take <path> relative to the task's directory.

  -job
    Treat <allocation> as a job ID (or unique prefix) and use one of its
    running allocations.

  -verbose
    Show full IDs in messages.`
}

// fsOptions are the parsed flags of alloc fs.
type fsOptions struct {
	stat, follow bool
	logs         logsOptions // tail, -n, -c as alloc logs has them
}

// Run implements Command.
func (c *AllocFSCommand) Run(ctx context.Context, args []string) int {
	var (
		opts         fsOptions
		task         string
		job, verbose bool
	)
	fs := c.FlagSet("alloc fs")
	fs.BoolVar(&opts.stat, "stat", false, "")
	fs.BoolVar(&opts.follow, "f", false, "")
	fs.BoolVar(&opts.logs.tail, "tail", false, "")
	fs.IntVar(&opts.logs.lines, "n", -1, "")
	fs.Int64Var(&opts.logs.bytes, "c", -1, "")
	fs.StringVar(&task, "task", "", "")
	fs.BoolVar(&job, "job", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return c.usageError("alloc fs", "This command takes one or two arguments: <allocation> [<path>]")
	}
	p := "/"
	if fs.NArg() == 2 {
		p = fs.Arg(1)
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	alloc, err := (&AllocExecCommand{Meta: c.Meta}).execTarget(client, fs.Arg(0), job, verbose)
	if err != nil {
		return c.reportErr(err)
	}
	if task != "" {
		if task, err = pickTask(alloc, task, idLength(verbose)); err != nil {
			return c.reportErr(err)
		}
		p = path.Join("/", task, p)
	}
	info, _, err := client.AllocFS().Stat(alloc, p, nil)
	if err != nil {
		return c.reportErr(fmt.Errorf("reading file info of %q: %w", p, err))
	}
	switch {
	case opts.stat:
		c.UI.Output(formatFileInfos([]*api.AllocFileInfo{info}, c.loc()))
		return ExitOK
	case info.IsDir:
		entries, _, err := client.AllocFS().List(alloc, p, nil)
		if err != nil {
			return c.reportErr(fmt.Errorf("listing directory %q: %w", p, err))
		}
		if len(entries) == 0 {
			c.UI.Output("Directory is empty")
			return ExitOK
		}
		c.UI.Output(formatFileInfos(entries, c.loc()))
		return ExitOK
	}
	return c.printFile(ctx, client, alloc, p, info.Size, opts)
}

// printFile prints a file: all of it, its tail, or (-f) followed.
func (c *AllocFSCommand) printFile(ctx context.Context, client *api.Client, alloc *api.Allocation, p string,
	size int64, opts fsOptions) int {
	origin, offset, keepLines := opts.logs.origin()
	if !opts.follow {
		start := int64(0)
		if origin == "end" {
			start = max(size-offset, 0)
		}
		r, err := client.AllocFS().ReadAt(alloc, p, start, 0, nil)
		if err != nil {
			return c.reportErr(fmt.Errorf("reading file %q: %w", p, err))
		}
		defer r.Close()
		out := &lineTailWriter{w: c.UI.Out, keep: keepLines}
		if _, err := io.Copy(out, r); err != nil {
			return c.reportErr(fmt.Errorf("reading file %q: %w", p, err))
		}
		return out.flush()
	}
	cancel := make(chan struct{})
	defer close(cancel)
	q := (&api.QueryOptions{}).WithContext(ctx)
	frames, errCh := client.AllocFS().Stream(alloc, p, origin, offset, cancel, q)
	out := &lineTailWriter{w: c.UI.Out, keep: keepLines, follow: true}
	for {
		select {
		case <-ctx.Done():
			return out.flush()
		case err := <-errCh:
			if ctx.Err() != nil {
				return out.flush()
			}
			out.flush()
			return c.reportErr(fmt.Errorf("following file %q: %w", p, err))
		case f, ok := <-frames:
			if !ok {
				return out.flush()
			}
			if f.FileEvent != "" {
				c.UI.Error(fmt.Sprintf("%s: %s", p, f.FileEvent))
				continue
			}
			if _, err := out.Write(f.Data); err != nil {
				return c.reportErr(fmt.Errorf("writing file: %w", err))
			}
		}
	}
}

// formatFileInfos renders entries as Nomad's listing does: Mode, Size,
// Modified Time and Name, directories with a trailing "/".
func formatFileInfos(entries []*api.AllocFileInfo, loc *time.Location) string {
	lines := []string{"Mode|Size|Modified Time|Name"}
	for _, e := range entries {
		name := e.Name
		if e.IsDir && !strings.HasSuffix(name, "/") {
			name += "/"
		}
		lines = append(lines, fmt.Sprintf("%s|%s|%s|%s", e.FileMode, humanBytes(uint64(max(e.Size, 0))),
			formatTime(e.ModTime, loc), name))
	}
	return formatList(lines)
}
