// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package tasktable

import (
	"fmt"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ParseSignal maps a signal name as job files and `alloc signal` give it
// ("SIGINT", "INT", "sigint") to the signal; empty means SIGTERM, what
// StopTask sends by default.
func ParseSignal(name string) (syscall.Signal, error) {
	if name == "" {
		return syscall.SIGTERM, nil
	}
	upper := strings.ToUpper(name)
	if !strings.HasPrefix(upper, "SIG") {
		upper = "SIG" + upper
	}
	sig := unix.SignalNum(upper)
	if sig == 0 {
		return 0, fmt.Errorf("unknown signal %q", name)
	}
	return sig, nil
}
