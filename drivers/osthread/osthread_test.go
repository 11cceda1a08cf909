// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package osthread

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// f never runs on the main thread, and a namespace f joins does not leak
// into the process: the main thread (what /proc/self describes) and later
// goroutines keep the process's own.
func TestRunThrowawayKeepsChangesOnItsThread(t *testing.T) {
	before, err := os.Readlink("/proc/self/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		err := RunThrowaway(func() error {
			if unix.Gettid() == unix.Getpid() {
				t.Error("ran on the main thread")
			}
			if os.Geteuid() != 0 {
				return nil
			}
			return unix.Unshare(unix.CLONE_NEWUTS)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	after, err := os.Readlink("/proc/self/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Fatalf("main thread's UTS namespace changed: %s → %s", before, after)
	}
}
