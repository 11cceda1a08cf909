// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

// The scheduler configuration's write path: OperatorEndpoint's
// SchedulerSetConfiguration (plain or compare-and-set) and the one-time
// write of the agent's default_scheduler_config. Reads come from state
// (state.Snapshot.SchedulerConfig), which every scheduler worker uses.

import (
	"errors"
	"fmt"

	"github.com/droverhq/drover/server/state"
	"github.com/droverhq/drover/structs"
)

// SchedulerSetConfigReply says whether a set took effect (a
// compare-and-set may not) and at which index.
type SchedulerSetConfigReply struct {
	Updated bool
	Index   uint64
}

// SchedulerSetConfiguration replaces the scheduler configuration. With
// args.CAS it applies only when the stored configuration's ModifyIndex is
// args.Config.ModifyIndex; otherwise it answers Updated false, no error.
func (o *OperatorEndpoint) SchedulerSetConfiguration(args *structs.SchedulerSetConfigRequest, reply *SchedulerSetConfigReply) error {
	if done, err := o.srv.forward("Operator.SchedulerSetConfiguration", args, reply); done {
		return err
	}
	cfg := args.Config.Copy()
	cfg.Canonicalize()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid scheduler configuration: %w", err)
	}
	index, err := o.srv.raftApply(structs.SchedulerConfigRequestType, &structs.SchedulerSetConfigRequest{Config: *cfg, CAS: args.CAS})
	switch {
	case errors.Is(err, state.ErrSchedulerConfigCAS):
		reply.Updated = false
		reply.Index = o.srv.state.LatestIndex()
		return nil
	case err != nil:
		return fmt.Errorf("set scheduler configuration: %w", err)
	}
	reply.Updated, reply.Index = true, index
	o.srv.logger.Info("scheduler configuration changed", "algorithm", cfg.SchedulerAlgorithm,
		"memory_oversubscription", cfg.MemoryOversubscriptionEnabled, "reject_job_registration", cfg.RejectJobRegistration, "index", index)
	if !cfg.RejectJobRegistration {
		// A new algorithm or oversubscription may place what was blocked.
		o.srv.blocked.Unblock()
	}
	return nil
}

// SetSchedulerConfig sets the scheduler configuration through the leader
// (compare-and-set with cas) and waits until this server's state has it.
func (s *Server) SetSchedulerConfig(cfg *structs.SchedulerConfiguration, cas bool) (*SchedulerSetConfigReply, error) {
	var reply SchedulerSetConfigReply
	if err := (&OperatorEndpoint{srv: s}).SchedulerSetConfiguration(&structs.SchedulerSetConfigRequest{Config: *cfg, CAS: cas}, &reply); err != nil {
		return nil, err
	}
	if reply.Updated {
		if err := s.waitTable(reply.Index, state.TableSchedulerConfig); err != nil {
			return nil, err
		}
	}
	return &reply, nil
}

// BootstrapSchedulerConfig stores cfg (the agent's
// default_scheduler_config) unless a configuration was ever stored: as in
// Nomad, the file sets the initial value only, and later changes through
// the API win over it across restarts. It reports whether cfg was stored.
func (s *Server) BootstrapSchedulerConfig(cfg *structs.SchedulerConfiguration) (bool, error) {
	c := cfg.Copy()
	c.ModifyIndex = 0 // compare-and-set against "never stored"
	reply, err := s.SetSchedulerConfig(c, true)
	if err != nil {
		return false, fmt.Errorf("bootstrap scheduler configuration: %w", err)
	}
	return reply.Updated, nil
}
