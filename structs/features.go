// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import "fmt"

// UnsupportedFeatures lists, by field path, the parts of a valid job that
// Drover's runtime cannot honour yet. The agent refuses to register a job
// with any (so a user is never silently given less than they asked for),
// while validation, parsing and planning accept it. Each entry is removed
// here as the scheduler or client learns the feature; the list is the
// single place that says what is missing.
//
// Paths use Go field names with indexes, as jobconv reports wire fields:
// "TaskGroups[0].Networks", "TaskGroups[1].Tasks[0].Templates".
func (j *Job) UnsupportedFeatures() []string {
	if j == nil {
		return nil
	}
	var out []string
	add := func(cond bool, path string) {
		if cond {
			out = append(out, path)
		}
	}
	add(canaries(j.Update), "Update")
	for i, tg := range j.TaskGroups {
		if tg == nil {
			continue
		}
		g := fmt.Sprintf("TaskGroups[%d].", i)
		for k, n := range tg.Networks {
			if n != nil && !hostNetworkMode(n.Mode) {
				add(true, fmt.Sprintf("%sNetworks[%d].Mode (%q: only host networking is supported)", g, k, n.Mode))
			}
		}
		add(len(tg.Services) > 0, g+"Services")
		add(len(tg.Volumes) > 0, g+"Volumes")
		add(canaries(tg.Update), g+"Update")
		add(tg.Scaling != nil, g+"Scaling")
		add(tg.Consul != nil, g+"Consul")
		add(tg.Disconnect != nil, g+"Disconnect")
		add(tg.MaxClientDisconnect != nil, g+"MaxClientDisconnect")
		add(tg.StopAfterClientDisconnect != nil, g+"StopAfterClientDisconnect")
		add(tg.MaxRunDuration > 0, g+"MaxRunDuration")
		for k, t := range tg.Tasks {
			if t == nil {
				continue
			}
			p := fmt.Sprintf("%sTasks[%d].", g, k)
			add(len(t.Services) > 0, p+"Services")
			add(len(t.Templates) > 0, p+"Templates")
			add(len(t.VolumeMounts) > 0, p+"VolumeMounts")
			add(t.Vault != nil, p+"Vault")
			add(t.Consul != nil, p+"Consul")
			add(len(t.Secrets) > 0, p+"Secrets")
			add(len(t.Identities) > 0, p+"Identities")
			add(t.Identity != nil && !isDefaultIdentity(t.Identity), p+"Identity")
			add(t.CSIPluginConfig != nil, p+"CSIPluginConfig")
			add(len(t.Actions) > 0, p+"Actions")
		}
	}
	return out
}

// hostNetworkMode reports whether a network mode is host networking, the
// only mode Drover runs: bridge and CNI modes need network namespaces.
func hostNetworkMode(mode string) bool {
	return mode == "" || mode == NetworkModeHost
}

// canaries reports whether an update block asks for more than the
// scheduler does today (it replaces allocations without deployments).
func canaries(u *UpdateStrategy) bool {
	return u != nil && (u.Canary > 0 || u.AutoPromote)
}

// isDefaultIdentity reports whether id is the identity every task gets
// anyway: named "default" for the "nomad.io" audience, not exposed.
func isDefaultIdentity(id *WorkloadIdentity) bool {
	return id.Name == WorkloadIdentityDefaultName && !id.Env && !id.File &&
		(len(id.Audience) == 0 || (len(id.Audience) == 1 && id.Audience[0] == DefaultIdentityAudience)) &&
		id.TTL == 0 && id.ChangeMode == "" && len(id.ExtraClaims) == 0
}
