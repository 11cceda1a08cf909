// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"strings"
	"testing"
)

// Bad driver lists are refused before anything is served.
func TestPluginDriverRejectsBadNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no names", nil, "Usage: drover plugin driver NAME[,NAME...]"},
		{"unknown", []string{"raw_exec,nope"}, `Unknown driver "nope"`},
		{"twice", []string{"exec,exec"}, `Driver "exec" is named twice`},
		{"empty entry", []string{"exec,"}, `Unknown driver ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, "", append([]string{"plugin", "driver"}, tc.args...)...)
			if r.code != ExitError || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, ExitError, tc.want)
			}
		})
	}
}
