// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/droverhq/drover/api"
)

// maxDispatchPayload is the server's payload limit, checked here too so a
// large file fails before it is uploaded.
const maxDispatchPayload = 16 * 1024

func init() {
	Register("job dispatch", func(ui *UI) Command { return &JobDispatchCommand{Meta: Meta{UI: ui}} })
}

// JobDispatchCommand implements "drover job dispatch": instantiate a
// parameterized job with a payload and metadata, then monitor the child's
// evaluation like job run.
type JobDispatchCommand struct {
	Meta
}

// Synopsis implements Command.
func (c *JobDispatchCommand) Synopsis() string { return "Dispatch an instance of a parameterized job" }

// Help implements Command.
func (c *JobDispatchCommand) Help() string {
	return `Usage: drover job dispatch [options] <parameterized job> [input source]

  Dispatch creates an instance of a parameterized job. The input source is
  a file whose contents become the dispatch payload, or "-" to read the
  payload from stdin. The payload is at most 16 KiB. The dispatched job's
  evaluation is monitored like job run's; exit codes are job run's.

` + generalOptions + `

Dispatch Options:

  -meta <key>=<value>
    Set a metadata key of the dispatched job; repeatable. Keys must be
    listed in the job's meta_required or meta_optional.

  -id-prefix-template <prefix>
    Put <prefix> into the dispatched job's ID after "dispatch-".

  -idempotency-token <token>
    A dispatch with a token already used returns the job the first one
    created instead of creating another.

  -detach
    Return right after dispatching and print the IDs.

  -verbose
    Show full IDs.`
}

// Run implements Command.
func (c *JobDispatchCommand) Run(ctx context.Context, args []string) int {
	var (
		detach, verbose  bool
		meta             stringList
		idPrefix, idemTk string
	)
	fs := c.FlagSet("job dispatch")
	fs.BoolVar(&detach, "detach", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	fs.Var(&meta, "meta", "")
	fs.StringVar(&idPrefix, "id-prefix-template", "", "")
	fs.StringVar(&idemTk, "idempotency-token", "", "")
	if !c.parseFlags(fs, args) {
		return ExitError
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return c.usageError("job dispatch", "This command takes one or two arguments: <parameterized job> [input source]")
	}
	metaMap := map[string]string{}
	for _, kv := range meta {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return c.usageError("job dispatch", fmt.Sprintf("Invalid -meta %q: want key=value", kv))
		}
		metaMap[k] = v
	}
	var payload []byte
	if fs.NArg() == 2 {
		p, err := c.readPayload(fs.Arg(1))
		if err != nil {
			return c.reportErr(err)
		}
		payload = p
	}
	client := c.clientOrFail()
	if client == nil {
		return ExitError
	}
	jobID := fs.Arg(0)
	q := (&api.WriteOptions{IdempotencyToken: idemTk}).WithContext(ctx)
	resp, _, err := client.Jobs().Dispatch(jobID, metaMap, payload, idPrefix, q)
	if err != nil {
		return c.reportErr(fmt.Errorf("dispatching job %q: %w", jobID, err))
	}
	n := idLength(verbose)
	out := []string{fmt.Sprintf("Dispatched Job ID = %s", resp.DispatchedJobID)}
	if resp.EvalID != "" {
		out = append(out, fmt.Sprintf("Evaluation ID     = %s", limit(resp.EvalID, n)))
	}
	c.UI.Output(strings.Join(out, "\n"))
	if detach || resp.EvalID == "" {
		return ExitOK
	}
	c.UI.Output("")
	mon := &evalMonitor{meta: &c.Meta, client: client, verbose: verbose}
	return mon.monitor(ctx, resp.EvalID)
}

// readPayload reads the payload from a file, or stdin for "-", refusing
// more than the server accepts.
func (c *JobDispatchCommand) readPayload(src string) ([]byte, error) {
	var r io.Reader
	if src == "-" {
		r = c.UI.In
	} else {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("opening payload file: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxDispatchPayload+1))
	if err != nil {
		return nil, fmt.Errorf("reading payload from %s: %w", src, err)
	}
	if len(b) > maxDispatchPayload {
		return nil, fmt.Errorf("reading payload from %s: it exceeds the maximum size of %d bytes", src, maxDispatchPayload)
	}
	return b, nil
}
