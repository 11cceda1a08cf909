// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"reflect"
	"strings"
	"testing"
)

// TestEncodeRoundTrip checks the entry layout (type byte, then msgpack)
// across reuses of the scratch buffer, small after large, so a reused
// buffer never leaks bytes of an earlier entry.
func TestEncodeRoundTrip(t *testing.T) {
	var ins []*AllocUpdateRequest
	var entries [][]byte
	for i, n := range []int{1000, 1, 50, 0, 3000} {
		in := &AllocUpdateRequest{NodeID: strings.Repeat("n", n)}
		for range n / 100 {
			in.Allocs = append(in.Allocs, &Allocation{ID: GenerateUUID(), ClientStatus: AllocClientStatusRunning})
		}
		b, err := Encode(MessageType(i+1), in)
		if err != nil {
			t.Fatal(err)
		}
		ins, entries = append(ins, in), append(entries, b)
	}
	// Decoded only now: an entry must not share memory with a later one.
	for i, b := range entries {
		if b[0] != uint8(i+1) {
			t.Fatalf("entry %d: type byte %d", i, b[0])
		}
		var out AllocUpdateRequest
		if err := Decode(b[1:], &out); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if !reflect.DeepEqual(ins[i], &out) {
			t.Fatalf("entry %d: decoded %+v, want %+v", i, out, ins[i])
		}
	}
}
