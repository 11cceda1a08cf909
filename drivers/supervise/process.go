// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package supervise runs and watches task processes for the process-based
// drivers (raw_exec and exec): it starts a command in its own
// process group with its output going to rotating log files, waits for it,
// stops the whole group with escalation to SIGKILL, and re-adopts a
// process started by an earlier instance of the plugin.
//
// There is no supervisor process per task: one goroutine waits for each
// task, and one copies each of its output streams. Output flows through a
// named pipe ("<log dir>/.<name>.fifo", as Nomad names them) that the task
// holds open for both reading and writing, so the task never gets SIGPIPE
// when the plugin dies; its output waits in the pipe until a new plugin
// re-adopts the task and drains it.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/droverhq/drover/plugins"
)

// Spec describes a process to start.
type Spec struct {
	// Path is the executable; Args are its arguments (without argv[0]).
	Path string
	Args []string
	// Env is the process's whole environment, as "KEY=value".
	Env []string
	// Dir is the working directory.
	Dir string
	// User, if set, runs the process as that user (needs root unless it is
	// the current user).
	User string
	Logs LogSpec
}

// LogSpec says where a process's output goes. An empty path discards that
// stream.
type LogSpec struct {
	StdoutPath   string
	StderrPath   string
	MaxFiles     int
	MaxFileBytes int64
}

// State identifies a started process across plugin restarts. StartTime
// (clock ticks since boot, from /proc) guards against a recycled PID.
type State struct {
	PID       int
	StartTime uint64
}

// recoveredPollInterval is how often a re-adopted process, which is no
// longer our child and cannot be waited for, is checked for exit.
const recoveredPollInterval = 250 * time.Millisecond

// logDrainGrace bounds how long an exit waits for the output copiers to
// finish: a daemon the task left behind may hold the pipes open forever.
const logDrainGrace = time.Second

// Process is a supervised task process: either started by this plugin
// (Start) or re-adopted from an earlier one (Recover).
type Process struct {
	logger    hclog.Logger
	state     State
	startedAt time.Time
	child     bool // false for a re-adopted process: its exit code is unknown

	done     chan struct{} // closed once exit and completedAt are set
	exit     *plugins.ExitResult
	exitedAt time.Time

	logsDone chan struct{}
	readers  []*os.File // our ends of the output pipes

	stopMu sync.Mutex // one Stop at a time
}

// Start starts spec's process in its own process group.
func Start(spec Spec, logger hclog.Logger) (*Process, error) {
	cmd, err := spec.Command()
	if err != nil {
		return nil, err
	}
	return StartCommand(cmd, spec.Logs, logger, Hooks{})
}

// Command returns the command Start would run for spec, for callers that
// start it through StartCommand with hooks.
func (spec Spec) Command() (*exec.Cmd, error) {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Args[0] = spec.Path
	cmd.Env = spec.Env
	if cmd.Env == nil {
		cmd.Env = []string{} // nil would mean the plugin's own environment
	}
	cmd.Dir = spec.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if spec.User != "" {
		cred, err := credential(spec.User)
		if err != nil {
			return nil, err
		}
		cmd.SysProcAttr.Credential = cred
	}
	return cmd, nil
}

// Recover re-adopts a process from its State. It fails if the process is
// gone (or its PID now belongs to another process). Output still waiting
// in the task's pipes is copied on into the log files.
func Recover(state State, logs LogSpec, startedAt time.Time, logger hclog.Logger) (*Process, error) {
	if state.PID <= 0 {
		return nil, fmt.Errorf("recover process: invalid pid %d", state.PID)
	}
	if !alive(state) {
		return nil, fmt.Errorf("recover process %d: not running", state.PID)
	}
	pipes, err := reopenOutputs(logs)
	if err != nil {
		return nil, fmt.Errorf("recover process %d: %w", state.PID, err)
	}
	p := &Process{
		logger:    logger.With("pid", state.PID),
		state:     state,
		startedAt: startedAt,
		done:      make(chan struct{}),
	}
	p.copyLogs(pipes)
	go p.pollExit()
	return p, nil
}

// State returns what Recover needs to find the process again.
func (p *Process) State() State { return p.state }

// StartedAt is when the process started.
func (p *Process) StartedAt() time.Time { return p.startedAt }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exit returns how the process ended and when, or nil while it runs.
func (p *Process) Exit() (*plugins.ExitResult, time.Time) {
	select {
	case <-p.done:
		r := *p.exit
		return &r, p.exitedAt
	default:
		return nil, time.Time{}
	}
}

// Wait blocks until the process exits or ctx ends.
func (p *Process) Wait(ctx context.Context) (*plugins.ExitResult, error) {
	select {
	case <-p.done:
		r, _ := p.Exit()
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Signal sends sig to the process's whole group.
func (p *Process) Signal(sig syscall.Signal) error {
	if !p.child && !alive(p.state) {
		return nil // never signal a PID that may have been recycled
	}
	return signalGroup(p.state.PID, sig)
}

// Stop sends sig to the process group, waits up to timeout for the process
// to exit, then SIGKILLs the group, which also ends whatever the process
// left running. It returns once the process has exited.
func (p *Process) Stop(sig syscall.Signal, timeout time.Duration) error {
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	select {
	case <-p.done:
	default:
		if err := p.Signal(sig); err != nil {
			return fmt.Errorf("stop process %d: %w", p.state.PID, err)
		}
		t := time.NewTimer(timeout)
		select {
		case <-p.done:
		case <-t.C:
			p.logger.Debug("process outlived stop timeout, killing", "signal", sig, "timeout", timeout)
		}
		t.Stop()
	}
	return p.Kill()
}

// Kill SIGKILLs the process group and waits for the process to exit.
func (p *Process) Kill() error {
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill process %d: %w", p.state.PID, err)
	}
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		return fmt.Errorf("kill process %d: still running 10s after SIGKILL", p.state.PID)
	}
}

// Close stops copying output and releases the log files. Copying ends by
// itself when the task and all it started have exited; Close is for a task
// that left a daemon holding its output open.
func (p *Process) Close() {
	for _, r := range p.readers {
		r.Close()
	}
}

func (p *Process) waitChild(cmd *exec.Cmd) {
	err := cmd.Wait()
	res := &plugins.ExitResult{}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws, _ := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			res.Signal = int(ws.Signal())
			res.ExitCode = 128 + res.Signal // as a shell reports it
		} else {
			res.ExitCode = ws.ExitStatus()
		}
	default:
		res.ExitCode = -1
		res.Err = fmt.Sprintf("wait: %v", err)
	}
	p.finish(res)
}

// pollExit watches a re-adopted process. Not being its parent, we cannot
// learn its exit status, so it is reported as a clean exit.
func (p *Process) pollExit() {
	t := time.NewTicker(recoveredPollInterval)
	defer t.Stop()
	for range t.C {
		if !alive(p.state) {
			p.finish(&plugins.ExitResult{})
			return
		}
	}
}

func (p *Process) finish(res *plugins.ExitResult) {
	t := time.NewTimer(logDrainGrace)
	select {
	case <-p.logsDone:
	case <-t.C:
		p.logger.Debug("output pipes still open after exit: a descendant holds them")
	}
	t.Stop()
	p.exit, p.exitedAt = res, time.Now()
	p.logger.Debug("process exited", "exit_code", res.ExitCode, "signal", res.Signal)
	close(p.done)
}

func signalGroup(pgid int, sig syscall.Signal) error {
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // the group is already gone
	}
	return err
}

// alive reports whether state's process still runs: it exists, is not a
// zombie, and is the same process (same start time) we started.
func alive(state State) bool {
	st, zombie, err := processStat(state.PID)
	if err != nil || zombie {
		return false
	}
	return state.StartTime == 0 || st == state.StartTime
}

// processStartTime returns the process's start time from /proc.
func processStartTime(pid int) (uint64, error) {
	st, _, err := processStat(pid)
	return st, err
}

// processStat reads /proc/PID/stat: the start time (field 22) and whether
// the process is a zombie (state Z or X).
func processStat(pid int) (startTime uint64, zombie bool, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0, false, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+2:])
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 {
		return 0, false, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields))
	}
	startTime, err = strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("parse /proc/%d/stat start time: %w", pid, err)
	}
	return startTime, fields[0] == "Z" || fields[0] == "X", nil
}
