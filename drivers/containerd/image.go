// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package containerd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
)

// archiveImagePrefix names the images imported from OCI archives: the tag
// is the archive's sha256, so the same archive is imported once and a
// changed archive at the same path is a new image.
const archiveImagePrefix = "drover.local/oci-archive:"

// archiveImageName is the image name an archive with digest hex gets.
func archiveImageName(hexDigest string) string {
	return archiveImagePrefix + hexDigest
}

// ensureImage returns the task's image, unpacked into the default
// snapshotter: imported from an OCI archive, found in the image store,
// or pulled (only the last needs a registry).
func (d *Driver) ensureImage(ctx context.Context, c *client.Client, ref string) (client.Image, error) {
	if path, ok := strings.CutPrefix(ref, ociArchivePrefix); ok {
		return d.importArchive(ctx, c, path)
	}
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	name := named.String()
	img, err := c.GetImage(ctx, name)
	if err == nil {
		return img, unpack(ctx, img)
	}
	if !errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("look up image %s: %w", name, err)
	}
	d.logger.Info("pulling image", "image", name)
	img, err = c.Pull(ctx, name, client.WithPullUnpack)
	if err != nil {
		return nil, fmt.Errorf("pull image %s: %w", name, err)
	}
	return img, nil
}

// importArchive imports the OCI image-layout tarball at path unless an
// import of the same bytes exists. Imports are serialised: two tasks
// starting from one archive import it once.
func (d *Driver) importArchive(ctx context.Context, c *client.Client, path string) (client.Image, error) {
	d.importMu.Lock()
	defer d.importMu.Unlock()

	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("image archive: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("image archive %s: %w", path, err)
	}
	name := archiveImageName(hex.EncodeToString(h.Sum(nil)))

	img, err := c.GetImage(ctx, name)
	if err == nil {
		return img, unpack(ctx, img)
	}
	if !errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("look up image %s: %w", name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("image archive %s: %w", path, err)
	}
	d.logger.Info("importing image archive", "path", path, "image", name)
	// Only the index gets a name: the translator drops the archive's own
	// "latest"-style ref names, which would collide between archives.
	if _, err := c.Import(ctx, f,
		client.WithIndexName(name),
		client.WithImageRefTranslator(func(string) string { return "" }),
	); err != nil {
		return nil, fmt.Errorf("import image archive %s: %w", path, err)
	}
	img, err = c.GetImage(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("imported image %s: %w", name, err)
	}
	return img, unpack(ctx, img)
}

// unpack makes sure img's layers are in the default snapshotter, which
// containers are created from.
func unpack(ctx context.Context, img client.Image) error {
	ok, err := img.IsUnpacked(ctx, "")
	if err != nil {
		return fmt.Errorf("image %s: check unpacked: %w", img.Name(), err)
	}
	if ok {
		return nil
	}
	if err := img.Unpack(ctx, ""); err != nil {
		return fmt.Errorf("unpack image %s: %w", img.Name(), err)
	}
	return nil
}
