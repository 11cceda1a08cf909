// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package taskrunner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// payloadHook writes a dispatched job's payload (`job dispatch`, stored as
// Job.Payload) into the task's local/ directory under the name its
// dispatch_payload block gives, before every start, as Nomad does. A task
// without the block, or a job without a payload, is left alone. It runs
// after the default hooks (the task directory exists by then).
type payloadHook struct{ NoopHook }

func (*payloadHook) Name() string { return "dispatch_payload" }

func (*payloadHook) Prestart(_ context.Context, req *HookRequest) error {
	dp := req.Task.DispatchPayload
	job := req.Alloc.Job
	if dp == nil || dp.File == "" || job == nil || len(job.Payload) == 0 {
		return nil
	}
	path, err := payloadPath(req.TaskDir.LocalDir, dp.File)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return fmt.Errorf("dispatch payload: create directory: %w", err)
	}
	// Written to a temporary file first, so a task restarted during the
	// write never reads half a payload.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, job.Payload, 0o666); err != nil {
		return fmt.Errorf("dispatch payload: write %s: %w", dp.File, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("dispatch payload: write %s: %w", dp.File, err)
	}
	return nil
}

// payloadPath resolves file inside local. Validation already refuses a
// file that escapes the task directory; this check keeps a job stored by
// an older server from writing outside it anyway.
func payloadPath(local, file string) (string, error) {
	path := filepath.Join(local, file)
	rel, err := filepath.Rel(local, path)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("dispatch payload: file %q escapes the task's local directory", file)
	}
	return path, nil
}
