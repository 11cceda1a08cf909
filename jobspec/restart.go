// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"
	"time"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

// restartModes are the values Nomad accepts for restart.mode.
var restartModes = map[string]bool{"delay": true, "fail": true}

var restartSpec = &spec[api.RestartPolicy]{
	what: "restart",
	attrs: map[string]attrFn[api.RestartPolicy]{
		"attempts":         intPtrAttr(func(r *api.RestartPolicy) **int { return &r.Attempts }),
		"interval":         durationPtrAttr(func(r *api.RestartPolicy) **time.Duration { return &r.Interval }),
		"delay":            durationPtrAttr(func(r *api.RestartPolicy) **time.Duration { return &r.Delay }),
		"render_templates": boolPtrAttr(func(r *api.RestartPolicy) **bool { return &r.RenderTemplates }),
		"mode": func(d *decoder, a *hcl.Attribute, r *api.RestartPolicy) hcl.Diagnostics {
			s, ok, diags := d.stringOf(a)
			if !ok {
				return diags
			}
			if !restartModes[s] {
				return append(diags, errorAt(a.Expr.Range(), "Invalid restart mode",
					fmt.Sprintf("mode must be \"delay\" or \"fail\", not %q.", s)))
			}
			r.Mode = &s
			return diags
		},
	},
}

// restartBlock decodes a restart block into the policy f points to.
func restartBlock[T any](f field[T, *api.RestartPolicy]) blockRule[T] {
	return singleBlock(f, restartSpec)
}
