// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package exec

// Name is the driver's name in job files.
const Name = "exec"
