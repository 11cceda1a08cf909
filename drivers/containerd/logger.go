// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/pkg/cio"

	"github.com/droverhq/drover/drivers/supervise"
)

// A container's output must keep flowing into its log files while the
// agent and this plugin are down (upgrades, crashes). So the plugin is not
// in the path: containerd's shim, which lives as long as the container,
// starts a "logging binary" (its binary:// log URI) and hands it the
// container's stdout and stderr as fds 3 and 4. That binary is the drover
// executable itself (or the test binary), re-run with loggerArg; it copies
// each stream into its own rotating files with supervise.LogWriter, so the
// files look exactly like raw_exec's: "<path>.0", "<path>.1", ...
//
// Rotation: each stream rotates on its own, when its current file reaches
// the task's LogMaxFileSizeMB, keeping the newest LogMaxFiles files. The
// logger lives exactly as long as the container's task: the shim starts it
// at task creation and stops it (SIGTERM, after closing the pipes) when the
// task is deleted; a later run of the task continues at the highest index.
// Only a crash of the shim itself (which also ends the container) stops
// the logs early. The alternatives were worse: containerd's file:// URI
// mixes stdout and stderr in one file that never rotates, and FIFOs read
// by the plugin stop draining, and then block the task, while the plugin is
// down.
//
// The shim builds the logger's argv from the URI's query, one key and one
// value per pair in random order; a single pair keeps argv fixed:
// [exe, loggerArg, <JSON loggerSpec>]. The shim gives the logger no other
// environment than CONTAINER_ID and CONTAINER_NAMESPACE.
const loggerArg = "drover-containerd-logger"

// loggerSpec tells the logging binary where the output goes.
type loggerSpec struct {
	StdoutPath   string `json:"stdout"`
	StderrPath   string `json:"stderr"`
	MaxFiles     int    `json:"max_files"`
	MaxFileBytes int64  `json:"max_file_bytes"`
}

// loggerDrainGrace bounds how long the logger keeps copying after the shim
// asks it to stop (SIGTERM on task delete): long enough to drain the
// pipes, short of the shim's own 12 s before it kills the logger.
const loggerDrainGrace = 5 * time.Second

// init turns this process into a logging binary when the shim started it
// as one. It runs before main (or TestMain) of whatever binary links the
// driver, so `drover` needs no subcommand for it and the test binary
// serves it too; any other invocation passes straight through.
func init() {
	if len(os.Args) == 3 && os.Args[1] == loggerArg {
		os.Exit(runLogger(os.Args[2], os.NewFile(3, "stdout"), os.NewFile(4, "stderr"), os.NewFile(5, "ready")))
	}
}

// loggerIO returns the cio.Creator that makes the shim run the logging
// binary exe for a task's output.
func loggerIO(exe string, spec loggerSpec) (cio.Creator, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode logger spec: %w", err)
	}
	// Check the URI now: the shim would only fail at task creation.
	if _, err := cio.LogURIGenerator("binary", exe, map[string]string{loggerArg: string(b)}); err != nil {
		return nil, fmt.Errorf("logging binary: %w", err)
	}
	return cio.BinaryIO(exe, map[string]string{loggerArg: string(b)}), nil
}

// runLogger copies stdout and stderr into their log files until both
// reach EOF (the container and everything holding its output are gone),
// or loggerDrainGrace after SIGTERM. Closing ready tells the shim the
// files are open. It returns the process exit code.
func runLogger(specJSON string, stdout, stderr, ready *os.File) int {
	var spec loggerSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintf(os.Stderr, "%s: bad spec: %v\n", loggerArg, err)
		return 2
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGPIPE)

	var wg sync.WaitGroup
	code := 0
	var mu sync.Mutex
	for _, s := range []struct {
		r    *os.File
		path string
	}{{stdout, spec.StdoutPath}, {stderr, spec.StderrPath}} {
		if s.r == nil {
			continue
		}
		var w io.Writer = io.Discard
		if s.path != "" {
			lw, err := supervise.NewLogWriter(s.path, spec.MaxFiles, spec.MaxFileBytes)
			if err != nil {
				// Still drain the pipe: a full pipe would block the task.
				fmt.Fprintf(os.Stderr, "%s: %v\n", loggerArg, err)
				code = 1
			} else {
				defer lw.Close()
				w = lw
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := io.Copy(w, s.r); err != nil {
				fmt.Fprintf(os.Stderr, "%s: copy to %s: %v\n", loggerArg, s.path, err)
				mu.Lock()
				code = 1
				mu.Unlock()
			}
		}()
	}
	if ready != nil {
		ready.Close()
	}

	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	for {
		select {
		case <-done:
			mu.Lock()
			defer mu.Unlock()
			return code
		case sig := <-sigs:
			if sig == syscall.SIGPIPE {
				continue
			}
			select {
			case <-done:
			case <-time.After(loggerDrainGrace):
			}
			mu.Lock()
			defer mu.Unlock()
			return code
		}
	}
}
