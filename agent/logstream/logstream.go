// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package logstream reads a task's rotated log files ("<task>.stdout.0",
// ".1", ...) under an allocation directory and writes them as Nomad's log
// stream: JSON frames {Offset, Data, File} with empty heartbeat frames, or
// the raw bytes with Plain. The agent's HTTP API uses it for allocations on
// its own node, and a client uses it to answer a server that streams the
// logs of one of its allocations to a user elsewhere.
package logstream

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Tunables, variables so tests can shorten them.
var (
	PollInterval      = 200 * time.Millisecond
	HeartbeatInterval = 10 * time.Second
	frameSize         = 64 << 10
)

// Request says which logs to stream, as the query of
// GET /v1/client/fs/logs/:alloc does.
type Request struct {
	AllocID string
	Task    string
	// Type is "stdout" or "stderr".
	Type string
	// Origin is "start" or "end"; Offset counts bytes from it, across the
	// rotated files.
	Origin string
	Offset int64
	Follow bool
	Plain  bool
}

// Validate reports what is wrong with the request, in words for its user.
func (r *Request) Validate() error {
	switch {
	case r.Task == "":
		return fmt.Errorf("must include task name")
	case strings.ContainsAny(r.Task, `/\`) || r.Task == "." || r.Task == "..":
		return fmt.Errorf("invalid task name %q", r.Task)
	case r.Type != "stdout" && r.Type != "stderr":
		return fmt.Errorf(`log type must be "stdout" or "stderr", not %q`, r.Type)
	case r.Origin != "start" && r.Origin != "end":
		return fmt.Errorf(`origin must be "start" or "end", not %q`, r.Origin)
	case r.Offset < 0:
		return fmt.Errorf("invalid offset %d", r.Offset)
	}
	return nil
}

// Frame is Nomad's log stream frame; an empty frame is a heartbeat.
type Frame struct {
	Offset    int64  `json:",omitempty"`
	Data      []byte `json:",omitempty"`
	File      string `json:",omitempty"`
	FileEvent string `json:",omitempty"`
}

// Stream writes the logs req names, from the allocation directory
// allocDir, to w. flush is called after each burst of output. It follows
// new output when req.Follow until done reports that the allocation will
// write no more, or ctx ends. Errors writing to w end the stream.
func Stream(ctx context.Context, allocDir string, req *Request, w io.Writer, flush func(), done func() bool) error {
	if err := req.Validate(); err != nil {
		return err
	}
	s := &stream{
		dir:    filepath.Join(allocDir, "alloc", "logs"),
		base:   req.Task + "." + req.Type,
		follow: req.Follow,
		done:   done,
	}
	emit := func(data []byte, file string, offset int64) error {
		if req.Plain {
			_, err := w.Write(data)
			return err
		}
		buf, err := json.Marshal(&Frame{Offset: offset, Data: data, File: file})
		if err != nil {
			return err
		}
		_, err = w.Write(buf)
		return err
	}
	heartbeat := func() error {
		if req.Plain {
			return nil
		}
		_, err := w.Write([]byte("{}"))
		return err
	}
	return s.run(ctx, req.Origin, req.Offset, emit, heartbeat, flush)
}

// stream reads one task stream's rotated files "<base>.0", "<base>.1", ...
type stream struct {
	dir    string
	base   string
	follow bool
	done   func() bool
}

type logFile struct {
	index int
	name  string
	size  int64
}

// files lists the log files in rotation order (numeric, not lexical).
func (l *stream) files() ([]logFile, error) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []logFile
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), l.base+".")
		if !ok {
			continue
		}
		idx, err := strconv.Atoi(rest)
		if err != nil || idx < 0 {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, logFile{index: idx, name: e.Name(), size: info.Size()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].index < out[j].index })
	return out, nil
}

// start finds the file and position where reading begins: offset bytes from
// the start of the oldest file, or back from the end of the newest.
func (l *stream) start(origin string, offset int64) (fileIdx int, pos int64, err error) {
	files, err := l.files()
	if err != nil || len(files) == 0 {
		return 0, 0, err
	}
	if origin == "start" {
		for _, f := range files {
			if offset < f.size {
				return f.index, offset, nil
			}
			offset -= f.size
		}
		last := files[len(files)-1]
		return last.index, last.size, nil
	}
	for i := len(files) - 1; i >= 0; i-- {
		f := files[i]
		if offset <= f.size {
			return f.index, f.size - offset, nil
		}
		offset -= f.size
	}
	return files[0].index, 0, nil
}

func (l *stream) run(ctx context.Context, origin string, offset int64,
	emit func(data []byte, file string, offset int64) error, heartbeat func() error, flush func()) error {
	idx, pos, err := l.start(origin, offset)
	if err != nil {
		return err
	}
	buf := make([]byte, frameSize)
	lastBeat := time.Now()
	for {
		progressed, err := l.readFile(idx, &pos, buf, emit)
		if err != nil {
			return err
		}
		if progressed {
			flush()
			lastBeat = time.Now()
			continue
		}
		// At the end of this file: move to the next one if it exists.
		files, err := l.files()
		if err != nil {
			return err
		}
		if next, ok := nextFile(files, idx); ok {
			idx, pos = next, 0
			continue
		}
		if !l.follow {
			return nil
		}
		if l.done() {
			// One last read: output written just before the end.
			if progressed, err := l.readFile(idx, &pos, buf, emit); err != nil || progressed {
				flush()
				if err != nil {
					return err
				}
				continue
			}
			return nil
		}
		if time.Since(lastBeat) > HeartbeatInterval {
			if err := heartbeat(); err != nil {
				return err
			}
			flush()
			lastBeat = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(PollInterval):
		}
	}
}

// readFile emits what file idx holds past *pos; it reports whether it
// read anything.
func (l *stream) readFile(idx int, pos *int64, buf []byte, emit func([]byte, string, int64) error) (bool, error) {
	name := fmt.Sprintf("%s.%d", l.base, idx)
	f, err := os.Open(filepath.Join(l.dir, name))
	if err != nil {
		if os.IsNotExist(err) {
			return false, nil
		}
		return false, err
	}
	defer f.Close()
	if _, err := f.Seek(*pos, io.SeekStart); err != nil {
		return false, err
	}
	read := false
	for {
		n, err := f.Read(buf)
		if n > 0 {
			if err := emit(buf[:n], filepath.Join("alloc", "logs", name), *pos); err != nil {
				return read, err
			}
			*pos += int64(n)
			read = true
		}
		if err == io.EOF {
			return read, nil
		}
		if err != nil {
			return read, err
		}
	}
}

func nextFile(files []logFile, idx int) (int, bool) {
	for _, f := range files {
		if f.index > idx {
			return f.index, true
		}
	}
	return 0, false
}
