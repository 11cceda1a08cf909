// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

//go:build !unix

package fingerprint

import "errors"

type diskStat struct{ total, free uint64 }

// statDisk is only implemented on Unix; the client runs on Linux.
func statDisk(string) (diskStat, error) {
	return diskStat{}, errors.New("disk fingerprint needs a unix system")
}
