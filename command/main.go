// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package command is Drover's command line interface: the dispatcher that
// maps `drover <command> [subcommand] [flags] [args]` to a Command, and the
// commands that talk to an agent over the /v1 HTTP API (job run, job status,
// alloc logs, ...). Their names, flags and output layout follow Nomad's CLI so
// that users' habits and scripts carry over.
//
// The CLI only speaks HTTP through package api; it never imports the agent's
// internals, except for the `agent` command itself, which lives in its own
// file and registers like any other command.
//
// # Exit codes
//
//	0  success (and -h/--help)
//	1  any error: bad usage, unknown command, API or connection errors,
//	   an ambiguous or unknown ID prefix
//	2  job run / job stop / eval status: the evaluation finished but could not
//	   place every allocation (Nomad's convention)
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
)

// Exit codes shared by all commands; see the package documentation.
const (
	ExitOK               = 0
	ExitError            = 1
	ExitPlacementFailure = 2
)

// Version is the Drover version, set at build time with
// -ldflags "-X github.com/droverhq/drover/command.Version=1.2.3".
var Version = "0.1.0-dev"

// UI is where a command reads its input and writes its output. Commands never
// touch os.Stdout/os.Stderr directly so tests can capture both streams.
type UI struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Output writes s and a newline to the output stream.
func (u *UI) Output(s string) { fmt.Fprintln(u.Out, s) }

// Error writes s and a newline to the error stream.
func (u *UI) Error(s string) { fmt.Fprintln(u.Err, s) }

// Command is one CLI command, such as "job run".
type Command interface {
	// Run executes the command with the arguments that follow its name and
	// returns the process exit code. ctx is cancelled on SIGINT/SIGTERM;
	// long-running commands (monitors, log following, the agent) stop cleanly
	// when it is done.
	Run(ctx context.Context, args []string) int
	// Synopsis is the one-line description shown in command lists.
	Synopsis() string
	// Help is the full help text shown by -h/--help.
	Help() string
}

// Factory builds a command that talks through ui.
type Factory func(ui *UI) Command

// Commands maps a command's full name ("job run", "agent") to its factory.
//
// Commands defined in other files of this package register themselves from
// an init function, which runs after this map is initialised:
//
//	func init() {
//		Register("agent", func(ui *UI) Command { return &AgentCommand{UI: ui} })
//	}
//
// A name with a space is a subcommand; its parent ("job") needs no entry: the
// dispatcher lists a parent's subcommands when it is run on its own.
var Commands = map[string]Factory{
	"version":    func(ui *UI) Command { return &VersionCommand{UI: ui} },
	"job run":    func(ui *UI) Command { return &JobRunCommand{Meta: Meta{UI: ui}} },
	"job status": func(ui *UI) Command { return &JobStatusCommand{Meta: Meta{UI: ui}} },
	"job stop":   func(ui *UI) Command { return &JobStopCommand{Meta: Meta{UI: ui}} },
	"alloc status": func(ui *UI) Command {
		return &AllocStatusCommand{Meta: Meta{UI: ui}}
	},
	"alloc logs":  func(ui *UI) Command { return &AllocLogsCommand{Meta: Meta{UI: ui}} },
	"node status": func(ui *UI) Command { return &NodeStatusCommand{Meta: Meta{UI: ui}} },
	"eval status": func(ui *UI) Command { return &EvalStatusCommand{Meta: Meta{UI: ui}} },
	"status":      func(ui *UI) Command { return &StatusCommand{Meta: Meta{UI: ui}} },
}

// Register adds a command under name. It panics on a duplicate name, which is
// a programming error caught by any test that imports the package.
func Register(name string, f Factory) {
	if _, ok := Commands[name]; ok {
		panic(fmt.Sprintf("command %q registered twice", name))
	}
	Commands[name] = f
}

// Main runs the CLI with args (the arguments after the program name) and
// returns the process exit code. SIGINT and SIGTERM cancel the command's
// context once; a second signal gets the default behaviour (exit), so a stuck
// command can always be interrupted.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	return Run(ctx, &UI{In: os.Stdin, Out: stdout, Err: stderr}, args)
}

// Run dispatches args to the command they name. It is Main without the
// process-level concerns (signals, real stdin), for tests and embedding.
func Run(ctx context.Context, ui *UI, args []string) int {
	if len(args) == 0 {
		ui.Error(usage(""))
		return ExitError
	}
	switch args[0] {
	case "-h", "-help", "--help":
		ui.Output(usage(""))
		return ExitOK
	case "-v", "-version", "--version":
		args = []string{"version"}
	}

	name, rest := lookup(args)
	if name == "" {
		if subs := subcommands(args[0]); len(subs) > 0 {
			if len(args) > 1 && !isHelpFlag(args[1]) {
				ui.Error(fmt.Sprintf("Unknown command: %q\n", strings.Join(args[:2], " ")))
				ui.Error(usage(args[0]))
				return ExitError
			}
			if len(args) > 1 {
				ui.Output(usage(args[0]))
				return ExitOK
			}
			ui.Error(usage(args[0]))
			return ExitError
		}
		ui.Error(fmt.Sprintf("Unknown command: %q\n", args[0]))
		ui.Error(usage(""))
		return ExitError
	}

	cmd := Commands[name](ui)
	for _, a := range rest {
		if a == "--" {
			break
		}
		if isHelpFlag(a) {
			ui.Output(strings.TrimSpace(cmd.Help()))
			return ExitOK
		}
	}
	return cmd.Run(ctx, rest)
}

// lookup finds the longest registered command name that args start with and
// returns it with the remaining arguments.
func lookup(args []string) (string, []string) {
	for n := min(len(args), 3); n > 0; n-- {
		name := strings.Join(args[:n], " ")
		if _, ok := Commands[name]; ok {
			return name, args[n:]
		}
	}
	return "", nil
}

// subcommands returns the sorted names of the commands under parent ("" for
// top-level commands and parents).
func subcommands(parent string) []string {
	seen := map[string]bool{}
	for name := range Commands {
		if parent == "" {
			seen[strings.SplitN(name, " ", 2)[0]] = true
			continue
		}
		if strings.HasPrefix(name, parent+" ") {
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// synopsis returns the one-line description of name; a parent without its
// own entry gets a generic one.
func synopsis(name string) string {
	if f, ok := Commands[name]; ok {
		return f(&UI{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}).Synopsis()
	}
	if s, ok := parentSynopses[name]; ok {
		return s
	}
	return fmt.Sprintf("Interact with %s commands", name)
}

// parentSynopses describe the command groups that have no entry of their
// own in Commands.
var parentSynopses = map[string]string{
	"alloc":    "Interact with allocations",
	"eval":     "Interact with evaluations",
	"job":      "Interact with jobs",
	"node":     "Interact with nodes",
	"operator": "Provides cluster-level tools for Drover operators",
	"plugin":   "Run plugins served by this binary",
	"server":   "Interact with servers",
}

// usage is the help text of the top level (parent "") or of a parent
// command such as "job".
func usage(parent string) string {
	var b strings.Builder
	if parent == "" {
		b.WriteString("Usage: drover [-version] [-help] <command> [args]\n\nAvailable commands are:\n")
	} else {
		fmt.Fprintf(&b, "Usage: drover %s <subcommand> [options] [args]\n\n", parent)
		fmt.Fprintf(&b, "Run 'drover %s <subcommand> -h' for help on a subcommand. ", parent)
		b.WriteString("The following subcommands are available:\n")
	}
	names := subcommands(parent)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(&b, "    %-*s    %s\n", width, n, synopsis(n))
	}
	return strings.TrimRight(b.String(), "\n")
}

func isHelpFlag(a string) bool {
	return a == "-h" || a == "-help" || a == "--help"
}

// VersionCommand prints the version of this binary.
type VersionCommand struct {
	UI *UI
}

// Synopsis implements Command.
func (c *VersionCommand) Synopsis() string { return "Print the Drover version" }

// Help implements Command.
func (c *VersionCommand) Help() string {
	return "Usage: drover version\n\n  Print the version of this Drover binary."
}

// Run implements Command.
func (c *VersionCommand) Run(_ context.Context, args []string) int {
	if len(args) != 0 {
		c.UI.Error("This command takes no arguments\nFor additional help try 'drover version -help'")
		return ExitError
	}
	c.UI.Output("Drover v" + Version)
	return ExitOK
}
