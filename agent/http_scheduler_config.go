// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

// Nomad's scheduler configuration endpoint: GET and PUT/POST
// /v1/operator/scheduler/configuration (?cas=<ModifyIndex> for a
// compare-and-set), with the JSON of the official client's
// Operator().SchedulerGetConfiguration and SchedulerSetConfiguration.

import (
	"net/http"
	"strconv"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// maxSchedulerConfigBody bounds a scheduler configuration body.
const maxSchedulerConfigBody = 64 << 10

// schedulerConfigResponse is Nomad's GET body: the configuration and the
// query metadata fields its server puts beside it.
type schedulerConfigResponse struct {
	SchedulerConfig *nomadapi.SchedulerConfiguration
	Index           uint64
	LastContact     int64
	KnownLeader     bool
	NextToken       string
}

// schedulerSetConfigResponse is Nomad's PUT body.
type schedulerSetConfigResponse struct {
	Updated bool
	Index   uint64
}

// schedulerConfigRoutes registers the scheduler configuration endpoint.
func (h *HTTPServer) schedulerConfigRoutes() {
	h.handle("GET /v1/operator/scheduler/configuration", h.schedulerConfigGet)
	h.handle("PUT /v1/operator/scheduler/configuration", h.schedulerConfigSet)
	h.handle("POST /v1/operator/scheduler/configuration", h.schedulerConfigSet)
}

func (h *HTTPServer) schedulerConfigGet(w http.ResponseWriter, r *http.Request) (any, error) {
	out := &schedulerConfigResponse{}
	err := h.blockingRead(w, r, func(q *queryOptions, snap *state.Snapshot) (uint64, error) {
		cfg, err := snap.SchedulerConfig()
		if err != nil {
			return 0, err
		}
		out.SchedulerConfig = schedulerConfigToAPI(cfg)
		return snap.Index(state.TableSchedulerConfig)
	})
	if err != nil {
		return nil, err
	}
	out.Index, _ = strconv.ParseUint(w.Header().Get("X-Nomad-Index"), 10, 64)
	out.KnownLeader = h.srv.Leader() != ""
	out.LastContact = h.srv.LastContact().Milliseconds()
	return out, nil
}

func (h *HTTPServer) schedulerConfigSet(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := h.needServer(); err != nil {
		return nil, err
	}
	var in nomadapi.SchedulerConfiguration
	if err := decodeBody(r, maxSchedulerConfigBody, &in); err != nil {
		return nil, err
	}
	cfg := schedulerConfigFromAPI(&in)
	cas := false
	if v := r.URL.Query().Get("cas"); v != "" {
		idx, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid cas index %q: %v", v, err)
		}
		cas, cfg.ModifyIndex = true, idx
	}
	cfg.Canonicalize()
	if err := cfg.Validate(); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid scheduler configuration: %v", err)
	}
	reply, err := h.srv.SetSchedulerConfig(cfg, cas)
	if err != nil {
		return nil, err
	}
	setIndex(w, reply.Index)
	return &schedulerSetConfigResponse{Updated: reply.Updated, Index: reply.Index}, nil
}

func schedulerConfigToAPI(c *structs.SchedulerConfiguration) *nomadapi.SchedulerConfiguration {
	return &nomadapi.SchedulerConfiguration{
		SchedulerAlgorithm: nomadapi.SchedulerAlgorithm(c.SchedulerAlgorithm),
		PreemptionConfig: nomadapi.PreemptionConfig{
			SystemSchedulerEnabled:   c.PreemptionConfig.SystemSchedulerEnabled,
			SysBatchSchedulerEnabled: c.PreemptionConfig.SysBatchSchedulerEnabled,
			BatchSchedulerEnabled:    c.PreemptionConfig.BatchSchedulerEnabled,
			ServiceSchedulerEnabled:  c.PreemptionConfig.ServiceSchedulerEnabled,
		},
		MemoryOversubscriptionEnabled: c.MemoryOversubscriptionEnabled,
		RejectJobRegistration:         c.RejectJobRegistration,
		PauseEvalBroker:               c.PauseEvalBroker,
		CreateIndex:                   c.CreateIndex,
		ModifyIndex:                   c.ModifyIndex,
	}
}

func schedulerConfigFromAPI(c *nomadapi.SchedulerConfiguration) *structs.SchedulerConfiguration {
	return &structs.SchedulerConfiguration{
		SchedulerAlgorithm: string(c.SchedulerAlgorithm),
		PreemptionConfig: structs.PreemptionConfig{
			SystemSchedulerEnabled:   c.PreemptionConfig.SystemSchedulerEnabled,
			SysBatchSchedulerEnabled: c.PreemptionConfig.SysBatchSchedulerEnabled,
			BatchSchedulerEnabled:    c.PreemptionConfig.BatchSchedulerEnabled,
			ServiceSchedulerEnabled:  c.PreemptionConfig.ServiceSchedulerEnabled,
		},
		MemoryOversubscriptionEnabled: c.MemoryOversubscriptionEnabled,
		RejectJobRegistration:         c.RejectJobRegistration,
		PauseEvalBroker:               c.PauseEvalBroker,
		ModifyIndex:                   c.ModifyIndex,
	}
}
