// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package artifact

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Archive kinds Fetch unpacks.
const (
	kindTar   = "tar"
	kindTarGz = "tar.gz"
	kindZip   = "zip"
)

// archiveKind picks how to unpack a download called name: by the
// `archive` option when set, else by the name's extension; "" means not an
// archive.
func archiveKind(name, option string) (string, error) {
	s := strings.ToLower(option)
	if s == "" {
		s = strings.ToLower(name)
	} else {
		s = "." + s
	}
	switch {
	case strings.HasSuffix(s, ".tar.gz"), strings.HasSuffix(s, ".tgz"):
		return kindTarGz, nil
	case strings.HasSuffix(s, ".tar"):
		return kindTar, nil
	case strings.HasSuffix(s, ".zip"):
		return kindZip, nil
	}
	if option != "" {
		return "", fmt.Errorf("archive type %q is not supported (tar, tar.gz, tgz, zip)", option)
	}
	return "", nil
}

// unpack extracts the archive in f into root. Every entry's name and link
// target is checked first, so a hostile entry is refused by name; os.Root
// then guarantees that nothing, not even through a symlink created by an
// earlier entry or left by the task, lands outside.
func unpack(kind string, f *os.File, root *os.Root) error {
	switch kind {
	case kindTar:
		return untar(f, root)
	case kindTarGz:
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("open gzip: %w", err)
		}
		defer zr.Close()
		return untar(zr, root)
	case kindZip:
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("stat archive: %w", err)
		}
		return unzip(f, fi.Size(), root)
	}
	return fmt.Errorf("unknown archive kind %q", kind)
}

// entryName validates an archive entry's name and returns it cleaned and
// relative to the destination.
func entryName(name string) (string, error) {
	n := strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(n, "/") || (len(n) > 1 && n[1] == ':') {
		return "", fmt.Errorf("archive entry %q: absolute path", name)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("archive entry %q: path leaves the destination", name)
		}
	}
	c := path.Clean(n)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// linkTarget validates the target of a symlink entry called name: it must
// be relative and resolve inside the destination.
func linkTarget(name, target string) error {
	t := strings.ReplaceAll(target, "\\", "/")
	if t == "" || strings.HasPrefix(t, "/") {
		return fmt.Errorf("archive entry %q: symlink to absolute path %q", name, target)
	}
	// ".." may only lead the target: after a name it could climb back
	// through a symlink, which a lexical check cannot see.
	named := false
	for _, part := range strings.Split(t, "/") {
		switch part {
		case "", ".":
		case "..":
			if named {
				return fmt.Errorf("archive entry %q: symlink target %q climbs back through a path", name, target)
			}
		default:
			named = true
		}
	}
	resolved := path.Join(path.Dir(name), t)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("archive entry %q: symlink to %q leaves the destination", name, target)
	}
	return nil
}

func untar(r io.Reader, root *os.Root) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if name == "" {
				continue
			}
			if err := root.MkdirAll(name, dirPerm(hdr.FileInfo().Mode())); err != nil {
				return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
			}
		case tar.TypeReg:
			if err := extractFile(root, hdr.Name, name, tr, hdr.FileInfo().Mode()); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := extractSymlink(root, hdr.Name, name, hdr.Linkname); err != nil {
				return err
			}
		case tar.TypeLink:
			target, err := entryName(hdr.Linkname)
			if err != nil || target == "" {
				return fmt.Errorf("archive entry %q: hard link to %q leaves the destination", hdr.Name, hdr.Linkname)
			}
			if err := mkParent(root, name); err != nil {
				return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
			}
			_ = root.Remove(name)
			if err := root.Link(target, name); err != nil {
				return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
			}
		case tar.TypeXGlobalHeader:
		default:
			return fmt.Errorf("archive entry %q: unsupported type %q", hdr.Name, string(hdr.Typeflag))
		}
	}
}

func unzip(r io.ReaderAt, size int64, root *os.Root) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("read zip: %w", err)
	}
	for _, zf := range zr.File {
		name, err := entryName(zf.Name)
		if err != nil {
			return err
		}
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			if name == "" {
				continue
			}
			if err := root.MkdirAll(name, dirPerm(mode)); err != nil {
				return fmt.Errorf("archive entry %q: %w", zf.Name, err)
			}
		case mode&fs.ModeSymlink != 0:
			target, err := readZipEntry(zf, 4096)
			if err != nil {
				return err
			}
			if err := extractSymlink(root, zf.Name, name, target); err != nil {
				return err
			}
		case mode.IsRegular():
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("archive entry %q: %w", zf.Name, err)
			}
			err = extractFile(root, zf.Name, name, rc, mode)
			rc.Close()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("archive entry %q: unsupported file type %v", zf.Name, mode.Type())
		}
	}
	return nil
}

func readZipEntry(zf *zip.File, limit int64) (string, error) {
	rc, err := zf.Open()
	if err != nil {
		return "", fmt.Errorf("archive entry %q: %w", zf.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit))
	if err != nil {
		return "", fmt.Errorf("archive entry %q: %w", zf.Name, err)
	}
	return string(b), nil
}

func extractFile(root *os.Root, orig, name string, r io.Reader, mode fs.FileMode) error {
	if name == "" {
		return fmt.Errorf("archive entry %q: file without a name", orig)
	}
	if err := mkParent(root, name); err != nil {
		return fmt.Errorf("archive entry %q: %w", orig, err)
	}
	// Remove first so an existing symlink at name is replaced, not
	// written through.
	_ = root.Remove(name)
	fh, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode.Perm()&0o777)
	if err != nil {
		return fmt.Errorf("archive entry %q: %w", orig, err)
	}
	if _, err := io.Copy(fh, r); err != nil {
		fh.Close()
		return fmt.Errorf("archive entry %q: %w", orig, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("archive entry %q: %w", orig, err)
	}
	return nil
}

func extractSymlink(root *os.Root, orig, name, target string) error {
	if name == "" {
		return fmt.Errorf("archive entry %q: symlink without a name", orig)
	}
	if err := linkTarget(name, target); err != nil {
		return err
	}
	if err := mkParent(root, name); err != nil {
		return fmt.Errorf("archive entry %q: %w", orig, err)
	}
	// The target is resolved lexically from the link's directory, which
	// is only right if that directory is reached without symlinks.
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		fi, err := root.Lstat(dir)
		if err != nil {
			return fmt.Errorf("archive entry %q: %w", orig, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("archive entry %q: symlink inside symlinked directory %q", orig, dir)
		}
	}
	_ = root.Remove(name)
	if err := root.Symlink(target, name); err != nil {
		return fmt.Errorf("archive entry %q: %w", orig, err)
	}
	return nil
}

func mkParent(root *os.Root, name string) error {
	if dir := path.Dir(name); dir != "." {
		return root.MkdirAll(dir, 0o755)
	}
	return nil
}

// dirPerm keeps directories traversable by their owner whatever the
// archive says.
func dirPerm(m fs.FileMode) fs.FileMode { return m.Perm()&0o777 | 0o700 }
