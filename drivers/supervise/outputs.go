// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package supervise

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// outputs are a task's stdout and stderr plumbing: the files handed to the
// task, and for each logged stream the pipe's read end and its LogWriter.
type outputs struct {
	stdoutW, stderrW *os.File
	streams          []stream
}

type stream struct {
	r *os.File
	w *LogWriter
}

// FIFOPath is the named pipe that carries the output logged at logPath:
// "alloc/logs/web.stdout" goes through "alloc/logs/.web.stdout.fifo". The
// leading dot keeps it out of "<name>.N" log file listings.
func FIFOPath(logPath string) string {
	return filepath.Join(filepath.Dir(logPath), "."+filepath.Base(logPath)+".fifo")
}

func openOutputs(logs LogSpec) (_ *outputs, err error) {
	o := &outputs{}
	defer func() {
		if err != nil {
			o.closeAll()
		}
	}()
	if o.stdoutW, err = o.open(logs.StdoutPath, logs); err != nil {
		return nil, fmt.Errorf("stdout: %w", err)
	}
	if o.stderrW, err = o.open(logs.StderrPath, logs); err != nil {
		return nil, fmt.Errorf("stderr: %w", err)
	}
	return o, nil
}

// open returns the file the task writes one stream to. The task gets the
// pipe opened read-write: as long as it holds a read end itself, its
// writes never fail with EPIPE, whoever reads on our side.
func (o *outputs) open(logPath string, logs LogSpec) (*os.File, error) {
	if logPath == "" {
		return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	lw, err := NewLogWriter(logPath, logs.MaxFiles, logs.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	fifo := FIFOPath(logPath)
	if err := makeFIFO(fifo); err != nil {
		lw.Close()
		return nil, err
	}
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		lw.Close()
		return nil, fmt.Errorf("open %s: %w", fifo, err)
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		lw.Close()
		w.Close()
		return nil, fmt.Errorf("open %s: %w", fifo, err)
	}
	o.streams = append(o.streams, stream{r: r, w: lw})
	return w, nil
}

// reopenOutputs reconnects to a re-adopted task's pipes. A stream whose
// pipe is gone is skipped: its output cannot be recovered.
func reopenOutputs(logs LogSpec) (*outputs, error) {
	o := &outputs{}
	for _, logPath := range []string{logs.StdoutPath, logs.StderrPath} {
		if logPath == "" {
			continue
		}
		fifo := FIFOPath(logPath)
		r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			o.closeAll()
			return nil, fmt.Errorf("open %s: %w", fifo, err)
		}
		lw, err := NewLogWriter(logPath, logs.MaxFiles, logs.MaxFileBytes)
		if err != nil {
			r.Close()
			o.closeAll()
			return nil, err
		}
		o.streams = append(o.streams, stream{r: r, w: lw})
	}
	return o, nil
}

func makeFIFO(path string) error {
	fi, err := os.Lstat(path)
	if err == nil {
		if fi.Mode()&os.ModeNamedPipe != 0 {
			return nil // a restarted task reuses its pipe
		}
		return fmt.Errorf("%s exists and is not a named pipe", path)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("mkfifo %s: %w", path, err)
	}
	return nil
}

// closeWriters closes our copies of the task's ends after it started.
func (o *outputs) closeWriters() {
	for _, f := range []*os.File{o.stdoutW, o.stderrW} {
		if f != nil {
			f.Close()
		}
	}
}

func (o *outputs) closeAll() {
	o.closeWriters()
	for _, s := range o.streams {
		s.r.Close()
		s.w.Close()
	}
}

// copyLogs copies each stream into its log files until every writer (the
// task and anything it started) has closed the pipe, or Close is called.
func (p *Process) copyLogs(o *outputs) {
	p.logsDone = make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range o.streams {
		p.readers = append(p.readers, s.r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := io.Copy(s.w, s.r); err != nil && !errors.Is(err, os.ErrClosed) {
				p.logger.Warn("copying task output", "error", err)
			}
			s.r.Close()
			s.w.Close()
		}()
	}
	go func() {
		wg.Wait()
		close(p.logsDone)
	}()
}

// credential returns the credential to run as name, or nil when that is
// the current user already (setting it would need privileges for nothing).
func credential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("look up user %q: %w", name, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %q: uid %q: %w", name, u.Uid, err)
	}
	if int(uid) == os.Getuid() {
		return nil, nil
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %q: gid %q: %w", name, u.Gid, err)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if gids, err := u.GroupIds(); err == nil {
		for _, g := range gids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(n))
			}
		}
	}
	return cred, nil
}

// Credential is the uid, gid and groups of the named user, for commands a
// driver runs as the task's user outside Start (e.g. `alloc exec`).
func Credential(name string) (*syscall.Credential, error) { return credential(name) }
