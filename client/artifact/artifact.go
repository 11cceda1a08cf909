// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package artifact fetches a task's `artifact` blocks into its task
// directory: it downloads the source (http, https, a local file), checks
// the optional checksum and unpacks archives. Everything it writes goes
// through an os.Root opened on the task directory, so neither a hostile
// destination, a hostile archive nor a symlink the task left behind can
// make it write outside that directory.
package artifact

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/droverhq/drover/structs"
)

// Fetcher downloads artifacts. The zero value uses http.DefaultClient.
type Fetcher struct {
	// Client makes the http and https requests.
	Client *http.Client
	// Owner, if set, is who an artifact with `chown = true` is given to
	// (the task's user).
	Owner *Owner
}

// Owner is a numeric file owner.
type Owner struct{ UID, GID int }

// Options the artifact block's `options` map may hold. Others are refused
// rather than ignored, so a job never silently gets less than it asked for.
const (
	optChecksum = "checksum"
	optArchive  = "archive"
)

// Fetch downloads a (already interpolated) into taskDir. The destination
// is relative to taskDir; one that leaves it is refused.
func (f *Fetcher) Fetch(ctx context.Context, a *structs.TaskArtifact, taskDir string) error {
	if a == nil || a.GetterSource == "" {
		return errors.New("artifact has no source")
	}
	dest, err := destPath(a.RelativeDest)
	if err != nil {
		return err
	}
	var sum *checksum
	archive := ""
	for k, v := range a.GetterOptions {
		switch k {
		case optChecksum:
			if sum, err = parseChecksum(v); err != nil {
				return err
			}
		case optArchive:
			archive = v
		default:
			return fmt.Errorf("artifact option %q is not supported", k)
		}
	}
	mode := a.GetterMode
	if mode == "" {
		mode = structs.GetterModeAny
	}

	root, err := os.OpenRoot(taskDir)
	if err != nil {
		return fmt.Errorf("open task dir: %w", err)
	}
	defer root.Close()

	// Download into a temporary file beside the task's files, hashing on
	// the way, so nothing reaches the destination before it is verified.
	tmp, err := os.CreateTemp(taskDir, ".artifact-*")
	if err != nil {
		return fmt.Errorf("create download file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	name, err := f.download(ctx, a, tmp, sum)
	if err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind download: %w", err)
	}

	written, err := place(root, dest, mode, name, archive, tmp)
	if err != nil {
		return err
	}
	if a.Chown && f.Owner != nil {
		return chown(root, written, *f.Owner)
	}
	return nil
}

// place puts the verified download where the artifact asks: the file
// itself in mode "file", an archive unpacked into the destination, or the
// file inside the destination directory. It returns the path written.
func place(root *os.Root, dest, mode, name, archive string, tmp *os.File) (string, error) {
	var err error
	kind := ""
	if archive != "false" {
		if kind, err = archiveKind(name, archive); err != nil {
			return "", err
		}
	}
	switch {
	case mode == structs.GetterModeFile:
		return dest, writeFile(root, dest, tmp, 0o644)
	case kind != "":
		if err := root.MkdirAll(dest, 0o755); err != nil {
			return "", fmt.Errorf("create destination %q: %w", dest, err)
		}
		sub, err := root.OpenRoot(dest)
		if err != nil {
			return "", fmt.Errorf("open destination %q: %w", dest, err)
		}
		defer sub.Close()
		return dest, unpack(kind, tmp, sub)
	case mode == structs.GetterModeDir:
		return "", fmt.Errorf("mode %q needs an archive, and %q is not one", mode, name)
	default:
		if err := root.MkdirAll(dest, 0o755); err != nil {
			return "", fmt.Errorf("create destination %q: %w", dest, err)
		}
		p := path.Join(dest, name)
		return p, writeFile(root, p, tmp, 0o644)
	}
}

// chown gives everything at dest to o, without following symlinks.
func chown(root *os.Root, dest string, o Owner) error {
	err := fs.WalkDir(root.FS(), dest, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return root.Lchown(p, o.UID, o.GID)
	})
	if err != nil {
		return fmt.Errorf("chown %q: %w", dest, err)
	}
	return nil
}

// destPath turns the artifact's destination into a path relative to the
// task directory. Absolute destinations are rooted in the task directory,
// as Nomad's validation treats them.
func destPath(rel string) (string, error) {
	if rel == "" {
		rel = structs.DefaultArtifactDest
	}
	clean := path.Clean("/" + filepath.ToSlash(rel))
	// Clean of a rooted path drops "..", so compare with the unrooted form
	// to see whether the destination tried to climb out.
	if !filepath.IsAbs(rel) {
		if c := path.Clean(filepath.ToSlash(rel)); c == ".." || strings.HasPrefix(c, "../") {
			return "", fmt.Errorf("artifact destination %q escapes the task directory", rel)
		}
	}
	if clean == "/" {
		return ".", nil
	}
	return clean[1:], nil
}

// download copies the source into w, verifying sum if set, and returns the
// source's file name.
func (f *Fetcher) download(ctx context.Context, a *structs.TaskArtifact, w io.Writer, sum *checksum) (string, error) {
	src := a.GetterSource
	var (
		body io.ReadCloser
		name string
	)
	u, err := url.Parse(src)
	switch {
	case filepath.IsAbs(src):
		body, name, err = openLocal(src)
	case err != nil:
		return "", fmt.Errorf("parse artifact source %q: %w", src, err)
	case u.Scheme == "file":
		body, name, err = openLocal(u.Path)
	case u.Scheme == "http" || u.Scheme == "https":
		body, err = f.get(ctx, u, a.GetterHeaders)
		name = path.Base(u.Path)
	default:
		return "", fmt.Errorf("artifact source %q: scheme %q is not supported (http, https, file or an absolute path)", src, u.Scheme)
	}
	if err != nil {
		return "", err
	}
	defer body.Close()
	if name == "" || name == "/" || name == "." {
		return "", fmt.Errorf("artifact source %q names no file", src)
	}
	var h hash.Hash
	if sum != nil {
		h = sum.newHash()
		w = io.MultiWriter(w, h)
	}
	if _, err := io.Copy(w, body); err != nil {
		return "", fmt.Errorf("download %q: %w", src, err)
	}
	if sum != nil {
		if got := hex.EncodeToString(h.Sum(nil)); got != sum.want {
			return "", fmt.Errorf("checksum mismatch for %q: expected %s:%s, got %s", src, sum.kind, sum.want, got)
		}
	}
	return name, nil
}

func (f *Fetcher) get(ctx context.Context, u *url.URL, headers map[string]string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build request for %q: %w", u, err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c := f.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %q: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("download %q: bad response code: %d", u, resp.StatusCode)
	}
	return resp.Body, nil
}

func openLocal(p string) (io.ReadCloser, string, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, "", fmt.Errorf("open artifact source: %w", err)
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, "", fmt.Errorf("stat artifact source: %w", err)
	}
	if !fi.Mode().IsRegular() {
		fh.Close()
		return nil, "", fmt.Errorf("artifact source %q is not a regular file", p)
	}
	return fh, filepath.Base(p), nil
}

// checksum is a parsed `checksum` option, "type:hex".
type checksum struct {
	kind, want string
}

func parseChecksum(v string) (*checksum, error) {
	kind, want, ok := strings.Cut(v, ":")
	if !ok {
		return nil, fmt.Errorf("checksum %q: want type:value", v)
	}
	c := &checksum{kind: strings.ToLower(kind), want: strings.ToLower(want)}
	sizes := map[string]int{"md5": md5.Size, "sha1": sha1.Size, "sha256": sha256.Size, "sha512": sha512.Size}
	size, known := sizes[c.kind]
	if !known {
		return nil, fmt.Errorf("checksum type %q is not supported (md5, sha1, sha256, sha512)", kind)
	}
	if b, err := hex.DecodeString(c.want); err != nil || len(b) != size {
		return nil, fmt.Errorf("checksum %q: not a %s hex digest", v, c.kind)
	}
	return c, nil
}

func (c *checksum) newHash() hash.Hash {
	switch c.kind {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha512":
		return sha512.New()
	}
	return sha256.New()
}

// writeFile writes r to name under root, replacing what was there.
func writeFile(root *os.Root, name string, r io.Reader, perm os.FileMode) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create directory %q: %w", dir, err)
		}
	}
	fh, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("create %q: %w", name, err)
	}
	if _, err := io.Copy(fh, r); err != nil {
		fh.Close()
		return fmt.Errorf("write %q: %w", name, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("write %q: %w", name, err)
	}
	return nil
}
