// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package osthread runs code that changes its OS thread (namespaces,
// cgroup membership) on a thread that is discarded afterwards, so the
// change never leaks into the rest of the process.
package osthread

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// RunThrowaway runs f on a locked OS thread that ends with it, so whatever
// f changes about its thread dies with the thread; a child process f
// starts inherits the change. Threads the runtime creates meanwhile are
// cloned from its template thread, not from this one.
//
// The main thread is never discarded (the runtime parks it for good
// instead, and /proc/self describes it), so f must not run there: if the
// goroutine lands on it, it keeps it locked, out of the scheduler's
// reach, while another goroutine, which now cannot land there, runs f.
func RunThrowaway(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked but on the main thread
		if unix.Gettid() == unix.Getpid() {
			defer runtime.UnlockOSThread()
			errc <- RunThrowaway(f)
			return
		}
		errc <- f()
	}()
	return <-errc
}
