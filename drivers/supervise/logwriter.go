// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package supervise

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Nomad's defaults for a task's `logs` block.
const (
	DefaultLogMaxFiles     = 10
	DefaultLogMaxFileBytes = 10 << 20
)

// LogWriter appends to a series of files "<path>.0", "<path>.1", ...: when
// the current file reaches maxBytes it moves on to the next index and
// deletes files older than the newest maxFiles. Writes are split at the
// boundary, so every file but the newest holds exactly maxBytes.
//
// Indexes only grow, so the client's log reader can follow a task's output
// by reading files in index order. A new LogWriter on the same path (a
// task restart, a plugin restart) continues appending to the highest
// existing index rather than starting over.
//
// LogWriter is safe for concurrent use and does not buffer: what Write
// accepted is in the file.
type LogWriter struct {
	mu       sync.Mutex
	path     string
	maxFiles int
	maxBytes int64

	index int
	f     *os.File
	size  int64
}

// NewLogWriter opens the newest "<path>.N" for appending, creating the
// directory and "<path>.0" if needed. maxFiles and maxBytes below 1 mean
// Nomad's defaults (10 files of 10 MiB).
func NewLogWriter(path string, maxFiles int, maxBytes int64) (*LogWriter, error) {
	if maxFiles < 1 {
		maxFiles = DefaultLogMaxFiles
	}
	if maxBytes < 1 {
		maxBytes = DefaultLogMaxFileBytes
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("log dir for %s: %w", path, err)
	}
	w := &LogWriter{path: path, maxFiles: maxFiles, maxBytes: maxBytes}
	indexes, err := w.indexes()
	if err != nil {
		return nil, err
	}
	if len(indexes) > 0 {
		w.index = indexes[len(indexes)-1]
	}
	if err := w.open(); err != nil {
		return nil, err
	}
	if err := w.prune(); err != nil {
		w.f.Close()
		return nil, err
	}
	return w, nil
}

// Write appends p, rotating as often as needed.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return 0, fmt.Errorf("write %s: %w", w.path, os.ErrClosed)
	}
	written := 0
	for len(p) > 0 {
		if w.size >= w.maxBytes {
			if err := w.rotate(); err != nil {
				return written, err
			}
		}
		n := int64(len(p))
		if room := w.maxBytes - w.size; n > room {
			n = room
		}
		m, err := w.f.Write(p[:n])
		written += m
		w.size += int64(m)
		if err != nil {
			return written, fmt.Errorf("write %s: %w", w.f.Name(), err)
		}
		p = p[n:]
	}
	return written, nil
}

// Close closes the current file. Later writes fail.
func (w *LogWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

func (w *LogWriter) fileName(index int) string {
	return w.path + "." + strconv.Itoa(index)
}

func (w *LogWriter) open() error {
	f, err := os.OpenFile(w.fileName(w.index), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat log file: %w", err)
	}
	w.f, w.size = f, fi.Size()
	return nil
}

func (w *LogWriter) rotate() error {
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close log file %s: %w", w.f.Name(), err)
	}
	w.f = nil
	w.index++
	if err := w.open(); err != nil {
		return err
	}
	return w.prune()
}

// prune deletes every file more than maxFiles behind the current index.
func (w *LogWriter) prune() error {
	indexes, err := w.indexes()
	if err != nil {
		return err
	}
	for _, i := range indexes {
		if i > w.index-w.maxFiles {
			break
		}
		if err := os.Remove(w.fileName(i)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove old log file: %w", err)
		}
	}
	return nil
}

// indexes lists the existing file indexes, ascending.
func (w *LogWriter) indexes() ([]int, error) {
	dir, base := filepath.Dir(w.path), filepath.Base(w.path)+"."
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list log dir %s: %w", dir, err)
	}
	var out []int // ReadDir sorts by name, not number
	for _, e := range entries {
		suffix, ok := strings.CutPrefix(e.Name(), base)
		if !ok || e.IsDir() {
			continue
		}
		i, err := strconv.Atoi(suffix)
		if err != nil || i < 0 || strconv.Itoa(i) != suffix {
			continue
		}
		out = append(out, i)
	}
	slices.Sort(out)
	return out, nil
}
