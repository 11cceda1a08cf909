// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"strings"
	"testing"

	"github.com/droverhq/drover/structs"
)

// Nodes may join any pool but "all", which holds every node already.
func TestNodeRegisterRefusesPoolAll(t *testing.T) {
	s := testServer(t)
	for _, tc := range []struct {
		pool    string
		wantErr bool
	}{{structs.NodePoolAll, true}, {"", false}, {"gpu", false}} {
		n := testNode(1000, 1024)
		n.NodePool = tc.pool
		var resp structs.NodeUpdateResponse
		err := s.Node().Register(&structs.NodeRegisterRequest{Node: n}, &resp)
		if tc.wantErr != (err != nil) || (err != nil && !strings.Contains(err.Error(), "reserved")) {
			t.Errorf("pool %q: err = %v, want error %v", tc.pool, err, tc.wantErr)
		}
	}
}
