// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package state

// The scheduler configuration: one row, absent until an operator (or the
// agent's default_scheduler_config) writes it. Readers always get a value:
// the stored one, or structs.DefaultSchedulerConfiguration with zero
// indexes, so a compare-and-set against index 0 means "only if never set".

import (
	"errors"
	"fmt"

	"github.com/droverhq/drover/structs"
)

const tableSchedConfig = "scheduler_config"

// TableSchedulerConfig is the scheduler configuration table's name for
// Index.
const TableSchedulerConfig = tableSchedConfig

// ErrSchedulerConfigCAS is returned by SetSchedulerConfig when a
// compare-and-set finds the configuration changed since it was read.
var ErrSchedulerConfigCAS = errors.New("scheduler configuration was modified since it was read")

// SchedulerConfig returns the scheduler configuration in force.
func (s *Snapshot) SchedulerConfig() (*structs.SchedulerConfiguration, error) {
	cfg, err := s.storedSchedulerConfig()
	if err != nil || cfg != nil {
		return cfg, err
	}
	return structs.DefaultSchedulerConfiguration(), nil
}

// storedSchedulerConfig returns the written configuration or nil.
func (s *Snapshot) storedSchedulerConfig() (*structs.SchedulerConfiguration, error) {
	obj, err := s.first(tableSchedConfig, "id")
	if err != nil || obj == nil {
		return nil, err
	}
	return obj.(*structs.SchedulerConfiguration), nil
}

// SetSchedulerConfig stores a scheduler configuration. With req.CAS it
// returns ErrSchedulerConfigCAS, changing nothing, unless the stored
// configuration's ModifyIndex is req.Config.ModifyIndex (0 when none is
// stored).
func (s *StateStore) SetSchedulerConfig(index uint64, req *structs.SchedulerSetConfigRequest) error {
	return s.write(index, func(txn *writeTxn) ([]string, error) {
		cfg := req.Config.Copy()
		cfg.Canonicalize()
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		existing, err := txn.First(tableSchedConfig, "id")
		if err != nil {
			return nil, fmt.Errorf("read scheduler configuration: %w", err)
		}
		var current uint64
		cfg.CreateIndex = index
		if existing != nil {
			old := existing.(*structs.SchedulerConfiguration)
			current, cfg.CreateIndex = old.ModifyIndex, old.CreateIndex
		}
		if req.CAS && current != req.Config.ModifyIndex {
			return nil, fmt.Errorf("%w (index %d, not %d)", ErrSchedulerConfigCAS, current, req.Config.ModifyIndex)
		}
		cfg.ModifyIndex = index
		if existing != nil {
			if err := txn.Delete(tableSchedConfig, existing); err != nil {
				return nil, fmt.Errorf("replace scheduler configuration: %w", err)
			}
		}
		if err := txn.Insert(tableSchedConfig, cfg); err != nil {
			return nil, fmt.Errorf("store scheduler configuration: %w", err)
		}
		return []string{tableSchedConfig}, nil
	})
}

// dumpOperatorTables copies out the written node pools and scheduler
// configuration for a raft snapshot.
func (s *Snapshot) dumpOperatorTables() ([]*structs.NodePool, *structs.SchedulerConfiguration, error) {
	it, err := s.get(tableNodePools, "id")
	if err != nil {
		return nil, nil, err
	}
	var pools []*structs.NodePool
	for obj := it.Next(); obj != nil; obj = it.Next() {
		pools = append(pools, obj.(*structs.NodePool))
	}
	cfg, err := s.storedSchedulerConfig()
	if err != nil {
		return nil, nil, err
	}
	return pools, cfg, nil
}

// restoreOperatorTables inserts the node pools and scheduler
// configuration of a snapshot being restored.
func restoreOperatorTables(txn *writeTxn, d *Dump) error {
	for _, p := range d.NodePools {
		if err := txn.Insert(tableNodePools, p); err != nil {
			return fmt.Errorf("restore node pool %q: %w", p.Name, err)
		}
	}
	if d.SchedulerConfig != nil {
		if err := txn.Insert(tableSchedConfig, d.SchedulerConfig); err != nil {
			return fmt.Errorf("restore scheduler configuration: %w", err)
		}
	}
	return nil
}
