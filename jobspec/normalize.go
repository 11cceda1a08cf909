// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"github.com/droverhq/drover/api"
)

// normalizeJob turns what a job file writes into the API's shape where
// the two differ, and sets nothing else: defaults are the server's job
// (api's Canonicalize and structs' canonicalisation), so that a field the
// file leaves out stays nil. That is what Nomad's JSON job documentation
// shows for `nomad job run -output` (Region, Priority, RestartPolicy,
// Resources' unset fields... all null).
//
//   - network ports: a job file writes every port as port "label" { },
//     the API keeps two lists; a port with a static number is a reserved
//     port, one without is a dynamic port, as the json-jobs documentation
//     describes them.
//
// Earlier versions also filled in the periodic spec type ("cron"), the
// template defaults (change_mode, perms, splay, error_on_missing_key,
// change_script args/timeout/fail_on_error) and the vault defaults (env,
// disable_file, change_mode). Nomad's documentation does not show its
// parser setting them, and api's Canonicalize sets the same values on the
// server, so they are left nil now.
func normalizeJob(job *api.Job) {
	for _, g := range job.TaskGroups {
		normalizePorts(g.Networks)
		for _, t := range g.Tasks {
			if t.Resources != nil {
				normalizePorts(t.Resources.Networks)
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
