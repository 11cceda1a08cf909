// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package plugins

import (
	"slices"
	"testing"
)

// TestTaskConfigCoresRoundTrip: the cores a task holds cross the gRPC
// boundary unchanged, and a task without cores stays without.
func TestTaskConfigCoresRoundTrip(t *testing.T) {
	for _, cores := range [][]uint16{nil, {0}, {1, 3, 65535}} {
		got := taskConfigFromProto(taskConfigToProto(&TaskConfig{ID: "a/t/1", Cores: cores}))
		if !slices.Equal(got.Cores, cores) || (cores == nil) != (got.Cores == nil) {
			t.Errorf("cores %v came back as %v", cores, got.Cores)
		}
	}
}
