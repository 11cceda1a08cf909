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
