// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	// Only for TerminalSize, which package api does not re-export yet.
	"golang.org/x/term"

	"github.com/droverhq/drover/api"
)

func init() {
	Register("alloc exec", func(ui *UI) Command { return &AllocExecCommand{Meta: Meta{UI: ui}} })
}

// AllocExecCommand implements "drover alloc exec": run a command inside a
// task of a running allocation, interactively when asked.
type AllocExecCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *AllocExecCommand) Synopsis() string { return "Execute commands in task" }

// Help implements Command.
func (c *AllocExecCommand) Help() string {
	return `Usage: drover alloc exec [options] <allocation> <command> [<args>...]

  Runs a command inside the environment of a task of a running allocation.
  <allocation> may be a unique ID prefix. The command's exit code becomes
  this command's exit code.

` + generalOptions + `

Exec Options:

  -verbose
    Show full IDs in messages.

  -task <task>
    The task to run the command in. May be left out when the allocation's
    group has a single task.

  -job
    Treat <allocation> as a job ID (or unique prefix) and use one of its
    running allocations.

  -i
    Pass stdin to the command. Default: true.

  -t
    Allocate a pseudo-terminal for the command. Default: true when stdin
    is a terminal.`
}

// Run implements Command.
func (c *AllocExecCommand) Run(ctx context.Context, args []string) int {
	var (
		task                   string
		job, stdinOpt, verbose bool
	)
	stdinTTY := isTerminal(c.UI.In)
	var ttyOpt bool
	fs := c.FlagSet("alloc exec")
	fs.StringVar(&task, "task", "", "")
	fs.BoolVar(&job, "job", false, "")
	fs.BoolVar(&stdinOpt, "i", true, "")
	fs.BoolVar(&ttyOpt, "t", stdinTTY, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() < 2 {
		return c.usageError("alloc exec", "This command takes at least two arguments: <allocation> <command>")
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	alloc, err := c.execTarget(client, fs.Arg(0), job, verbose)
	if err != nil {
		return c.reportErr(err)
	}
	task, err = pickTask(alloc, task, idLength(verbose))
	if err != nil {
		return c.reportErr(err)
	}
	var stdin io.Reader = strings.NewReader("")
	if stdinOpt {
		stdin = c.UI.In
	}
	var sizes chan api.TerminalSize
	if ttyOpt && stdinOpt && stdinTTY {
		restore, ch, err := rawTerminal(ctx, c.UI.In.(*os.File))
		if err != nil {
			return c.reportErr(fmt.Errorf("setting the terminal to raw mode: %w", err))
		}
		defer restore()
		sizes = ch
	}
	code, err := client.Allocations().Exec(ctx, alloc, task, ttyOpt, fs.Args()[1:], stdin, c.UI.Out, c.UI.Err, sizes, nil)
	if err != nil {
		return c.reportErr(fmt.Errorf("running the command: %w", err))
	}
	return code
}

// execTarget finds the allocation: by ID prefix, or with -job the newest
// running allocation of the job.
func (c *AllocExecCommand) execTarget(client *api.Client, arg string, job, verbose bool) (*api.Allocation, error) {
	id := ""
	if job {
		j, err := c.resolveJob(client, arg)
		if err != nil {
			return nil, err
		}
		allocs, _, err := client.Jobs().Allocations(j.ID, false, nil)
		if err != nil {
			return nil, fmt.Errorf("querying allocations of job %q: %w", j.ID, err)
		}
		sort.Slice(allocs, func(i, k int) bool { return allocs[i].CreateIndex > allocs[k].CreateIndex })
		for _, a := range allocs {
			if a.ClientStatus == "running" {
				id = a.ID
				break
			}
		}
		if id == "" {
			return nil, plainError(fmt.Sprintf("Job %q has no running allocation", j.ID))
		}
	} else {
		var err error
		if id, err = c.resolveAlloc(client, arg, verbose); err != nil {
			return nil, err
		}
	}
	return allocInfo(client, id)
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// rawTerminal puts the terminal in raw mode, so keys (ctrl-c included)
// go to the remote command, and reports its size now and on every
// SIGWINCH. restore puts the terminal back.
func rawTerminal(ctx context.Context, f *os.File) (restore func(), sizes chan api.TerminalSize, err error) {
	fd := int(f.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, nil, err
	}
	sizes = make(chan api.TerminalSize, 1)
	send := func() {
		w, h, err := term.GetSize(fd)
		if err != nil {
			return
		}
		select {
		case sizes <- api.TerminalSize{Height: h, Width: w}:
		default:
		}
	}
	send()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-winch:
				send()
			}
		}
	}()
	return func() {
		cancel()
		signal.Stop(winch)
		_ = term.Restore(fd, state)
	}, sizes, nil
}
