// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"time"

	"github.com/droverhq/drover/api"
)

// This file holds the blocks that say what happens when things change or
// fail: restart, reschedule, update, migrate and disconnect. Values are
// checked only where Nomad documents a closed set; ranges and cross-field
// rules are the server's.

var restartSpec = &spec[api.RestartPolicy]{
	what: "restart",
	attrs: map[string]attrFn[api.RestartPolicy]{
		"attempts":         intPtrAttr(func(r *api.RestartPolicy) **int { return &r.Attempts }),
		"interval":         durationPtrAttr(func(r *api.RestartPolicy) **time.Duration { return &r.Interval }),
		"delay":            durationPtrAttr(func(r *api.RestartPolicy) **time.Duration { return &r.Delay }),
		"render_templates": boolPtrAttr(func(r *api.RestartPolicy) **bool { return &r.RenderTemplates }),
		"mode":             oneOfPtrAttr(func(r *api.RestartPolicy) **string { return &r.Mode }, "delay", "fail"),
	},
}

// restartBlock decodes a restart block into the policy f points to.
func restartBlock[T any](f field[T, *api.RestartPolicy]) blockRule[T] {
	return singleBlock(f, restartSpec)
}

var rescheduleSpec = &spec[api.ReschedulePolicy]{
	what: "reschedule",
	attrs: map[string]attrFn[api.ReschedulePolicy]{
		"attempts":       intPtrAttr(func(r *api.ReschedulePolicy) **int { return &r.Attempts }),
		"interval":       durationPtrAttr(func(r *api.ReschedulePolicy) **time.Duration { return &r.Interval }),
		"delay":          durationPtrAttr(func(r *api.ReschedulePolicy) **time.Duration { return &r.Delay }),
		"delay_function": oneOfPtrAttr(func(r *api.ReschedulePolicy) **string { return &r.DelayFunction }, "constant", "exponential", "fibonacci"),
		"max_delay":      durationPtrAttr(func(r *api.ReschedulePolicy) **time.Duration { return &r.MaxDelay }),
		"unlimited":      boolPtrAttr(func(r *api.ReschedulePolicy) **bool { return &r.Unlimited }),
	},
}

var updateSpec = &spec[api.UpdateStrategy]{
	what: "update",
	attrs: map[string]attrFn[api.UpdateStrategy]{
		"stagger":           durationPtrAttr(func(u *api.UpdateStrategy) **time.Duration { return &u.Stagger }),
		"max_parallel":      intPtrAttr(func(u *api.UpdateStrategy) **int { return &u.MaxParallel }),
		"health_check":      oneOfPtrAttr(func(u *api.UpdateStrategy) **string { return &u.HealthCheck }, "checks", "task_states", "manual"),
		"min_healthy_time":  durationPtrAttr(func(u *api.UpdateStrategy) **time.Duration { return &u.MinHealthyTime }),
		"healthy_deadline":  durationPtrAttr(func(u *api.UpdateStrategy) **time.Duration { return &u.HealthyDeadline }),
		"progress_deadline": durationPtrAttr(func(u *api.UpdateStrategy) **time.Duration { return &u.ProgressDeadline }),
		"canary":            intPtrAttr(func(u *api.UpdateStrategy) **int { return &u.Canary }),
		"auto_revert":       boolPtrAttr(func(u *api.UpdateStrategy) **bool { return &u.AutoRevert }),
		"auto_promote":      boolPtrAttr(func(u *api.UpdateStrategy) **bool { return &u.AutoPromote }),
	},
}

var migrateSpec = &spec[api.MigrateStrategy]{
	what: "migrate",
	attrs: map[string]attrFn[api.MigrateStrategy]{
		"max_parallel":     intPtrAttr(func(m *api.MigrateStrategy) **int { return &m.MaxParallel }),
		"health_check":     oneOfPtrAttr(func(m *api.MigrateStrategy) **string { return &m.HealthCheck }, "checks", "task_states"),
		"min_healthy_time": durationPtrAttr(func(m *api.MigrateStrategy) **time.Duration { return &m.MinHealthyTime }),
		"healthy_deadline": durationPtrAttr(func(m *api.MigrateStrategy) **time.Duration { return &m.HealthyDeadline }),
	},
}

var disconnectSpec = &spec[api.DisconnectStrategy]{
	what: "disconnect",
	attrs: map[string]attrFn[api.DisconnectStrategy]{
		"lost_after":           durationPtrAttr(func(s *api.DisconnectStrategy) **time.Duration { return &s.LostAfter }),
		"stop_on_client_after": durationPtrAttr(func(s *api.DisconnectStrategy) **time.Duration { return &s.StopOnClientAfter }),
		"replace":              boolPtrAttr(func(s *api.DisconnectStrategy) **bool { return &s.Replace }),
		"reconcile": oneOfPtrAttr(func(s *api.DisconnectStrategy) **string { return &s.Reconcile },
			"keep_original", "keep_replacement", "best_score", "longest_running"),
	},
}
