// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"fmt"

	"github.com/droverhq/drover/structs"
)

// setNodePool reads client { node_pool }, refusing, at its place in the
// file, the built-in pool "all": as in Nomad it holds every node and only
// jobs may name it, so no node may join it. (The client checks again, for
// the -node-pool flag.)
func setNodePool(dst *string) field {
	return field{decode: func(d *decoder, o occurrence) {
		lit, ok := d.literal(o, "a string")
		if !ok {
			return
		}
		s, ok := d.stringOf(o.key, lit)
		if !ok {
			return
		}
		if s == structs.NodePoolAll {
			d.errorf(lit.Pos(), fmt.Sprintf("Invalid value for %q", o.key),
				"node pool %q is reserved: it holds every node and only jobs may name it, nodes may not join it; use %q or a pool of your own.",
				s, structs.DefaultNodePool)
			return
		}
		*dst = s
	}}
}
