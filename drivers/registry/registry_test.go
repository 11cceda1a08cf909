// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package registry

import (
	"testing"

	hclog "github.com/hashicorp/go-hclog"
)

// Every built-in driver must answer to the name it is registered under:
// the agent launches plugins by that name and checks it.
func TestBuiltinNames(t *testing.T) {
	drivers := Builtin()
	if _, ok := drivers["raw_exec"]; !ok {
		t.Fatal("raw_exec is not built in")
	}
	for name, factory := range drivers {
		if got := factory(hclog.NewNullLogger()).Name(); got != name {
			t.Errorf("driver registered as %q calls itself %q", name, got)
		}
	}
}

func TestNamesSortedAndComplete(t *testing.T) {
	names := Names()
	if len(names) != len(Builtin()) {
		t.Fatalf("Names() = %v, want all %d built-in drivers", names, len(Builtin()))
	}
	for i, n := range names {
		if _, ok := Builtin()[n]; !ok {
			t.Errorf("Names() lists %q, which is not built in", n)
		}
		if i > 0 && names[i-1] >= n {
			t.Errorf("Names() = %v is not sorted", names)
		}
	}
}
