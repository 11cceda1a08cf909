// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package fingerprint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/droverhq/drover/structs"
)

// File names, inside the data dir, of the node's persisted identity.
const (
	NodeIDFile   = "client-id"
	SecretIDFile = "secret-id"
)

// NodeIdentity returns the node's ID and secret, minting and saving them the
// first time, so the node keeps its identity (and its allocations) across
// agent restarts.
func NodeIdentity(dataDir string) (id, secret string, err error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", "", fmt.Errorf("create data dir: %w", err)
	}
	id, err = loadOrCreate(filepath.Join(dataDir, NodeIDFile), 0o644)
	if err != nil {
		return "", "", err
	}
	secret, err = loadOrCreate(filepath.Join(dataDir, SecretIDFile), 0o600)
	if err != nil {
		return "", "", err
	}
	return id, secret, nil
}

func loadOrCreate(path string, perm os.FileMode) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if v := strings.TrimSpace(string(b)); v != "" {
			return v, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	v := structs.GenerateUUID()
	// Write to a temporary file and rename, so a crash never leaves an
	// empty identity behind.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(v+"\n"), perm); err != nil {
		return "", fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("save %s: %w", path, err)
	}
	return v, nil
}
