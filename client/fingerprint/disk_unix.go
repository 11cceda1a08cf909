// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build unix

package fingerprint

import (
	"fmt"
	"syscall"
)

type diskStat struct{ total, free uint64 }

// statDisk reports the size of dir's file system and what an unprivileged
// user may still write to it.
func statDisk(dir string) (diskStat, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return diskStat{}, fmt.Errorf("statfs: %w", err)
	}
	bs := uint64(st.Bsize)
	return diskStat{total: uint64(st.Blocks) * bs, free: uint64(st.Bavail) * bs}, nil
}
