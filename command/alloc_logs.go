// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/droverhq/drover/api"
)

// bytesPerLine is the guess used to turn "-n lines" into a byte offset from
// the end of the log; the output is then cut to exactly n lines.
const bytesPerLine = 120

// defaultTailLines is how many lines -tail shows without -n or -c.
const defaultTailLines = 10

// AllocLogsCommand implements "drover alloc logs": print or follow the
// stdout or stderr of a task.
type AllocLogsCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *AllocLogsCommand) Synopsis() string { return "Streams the logs of a task" }

// Help implements Command.
func (c *AllocLogsCommand) Help() string {
	return `Usage: drover alloc logs [options] <allocation> [task]

  Print the stdout (or stderr) log of a task of an allocation. The task may be
  left out when the allocation's group has a single task. With -f the command
  keeps streaming new output until interrupted with ctrl+c.

` + generalOptions + `

Logs Options:

  -stderr
    Show the stderr log instead of stdout.

  -f
    Follow the log: keep streaming new output.

  -tail
    Start from the end of the log (the last 10 lines unless -n or -c says
    otherwise).

  -n <lines>
    Show the last <lines> lines; implies -tail.

  -c <bytes>
    Show the last <bytes> bytes; implies -tail.

  -task <task>
    The task to show, instead of the second argument.

  -verbose
    Show full IDs in messages.`
}

// logsOptions are the parsed flags of alloc logs.
type logsOptions struct {
	stderr, follow, tail bool
	lines                int
	bytes                int64
}

// origin returns where the stream starts and, for -n, how many lines to
// keep (-1: all).
func (o logsOptions) origin() (origin string, offset int64, keepLines int) {
	if !o.tail && o.lines < 0 && o.bytes < 0 {
		return "start", 0, -1
	}
	switch {
	case o.bytes >= 0:
		return "end", o.bytes, -1
	case o.lines >= 0:
		return "end", int64(o.lines) * bytesPerLine, o.lines
	}
	return "end", defaultTailLines * bytesPerLine, defaultTailLines
}

// Run implements Command.
func (c *AllocLogsCommand) Run(ctx context.Context, args []string) int {
	var (
		opts    logsOptions
		task    string
		verbose bool
	)
	fs := c.FlagSet("alloc logs")
	fs.BoolVar(&opts.stderr, "stderr", false, "")
	fs.BoolVar(&opts.follow, "f", false, "")
	fs.BoolVar(&opts.tail, "tail", false, "")
	fs.IntVar(&opts.lines, "n", -1, "")
	fs.Int64Var(&opts.bytes, "c", -1, "")
	fs.StringVar(&task, "task", "", "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return c.usageError("alloc logs", "This command takes one or two arguments: <allocation> [<task>]")
	}
	if fs.NArg() == 2 {
		if task != "" && task != fs.Arg(1) {
			return c.usageError("alloc logs", "Give the task either as an argument or with -task, not both")
		}
		task = fs.Arg(1)
	}

	client, id, code := c.clientForAlloc(fs.Arg(0), verbose)
	if code != ExitOK {
		return code
	}
	alloc, err := allocInfo(client, id)
	if err != nil {
		return c.reportErr(err)
	}
	task, err = pickTask(alloc, task, idLength(verbose))
	if err != nil {
		return c.reportErr(err)
	}
	return c.streamLogs(ctx, client, alloc, task, opts)
}

// pickTask checks task against the allocation's tasks, or picks the only
// one when task is empty.
func pickTask(alloc *api.Allocation, task string, n int) (string, error) {
	tasks := taskNames(alloc)
	if task == "" {
		if len(tasks) == 1 {
			return tasks[0], nil
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Allocation %q is running the following tasks:\n", limit(alloc.ID, n))
		for _, t := range tasks {
			fmt.Fprintf(&b, "  * %s\n", t)
		}
		b.WriteString("\nPlease specify the task.")
		return "", plainError(b.String())
	}
	for _, t := range tasks {
		if t == task {
			return task, nil
		}
	}
	return "", plainError(fmt.Sprintf("Could not find task named %q in allocation %q", task, limit(alloc.ID, n)))
}

// streamLogs copies the log frames to the output until the log ends (or,
// with -f, until ctx is cancelled).
func (c *AllocLogsCommand) streamLogs(ctx context.Context, client *api.Client, alloc *api.Allocation,
	task string, opts logsOptions) int {
	logType := "stdout"
	if opts.stderr {
		logType = "stderr"
	}
	origin, offset, keepLines := opts.origin()

	cancel := make(chan struct{})
	defer close(cancel)
	q := (&api.QueryOptions{}).WithContext(ctx)
	frames, errCh := client.AllocFS().Logs(alloc, opts.follow, task, logType, origin, offset, cancel, q)

	out := &lineTailWriter{w: c.UI.Out, keep: keepLines, follow: opts.follow}
	for {
		select {
		case <-ctx.Done():
			return out.flush()
		case err := <-errCh:
			if ctx.Err() != nil {
				return out.flush()
			}
			out.flush()
			return c.reportErr(fmt.Errorf("reading %s of task %q: %w", logType, task, err))
		case f, ok := <-frames:
			if !ok {
				return out.flush()
			}
			if len(f.Data) == 0 {
				continue
			}
			if _, err := out.Write(f.Data); err != nil {
				return c.reportErr(fmt.Errorf("writing logs: %w", err))
			}
		}
	}
}

// lineTailWriter cuts the start of a log to its last keep lines: without
// follow it buffers everything and cuts at flush; with follow it cuts the
// first chunk (the tail read from the end) and passes the rest through.
// keep < 0 passes everything through.
type lineTailWriter struct {
	w      io.Writer
	keep   int
	follow bool
	buf    bytes.Buffer
	passed bool
}

func (l *lineTailWriter) Write(p []byte) (int, error) {
	if l.keep < 0 || l.passed {
		return l.w.Write(p)
	}
	if !l.follow {
		return l.buf.Write(p)
	}
	l.passed = true
	if _, err := l.w.Write(lastLines(p, l.keep)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush writes what is buffered and returns ExitOK.
func (l *lineTailWriter) flush() int {
	if l.buf.Len() > 0 {
		l.w.Write(lastLines(l.buf.Bytes(), l.keep))
		l.buf.Reset()
	}
	return ExitOK
}

// lastLines returns the last n lines of p (a trailing newline does not start
// a new line).
func lastLines(p []byte, n int) []byte {
	if n == 0 {
		return nil
	}
	end := len(p)
	if end > 0 && p[end-1] == '\n' {
		end--
	}
	for i := end - 1; i >= 0; i-- {
		if p[i] == '\n' {
			n--
			if n == 0 {
				return p[i+1:]
			}
		}
	}
	return p
}
