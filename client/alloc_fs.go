// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/droverhq/drover/structs"
)

// This file serves `alloc fs` (/v1/client/fs/{ls,stat,cat,readat,stream}):
// reads of an allocation directory on behalf of a user who must never
// reach past it. Paths are taken relative to the allocation directory (a
// leading "/" is its top, as in Nomad); ".." that climbs out is refused,
// and symlinks are resolved one component at a time and refused as soon
// as one points outside. The resolved path is then opened through an
// os.Root, so a symlink swapped in after the check cannot lead out either.

// Errors of the file system requests; the HTTP layer maps the first three
// to 400 and fs.ErrNotExist to 404.
var (
	ErrPathEscapes  = errors.New("path escapes the allocation directory")
	ErrBadFSRequest = errors.New("bad file system request")
	ErrIsDirectory  = errors.New("path is a directory")
	errTooManyLinks = errors.New("too many levels of symbolic links")
)

// maxSymlinkFollow bounds the symlinks one path may go through, as the
// kernel's ELOOP does.
const maxSymlinkFollow = 40

// Stream tunables, variables so tests can shorten them.
var (
	FSStreamPollInterval      = 250 * time.Millisecond
	FSStreamHeartbeatInterval = 10 * time.Second
	fsFrameSize               = 64 << 10
)

// Nomad's file events in stream frames.
const (
	FileEventDeleted   = "file deleted"
	FileEventTruncated = "file truncated"
)

// FileInfo is one entry of a listing or a stat, in the JSON shape of
// Nomad's api.AllocFileInfo.
type FileInfo struct {
	Name        string
	IsDir       bool
	Size        int64
	FileMode    string
	ModTime     time.Time
	ContentType string `json:",omitempty"`
}

// StreamFrame is one frame of a file stream, in the JSON shape of Nomad's
// api.StreamFrame; an empty frame is a heartbeat.
type StreamFrame struct {
	Offset    int64  `json:",omitempty"`
	Data      []byte `json:",omitempty"`
	File      string `json:",omitempty"`
	FileEvent string `json:",omitempty"`
}

// AllocFS reads one allocation directory.
type AllocFS struct {
	dir string
}

// NewAllocFS returns the reader of the allocation directory dir.
func NewAllocFS(dir string) *AllocFS { return &AllocFS{dir: dir} }

// FSAnswer is a prepared answer to a file system request: its content
// type and its body. Preparing does every check that can fail before the
// body starts (bad path, missing file), so the caller can still answer
// with an error status. Close releases it, whether or not Write ran.
type FSAnswer struct {
	ContentType string
	write       func(ctx context.Context, w io.Writer, flush func()) error
	closers     []io.Closer
}

// Write writes the body to w, calling flush after each burst of output;
// a stream ends when ctx does (or, not following, at the end of the
// file).
func (a *FSAnswer) Write(ctx context.Context, w io.Writer, flush func()) error {
	return a.write(ctx, w, flush)
}

// Close releases the files the answer holds.
func (a *FSAnswer) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i].Close())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// Prepare checks and opens what the request names; method is one of the
// structs.ClientStreamFS* methods.
func (f *AllocFS) Prepare(method string, req *structs.ClientFSRequest) (*FSAnswer, error) {
	rel, err := f.Resolve(req.Path)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return nil, fmt.Errorf("open allocation directory: %w", err)
	}
	ans := &FSAnswer{closers: []io.Closer{root}}
	if err := f.prepare(ans, root, rel, method, req); err != nil {
		ans.Close()
		return nil, err
	}
	return ans, nil
}

func (f *AllocFS) prepare(ans *FSAnswer, root *os.Root, rel, method string, req *structs.ClientFSRequest) error {
	switch method {
	case structs.ClientStreamFSList:
		infos, err := list(root, rel)
		if err != nil {
			return err
		}
		ans.ContentType = "application/json"
		ans.write = jsonBody(infos)
		return nil
	case structs.ClientStreamFSStat:
		info, err := stat(root, rel)
		if err != nil {
			return err
		}
		ans.ContentType = "application/json"
		ans.write = jsonBody(info)
		return nil
	}
	file, size, err := openFile(root, rel)
	if err != nil {
		return err
	}
	ans.closers = append(ans.closers, file)
	switch method {
	case structs.ClientStreamFSCat:
		ans.ContentType = "text/plain; charset=utf-8"
		ans.write = copyBody(file)
	case structs.ClientStreamFSReadAt:
		if req.Offset < 0 {
			return fmt.Errorf("%w: negative offset %d", ErrBadFSRequest, req.Offset)
		}
		var r io.Reader = io.NewSectionReader(file, req.Offset, max(size-req.Offset, 0))
		if req.Limit > 0 {
			r = io.LimitReader(r, req.Limit)
		}
		ans.ContentType = "text/plain; charset=utf-8"
		ans.write = copyBody(r)
	case structs.ClientStreamFSStream:
		s, err := newFileStream(root, rel, file, size, req)
		if err != nil {
			return err
		}
		ans.ContentType = "application/json"
		ans.write = s.run
	default:
		return fmt.Errorf("%w: unknown method %q", ErrBadFSRequest, method)
	}
	return nil
}

func jsonBody(v any) func(context.Context, io.Writer, func()) error {
	return func(_ context.Context, w io.Writer, flush func()) error {
		err := json.NewEncoder(w).Encode(v)
		flush()
		return err
	}
}

func copyBody(r io.Reader) func(context.Context, io.Writer, func()) error {
	return func(_ context.Context, w io.Writer, flush func()) error {
		_, err := io.Copy(w, r)
		flush()
		return err
	}
}

// Resolve maps a user's path to a path relative to the allocation
// directory that holds no symlink, or fails with ErrPathEscapes when the
// path or a symlink on it leads outside. A missing component ends the
// walk: the rest is kept as written (it cannot hold symlinks).
func (f *AllocFS) Resolve(p string) (string, error) {
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("%w: path contains a NUL byte", ErrBadFSRequest)
	}
	clean := path.Clean(strings.TrimLeft(p, "/"))
	if escapes(clean) {
		return "", fmt.Errorf("%w: %q", ErrPathEscapes, p)
	}
	pending := splitPath(clean)
	var done []string
	links := 0
	for len(pending) > 0 {
		name := pending[0]
		pending = pending[1:]
		if name == ".." {
			if len(done) == 0 {
				return "", fmt.Errorf("%w: %q", ErrPathEscapes, p)
			}
			done = done[:len(done)-1]
			continue
		}
		cur := path.Join(append(append([]string{}, done...), name)...)
		fi, err := os.Lstat(filepath.Join(f.dir, filepath.FromSlash(cur)))
		if errors.Is(err, fs.ErrNotExist) {
			// Nothing below a missing entry exists: opening what is
			// returned fails as the caller expects, and ".." past it
			// would fail the same way on the host.
			for _, rest := range pending {
				if rest == ".." {
					return "", fmt.Errorf("resolve %q: %w", p, fs.ErrNotExist)
				}
			}
			return path.Join(append(append(done, name), pending...)...), nil
		}
		if err != nil {
			return "", fmt.Errorf("resolve %q: %w", p, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, name)
			continue
		}
		if links++; links > maxSymlinkFollow {
			return "", fmt.Errorf("resolve %q: %w", p, errTooManyLinks)
		}
		target, err := os.Readlink(filepath.Join(f.dir, filepath.FromSlash(cur)))
		if err != nil {
			return "", fmt.Errorf("resolve %q: %w", p, err)
		}
		target = filepath.ToSlash(target)
		if path.IsAbs(target) {
			// An absolute link is followed only when it points back
			// into the allocation directory.
			inner, ok := within(filepath.ToSlash(f.dir), target)
			if !ok {
				return "", fmt.Errorf("%w: %q is a symlink to %q", ErrPathEscapes, cur, target)
			}
			done = nil
			target = inner
		}
		pending = append(splitPath(target), pending...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

// escapes reports whether a cleaned relative path climbs above its start.
func escapes(clean string) bool {
	return clean == ".." || strings.HasPrefix(clean, "../")
}

// within returns target relative to dir when it lies inside it.
func within(dir, target string) (string, bool) {
	dir, target = path.Clean(dir), path.Clean(target)
	if target == dir {
		return ".", true
	}
	if strings.HasPrefix(target, dir+"/") {
		return target[len(dir)+1:], true
	}
	return "", false
}

func splitPath(p string) []string {
	var parts []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			parts = append(parts, s)
		}
	}
	return parts
}

// list reads a directory; symlinks in it are listed, not followed.
func list(root *os.Root, rel string) ([]*FileInfo, error) {
	d, err := root.Open(rel)
	if err != nil {
		return nil, fsError(err)
	}
	defer d.Close()
	fi, err := d.Stat()
	if err != nil {
		return nil, fsError(err)
	}
	if !fi.IsDir() {
		return []*FileInfo{fileInfo(fi, fi.Name())}, nil
	}
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", rel, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	out := make([]*FileInfo, 0, len(entries))
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue // removed since the directory was read
		}
		out = append(out, fileInfo(info, e.Name()))
	}
	return out, nil
}

// stat describes one entry; a regular file's content type is sniffed
// from its first bytes, as Nomad does.
func stat(root *os.Root, rel string) (*FileInfo, error) {
	fi, err := root.Stat(rel)
	if err != nil {
		return nil, fsError(err)
	}
	name := fi.Name()
	if rel == "." {
		name = "/"
	}
	info := fileInfo(fi, name)
	if fi.Mode().IsRegular() {
		if f, err := root.Open(rel); err == nil {
			buf := make([]byte, 512)
			n, _ := io.ReadFull(f, buf)
			f.Close()
			info.ContentType = http.DetectContentType(buf[:n])
		}
	}
	return info, nil
}

func fileInfo(fi fs.FileInfo, name string) *FileInfo {
	return &FileInfo{
		Name:     name,
		IsDir:    fi.IsDir(),
		Size:     fi.Size(),
		FileMode: fi.Mode().String(),
		ModTime:  fi.ModTime(),
	}
}

// openFile opens a file to read; a directory is refused.
func openFile(root *os.Root, rel string) (*os.File, int64, error) {
	f, err := root.Open(rel)
	if err != nil {
		return nil, 0, fsError(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fsError(err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("%w: %q", ErrIsDirectory, rel)
	}
	return f, fi.Size(), nil
}

// fsError words an error of the os.Root calls: a path that os.Root
// refuses escapes the directory (a symlink swapped in after Resolve).
func fsError(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
		return fmt.Errorf("%w: %q", ErrPathEscapes, pe.Path)
	}
	return err
}

// fileStream writes a file as Nomad's stream frames from an offset,
// following what is appended when asked to, and reporting the file's
// truncation or deletion as a frame's FileEvent.
type fileStream struct {
	root   *os.Root
	rel    string
	file   *os.File
	pos    int64
	follow bool
}

func newFileStream(root *os.Root, rel string, file *os.File, size int64, req *structs.ClientFSRequest) (*fileStream, error) {
	if req.Offset < 0 {
		return nil, fmt.Errorf("%w: negative offset %d", ErrBadFSRequest, req.Offset)
	}
	s := &fileStream{root: root, rel: rel, file: file, follow: req.Follow}
	switch req.Origin {
	case "", "start":
		s.pos = min(req.Offset, size)
	case "end":
		s.pos = max(size-req.Offset, 0)
	default:
		return nil, fmt.Errorf(`%w: origin must be "start" or "end", not %q`, ErrBadFSRequest, req.Origin)
	}
	return s, nil
}

func (s *fileStream) frame(w io.Writer, f *StreamFrame) error {
	buf, err := json.Marshal(f)
	if err != nil {
		return err
	}
	_, err = w.Write(buf)
	return err
}

func (s *fileStream) run(ctx context.Context, w io.Writer, flush func()) error {
	flush() // the caller learns at once that the stream is open
	buf := make([]byte, fsFrameSize)
	lastBeat := time.Now()
	for {
		n, err := s.file.ReadAt(buf, s.pos)
		if n > 0 {
			if err := s.frame(w, &StreamFrame{Offset: s.pos, Data: buf[:n], File: s.rel}); err != nil {
				return err
			}
			s.pos += int64(n)
			flush()
			lastBeat = time.Now()
			continue
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read %q: %w", s.rel, err)
		}
		if !s.follow {
			return nil
		}
		event, err := s.check()
		if err != nil {
			return err
		}
		if event != "" {
			if err := s.frame(w, &StreamFrame{Offset: s.pos, File: s.rel, FileEvent: event}); err != nil {
				return err
			}
			flush()
			if event == FileEventDeleted {
				return nil
			}
			continue
		}
		if time.Since(lastBeat) >= FSStreamHeartbeatInterval {
			if _, err := w.Write([]byte("{}")); err != nil {
				return err
			}
			flush()
			lastBeat = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(FSStreamPollInterval):
		}
	}
}

// check looks at the file by its path: gone (deleted), or shorter than
// what was read (truncated: the stream starts over at 0).
func (s *fileStream) check() (string, error) {
	fi, err := s.root.Lstat(s.rel)
	if errors.Is(err, fs.ErrNotExist) {
		return FileEventDeleted, nil
	}
	if err != nil {
		return "", fmt.Errorf("stat %q: %w", s.rel, err)
	}
	open, err := s.file.Stat()
	if err != nil {
		return "", fmt.Errorf("stat %q: %w", s.rel, err)
	}
	if !os.SameFile(fi, open) {
		// Replaced by another file (rotation): it is the old one's end.
		return FileEventDeleted, nil
	}
	if open.Size() < s.pos {
		s.pos = 0
		return FileEventTruncated, nil
	}
	return "", nil
}
