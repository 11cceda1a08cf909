// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import "github.com/droverhq/drover/structs"

// SchedulerConfig is the server block's default_scheduler_config: the
// scheduler configuration a new cluster starts with (later changes go
// through the API and win). Every value is a pointer so a file that does
// not set it neither overrides another file nor Nomad's default.
type SchedulerConfig struct {
	SchedulerAlgorithm            string           `json:"scheduler_algorithm,omitempty"`
	MemoryOversubscriptionEnabled *bool            `json:"memory_oversubscription_enabled,omitempty"`
	RejectJobRegistration         *bool            `json:"reject_job_registration,omitempty"`
	PauseEvalBroker               *bool            `json:"pause_eval_broker,omitempty"`
	PreemptionConfig              PreemptionConfig `json:"preemption_config"`
}

// PreemptionConfig is default_scheduler_config's preemption_config block.
type PreemptionConfig struct {
	SystemSchedulerEnabled   *bool `json:"system_scheduler_enabled,omitempty"`
	SysBatchSchedulerEnabled *bool `json:"sysbatch_scheduler_enabled,omitempty"`
	BatchSchedulerEnabled    *bool `json:"batch_scheduler_enabled,omitempty"`
	ServiceSchedulerEnabled  *bool `json:"service_scheduler_enabled,omitempty"`
}

func schedulerConfigSection(s *SchedulerConfig) section {
	p := &s.PreemptionConfig
	return section{
		what: "the default_scheduler_config block",
		fields: map[string]field{
			"scheduler_algorithm":             setString(&s.SchedulerAlgorithm),
			"memory_oversubscription_enabled": setOptBool(&s.MemoryOversubscriptionEnabled),
			"reject_job_registration":         setOptBool(&s.RejectJobRegistration),
			"pause_eval_broker":               setOptBool(&s.PauseEvalBroker),
			"preemption_config": block(func() section {
				return section{what: "the preemption_config block", fields: map[string]field{
					"system_scheduler_enabled":   setOptBool(&p.SystemSchedulerEnabled),
					"sysbatch_scheduler_enabled": setOptBool(&p.SysBatchSchedulerEnabled),
					"batch_scheduler_enabled":    setOptBool(&p.BatchSchedulerEnabled),
					"service_scheduler_enabled":  setOptBool(&p.ServiceSchedulerEnabled),
				}}
			}),
		},
		pending: map[string]string{"node_limit_for_feasibility_checks": "argument"},
	}
}

// merge lays o over s: what o sets wins.
func (s *SchedulerConfig) merge(o *SchedulerConfig) {
	str(&s.SchedulerAlgorithm, o.SchedulerAlgorithm)
	for _, pair := range [][2]**bool{
		{&s.MemoryOversubscriptionEnabled, &o.MemoryOversubscriptionEnabled},
		{&s.RejectJobRegistration, &o.RejectJobRegistration},
		{&s.PauseEvalBroker, &o.PauseEvalBroker},
		{&s.PreemptionConfig.SystemSchedulerEnabled, &o.PreemptionConfig.SystemSchedulerEnabled},
		{&s.PreemptionConfig.SysBatchSchedulerEnabled, &o.PreemptionConfig.SysBatchSchedulerEnabled},
		{&s.PreemptionConfig.BatchSchedulerEnabled, &o.PreemptionConfig.BatchSchedulerEnabled},
		{&s.PreemptionConfig.ServiceSchedulerEnabled, &o.PreemptionConfig.ServiceSchedulerEnabled},
	} {
		if v := *pair[1]; v != nil {
			b := *v
			*pair[0] = &b
		}
	}
}

// mergeSchedulerConfig merges o's block into r's, keeping r's nil when
// neither file has the block. It builds a new block rather than changing
// r's, which a clone may share with the configuration it came from.
func mergeSchedulerConfig(r, o *Server) {
	if o.DefaultSchedulerConfig == nil {
		return
	}
	merged := &SchedulerConfig{}
	if r.DefaultSchedulerConfig != nil {
		merged.merge(r.DefaultSchedulerConfig)
	}
	merged.merge(o.DefaultSchedulerConfig)
	r.DefaultSchedulerConfig = merged
}

// Structs returns the scheduler configuration this block asks for: Nomad's
// defaults with the block's values over them. A nil block gives nil (the
// servers keep their built-in default).
func (s *SchedulerConfig) Structs() *structs.SchedulerConfiguration {
	if s == nil {
		return nil
	}
	out := structs.DefaultSchedulerConfiguration()
	if s.SchedulerAlgorithm != "" {
		out.SchedulerAlgorithm = s.SchedulerAlgorithm
	}
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&out.MemoryOversubscriptionEnabled, s.MemoryOversubscriptionEnabled)
	set(&out.RejectJobRegistration, s.RejectJobRegistration)
	set(&out.PauseEvalBroker, s.PauseEvalBroker)
	set(&out.PreemptionConfig.SystemSchedulerEnabled, s.PreemptionConfig.SystemSchedulerEnabled)
	set(&out.PreemptionConfig.SysBatchSchedulerEnabled, s.PreemptionConfig.SysBatchSchedulerEnabled)
	set(&out.PreemptionConfig.BatchSchedulerEnabled, s.PreemptionConfig.BatchSchedulerEnabled)
	set(&out.PreemptionConfig.ServiceSchedulerEnabled, s.PreemptionConfig.ServiceSchedulerEnabled)
	return out
}
