// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Log streaming tunables.
const (
	logPollInterval      = 200 * time.Millisecond
	logHeartbeatInterval = 10 * time.Second
	logFrameSize         = 64 << 10
)

// streamFrame is Nomad's log stream frame; empty frames are heartbeats.
type streamFrame struct {
	Offset    int64  `json:",omitempty"`
	Data      []byte `json:",omitempty"`
	File      string `json:",omitempty"`
	FileEvent string `json:",omitempty"`
}

// logs serves GET /v1/client/fs/logs/:alloc: a task's stdout or stderr,
// across its rotated files, as JSON frames (or raw with plain=true),
// optionally following new output until the allocation finishes or the
// caller goes away.
func (h *HTTPServer) logs(w http.ResponseWriter, r *http.Request) {
	h.setClusterHeaders(w)
	if err := h.streamLogs(w, r); err != nil {
		code := http.StatusInternalServerError
		if he, ok := err.(*httpError); ok {
			code = he.code
		}
		http.Error(w, err.Error(), code)
	}
}

func (h *HTTPServer) streamLogs(w http.ResponseWriter, r *http.Request) error {
	if h.allocs == nil {
		return errorf(http.StatusNotImplemented, "this agent runs no client: ask the agent of the allocation's node")
	}
	q := r.URL.Query()
	allocID := r.PathValue("alloc")
	task := q.Get("task")
	if task == "" {
		return errorf(http.StatusBadRequest, "must include task name")
	}
	if strings.ContainsAny(task, `/\`) || task == "." || task == ".." {
		return errorf(http.StatusBadRequest, "invalid task name %q", task)
	}
	logType := q.Get("type")
	if logType != "stdout" && logType != "stderr" {
		return errorf(http.StatusBadRequest, `log type must be "stdout" or "stderr", not %q`, logType)
	}
	follow, plain := false, false
	var err error
	if v := q.Get("follow"); v != "" {
		if follow, err = strconv.ParseBool(v); err != nil {
			return errorf(http.StatusBadRequest, "invalid follow %q", v)
		}
	}
	if v := q.Get("plain"); v != "" {
		if plain, err = strconv.ParseBool(v); err != nil {
			return errorf(http.StatusBadRequest, "invalid plain %q", v)
		}
	}
	origin := q.Get("origin")
	if origin == "" {
		origin = "start"
	}
	if origin != "start" && origin != "end" {
		return errorf(http.StatusBadRequest, `origin must be "start" or "end", not %q`, origin)
	}
	var offset int64
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.ParseInt(v, 10, 64); err != nil || offset < 0 {
			return errorf(http.StatusBadRequest, "invalid offset %q", v)
		}
	}
	if h.srv != nil {
		alloc, err := h.srv.State().Snapshot().AllocByID(allocID)
		if err != nil {
			return err
		}
		if alloc == nil {
			return notFound("alloc")
		}
		if alloc.Job != nil {
			if tg := alloc.Job.LookupTaskGroup(alloc.TaskGroup); tg != nil && tg.LookupTask(task) == nil {
				return errorf(http.StatusBadRequest, "unknown task name %q", task)
			}
		}
	}
	dir, ok := h.allocs.AllocDir(allocID)
	if !ok {
		return errorf(http.StatusNotFound, "unknown allocation %q on this node", allocID)
	}
	ls := &logStream{
		dir:    filepath.Join(dir, "alloc", "logs"),
		base:   task + "." + logType,
		follow: follow,
		done:   func() bool { return h.allocFinished(allocID) },
	}
	if plain {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	emit := func(data []byte, file string, fileOffset int64) error {
		if plain {
			_, err := w.Write(data)
			return err
		}
		buf, err := json.Marshal(&streamFrame{Offset: fileOffset, Data: data, File: file})
		if err != nil {
			return err
		}
		_, err = w.Write(buf)
		return err
	}
	heartbeat := func() error {
		if plain {
			return nil
		}
		_, err := w.Write([]byte("{}"))
		return err
	}
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	// Errors past this point can only be logged: the status is sent.
	if err := ls.run(r.Context(), origin, offset, emit, heartbeat, flush); err != nil {
		h.logger.Debug("log stream ended", "alloc_id", allocID, "task", task, "error", err)
	}
	return nil
}

// allocFinished reports whether the allocation will write no more logs.
func (h *HTTPServer) allocFinished(allocID string) bool {
	if h.srv == nil {
		return false
	}
	a, err := h.srv.State().Snapshot().AllocByID(allocID)
	if err != nil || a == nil {
		return true
	}
	return a.ClientTerminalStatus()
}

// logStream reads a task's rotated log files "<base>.0", "<base>.1", ...
type logStream struct {
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

// files lists the log files in rotation order.
func (l *logStream) files() ([]logFile, error) {
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
func (l *logStream) start(origin string, offset int64) (fileIdx int, pos int64, err error) {
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

type ctxDone interface{ Done() <-chan struct{} }

func (l *logStream) run(ctx ctxDone, origin string, offset int64,
	emit func(data []byte, file string, offset int64) error, heartbeat func() error, flush func()) error {
	idx, pos, err := l.start(origin, offset)
	if err != nil {
		return err
	}
	buf := make([]byte, logFrameSize)
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
		if time.Since(lastBeat) > logHeartbeatInterval {
			if err := heartbeat(); err != nil {
				return err
			}
			flush()
			lastBeat = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(logPollInterval):
		}
	}
}

// readFile emits what file idx holds past *pos; it reports whether it
// read anything.
func (l *logStream) readFile(idx int, pos *int64, buf []byte, emit func([]byte, string, int64) error) (bool, error) {
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
