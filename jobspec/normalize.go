// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"time"

	"github.com/droverhq/drover/api"
)

// normalizeJob applies the few settings Nomad's own job parser makes
// itself, so that Drover's parser output matches `nomad job run -output`
// for the same file. Everything else stays unset for the server to
// canonicalise. What it does, and why:
//
//   - periodic: a cron or crons value means the spec type is "cron", the
//     only kind a job file can express.
//   - network ports: a port "label" block with a static number is a
//     reserved port, one without is a dynamic port.
//   - template: change_mode "restart", perms "0644", splay 5s and
//     error_on_missing_key false when not set; a change_script gets
//     empty args, a 5s timeout and fail_on_error false.
//   - vault: env true, disable_file false and change_mode "restart".
func normalizeJob(job *api.Job) {
	if p := job.Periodic; p != nil && (p.Spec != nil || p.Specs != nil) {
		p.SpecType = api.Ptr("cron")
	}
	for _, g := range job.TaskGroups {
		normalizePorts(g.Networks)
		for _, t := range g.Tasks {
			if t.Resources != nil {
				normalizePorts(t.Resources.Networks)
			}
			for _, tmpl := range t.Templates {
				normalizeTemplate(tmpl)
			}
			if v := t.Vault; v != nil {
				setDefault(&v.Env, true)
				setDefault(&v.DisableFile, false)
				setDefault(&v.ChangeMode, "restart")
			}
		}
	}
}

func normalizePorts(networks []*api.NetworkResource) {
	for _, n := range networks {
		var dynamic []api.Port
		for _, p := range n.DynamicPorts {
			if p.Value > 0 {
				n.ReservedPorts = append(n.ReservedPorts, p)
			} else {
				dynamic = append(dynamic, p)
			}
		}
		n.DynamicPorts = dynamic
	}
}

func normalizeTemplate(t *api.Template) {
	setDefault(&t.ChangeMode, "restart")
	setDefault(&t.Perms, "0644")
	setDefault(&t.Splay, 5*time.Second)
	setDefault(&t.ErrMissingKey, false)
	if cs := t.ChangeScript; cs != nil {
		if cs.Args == nil {
			cs.Args = []string{}
		}
		setDefault(&cs.Timeout, 5*time.Second)
		setDefault(&cs.FailOnError, false)
	}
}

func setDefault[V any](p **V, v V) {
	if *p == nil {
		*p = &v
	}
}
