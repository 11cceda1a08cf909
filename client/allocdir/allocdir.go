// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package allocdir owns the on-disk layout of an allocation, which tasks and
// users see and which must match Nomad's:
//
//	<allocdir>/alloc/{logs,data,tmp}          shared by the group's tasks
//	<allocdir>/<task>/{local,secrets,tmp}     private to one task
//
// Task output lands in <allocdir>/alloc/logs/<task>.{stdout,stderr}.N, where
// the HTTP layer reads it back.
package allocdir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Directory names inside an allocation directory.
const (
	SharedAllocName = "alloc"
	LogDirName      = "logs"
	SharedDataName  = "data"
	TmpDirName      = "tmp"
	TaskLocal       = "local"
	TaskSecrets     = "secrets"
)

// Permissions. Shared and scratch directories are world-writable (like
// Nomad's) because a task may run as a user other than the agent's; secrets
// stay private to the owner.
const (
	dirPerm     os.FileMode = 0o755
	sharedPerm  os.FileMode = 0o777
	secretsPerm os.FileMode = 0o700
)

// AllocDir is one allocation's directory tree.
type AllocDir struct {
	// Dir is <root>/<allocID>.
	Dir string
	// SharedDir is Dir/alloc.
	SharedDir string
	// LogDir is Dir/alloc/logs.
	LogDir string
}

// New describes the directory of allocID under root (<DataDir>/alloc); it
// touches nothing on disk.
func New(root, allocID string) *AllocDir {
	dir := filepath.Join(root, allocID)
	shared := filepath.Join(dir, SharedAllocName)
	return &AllocDir{Dir: dir, SharedDir: shared, LogDir: filepath.Join(shared, LogDirName)}
}

// Build creates the allocation directory and its shared part. It is
// idempotent, so a restarted agent may call it on an existing tree.
func (d *AllocDir) Build() error {
	if err := mkdir(d.Dir, dirPerm); err != nil {
		return err
	}
	if err := mkdir(d.SharedDir, dirPerm); err != nil {
		return err
	}
	if err := mkdir(d.LogDir, dirPerm); err != nil {
		return err
	}
	for _, name := range []string{SharedDataName, TmpDirName} {
		if err := mkdir(filepath.Join(d.SharedDir, name), sharedPerm); err != nil {
			return err
		}
	}
	return nil
}

// Destroy removes the whole allocation directory.
func (d *AllocDir) Destroy() error {
	if err := os.RemoveAll(d.Dir); err != nil {
		return fmt.Errorf("remove alloc dir %s: %w", d.Dir, err)
	}
	return nil
}

// TaskDir describes the private directory of one task.
func (d *AllocDir) TaskDir(task string) *TaskDir {
	dir := filepath.Join(d.Dir, task)
	return &TaskDir{
		Dir:        dir,
		LocalDir:   filepath.Join(dir, TaskLocal),
		SecretsDir: filepath.Join(dir, TaskSecrets),
		TmpDir:     filepath.Join(dir, TmpDirName),
		LogDir:     d.LogDir,
		SharedDir:  d.SharedDir,
	}
}

// LogPath is the base path of a task's stream ("stdout" or "stderr"); the
// driver appends ".0", ".1", ... as it rotates.
func (d *AllocDir) LogPath(task, stream string) string {
	return filepath.Join(d.LogDir, task+"."+stream)
}

// TaskDir is one task's directory tree.
type TaskDir struct {
	Dir        string
	LocalDir   string
	SecretsDir string
	TmpDir     string
	// LogDir and SharedDir are the allocation's, repeated for convenience.
	LogDir    string
	SharedDir string
}

// Build creates the task's directories; idempotent.
func (t *TaskDir) Build() error {
	if err := mkdir(t.Dir, dirPerm); err != nil {
		return err
	}
	if err := mkdir(t.LocalDir, sharedPerm); err != nil {
		return err
	}
	if err := mkdir(t.TmpDir, sharedPerm); err != nil {
		return err
	}
	return mkdir(t.SecretsDir, secretsPerm)
}

// mkdir creates dir and sets its mode explicitly, since MkdirAll's mode is
// filtered by the process umask.
func mkdir(dir string, perm os.FileMode) error {
	if err := os.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, perm); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return nil
}
