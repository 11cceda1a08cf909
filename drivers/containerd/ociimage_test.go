// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"
)

// busyboxPath is Debian's busybox-static: one static binary, so a rootfs
// made of it and a few symlinks runs without any shared library.
const busyboxPath = "/bin/busybox"

// busyboxApplets are the commands the test image links to busybox.
var busyboxApplets = []string{"sh", "echo", "sleep", "cat", "id", "ls", "env", "true", "false", "dd", "head", "tail", "grep", "kill", "ps", "test", "["}

// writeBusyboxImage writes an OCI image-layout archive (the format of
// skopeo's and buildah's oci-archive:) holding one layer with busybox into
// dir, and returns its path. It is written by hand so that the tests need
// no registry and no image tool: the oci-layout marker, index.json, and
// content-addressed blobs (manifest, config, gzipped layer) under
// blobs/sha256/. extra files (path -> content) are added to the layer,
// which makes a distinct image for a test that needs one.
func writeBusyboxImage(dir string, extra map[string]string) (string, error) {
	bb, err := os.ReadFile(busyboxPath)
	if err != nil {
		return "", fmt.Errorf("%w (install Debian's busybox-static, e.g. with scripts/containerd-test-env.sh start)", err)
	}
	if err := checkStatic(busyboxPath); err != nil {
		return "", err
	}
	layer, diffID, err := busyboxLayer(bb, extra)
	if err != nil {
		return "", err
	}
	archive, err := ociArchive(layer, diffID)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "busybox-"+digestOf(archive)[len("sha256:"):][:12]+".tar")
	if err := os.WriteFile(path, archive, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// checkStatic fails for a dynamically linked binary, which could not run
// in an image that has no libc.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: install Debian's busybox-static instead of busybox", path)
		}
	}
	return nil
}

// busyboxLayer returns the gzipped layer tar and the digest of the
// uncompressed tar (the config's diff_id).
func busyboxLayer(bb []byte, extra map[string]string) (gz []byte, diffID string, err error) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	mtime := time.Unix(0, 0)
	for _, dir := range []string{"bin/", "etc/", "tmp/", "proc/", "sys/", "dev/", "root/"} {
		mode := int64(0o755)
		if dir == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: mode, ModTime: mtime}); err != nil {
			return nil, "", err
		}
	}
	files := map[string][]byte{
		"bin/busybox": bb,
		"etc/passwd":  []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"),
		"etc/group":   []byte("root:x:0:\nnogroup:x:65534:\n"),
	}
	for name, content := range extra {
		files[name] = []byte(content)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		mode := int64(0o644)
		if name == "bin/busybox" {
			mode = 0o755
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(files[name])), ModTime: mtime}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, "", err
		}
		if _, err := tw.Write(files[name]); err != nil {
			return nil, "", err
		}
	}
	for _, applet := range busyboxApplets {
		hdr := &tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", Mode: 0o777, ModTime: mtime}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, "", err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	return out.Bytes(), digestOf(raw.Bytes()), nil
}

// ociArchive wraps a layer into an OCI image layout, as a tar.
func ociArchive(layer []byte, diffID string) ([]byte, error) {
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config": map[string]any{
			"Env":        []string{"PATH=/bin"},
			"Cmd":        []string{"sh"},
			"WorkingDir": "/",
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	if err != nil {
		return nil, err
	}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor("application/vnd.oci.image.config.v1+json", config),
		"layers":        []any{descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)},
	})
	if err != nil {
		return nil, err
	}
	mdesc := descriptor("application/vnd.oci.image.manifest.v1+json", manifest)
	mdesc["platform"] = map[string]string{"architecture": runtime.GOARCH, "os": "linux"}
	mdesc["annotations"] = map[string]string{"org.opencontainers.image.ref.name": "latest"}
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     []any{mdesc},
	})
	if err != nil {
		return nil, err
	}

	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	add := func(name string, content []byte) error {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(content)
		return err
	}
	entries := []struct {
		name    string
		content []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", index},
		{blobPath(manifest), manifest},
		{blobPath(config), config},
		{blobPath(layer), layer},
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
			return nil, err
		}
	}
	for _, e := range entries {
		if err := add(e.name, e.content); err != nil {
			return nil, fmt.Errorf("add %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func descriptor(mediaType string, content []byte) map[string]any {
	return map[string]any{"mediaType": mediaType, "digest": digestOf(content), "size": len(content)}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func blobPath(content []byte) string {
	sum := sha256.Sum256(content)
	return "blobs/sha256/" + hex.EncodeToString(sum[:])
}
