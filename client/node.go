// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package client

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/droverhq/drover/client/fingerprint"
	"github.com/droverhq/drover/structs"
)

// buildNode fingerprints the host and drivers into the node the client
// registers.
func buildNode(ctx context.Context, cfg *Config) (*structs.Node, error) {
	id, secret, err := fingerprint.NodeIdentity(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("node identity: %w", err)
	}
	host, err := fingerprint.FingerprintHost(fingerprint.Options{
		DataDir:          cfg.DataDir,
		NetworkInterface: cfg.NetworkInterface,
		HostNetworks:     cfg.HostNetworks,
		MinDynamicPort:   cfg.MinDynamicPort,
		MaxDynamicPort:   cfg.MaxDynamicPort,
		DevMode:          cfg.DevMode,
		Version:          cfg.Version,
	})
	if err != nil {
		return nil, fmt.Errorf("fingerprint host: %w", err)
	}
	name := cfg.NodeName
	if name == "" {
		name = host.Attributes["unique.hostname"]
	}
	node := &structs.Node{
		ID:                    id,
		SecretID:              secret,
		Name:                  name,
		Datacenter:            cfg.Datacenter,
		NodeClass:             cfg.NodeClass,
		NodePool:              cfg.NodePool,
		HTTPAddr:              cfg.HTTPAddr,
		Meta:                  maps.Clone(cfg.Meta),
		Attributes:            host.Attributes,
		NodeResources:         host.Resources,
		SchedulingEligibility: structs.NodeSchedulingEligible,
		Status:                structs.NodeStatusInit,
		ReservedResources: &structs.NodeReservedResources{
			Cpu:      structs.NodeReservedCpuResources{CpuShares: uint64(cfg.Reserved.CPU)},
			Memory:   structs.NodeReservedMemoryResources{MemoryMB: uint64(cfg.Reserved.MemoryMB)},
			Disk:     structs.NodeReservedDiskResources{DiskMB: uint64(cfg.Reserved.DiskMB)},
			Networks: structs.NodeReservedNetworkResources{ReservedHostPorts: cfg.Reserved.Ports},
		},
	}
	if node.Meta == nil {
		node.Meta = map[string]string{}
	}
	if err := applyCoreConfig(node, cfg); err != nil {
		return nil, err
	}
	infos, attrs := fingerprint.Drivers(ctx, cfg.Drivers)
	node.Drivers = infos
	maps.Copy(node.Attributes, attrs)
	return node, nil
}

// allocRoot is where allocation directories live.
func allocRoot(dataDir string) string { return filepath.Join(dataDir, "alloc") }

// fingerprintLoop re-fingerprints the drivers periodically; when their
// health or attributes changed, it updates the node and asks for a
// re-registration so the scheduler sees the change.
func (c *Client) fingerprintLoop(ctx context.Context) {
	ticker := time.NewTicker(c.cfg.DriverFingerprintInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		infos, attrs := fingerprint.Drivers(ctx, c.cfg.Drivers)
		c.mu.Lock()
		changed := !fingerprint.DriversEqual(c.node.Drivers, infos)
		if changed {
			n := c.node.Copy()
			n.Drivers = infos
			for k := range n.Attributes {
				if isDriverAttr(k, c.node.Drivers) {
					delete(n.Attributes, k)
				}
			}
			maps.Copy(n.Attributes, attrs)
			c.node = n
		}
		c.mu.Unlock()
		if changed {
			c.logger.Info("driver fingerprint changed, re-registering")
			c.requestRegister()
		}
	}
}

// isDriverAttr reports whether attribute k came from a driver fingerprint.
func isDriverAttr(k string, drivers map[string]*structs.DriverInfo) bool {
	for name, d := range drivers {
		if k == "driver."+name {
			return true
		}
		if _, ok := d.Attributes[k]; ok {
			return true
		}
	}
	return false
}

// applyCoreConfig narrows the node's reservable cores to reservable_cores
// and keeps the reserved { cores } for the host: they are never given to
// a task, and their MHz are reserved, as in Nomad.
func applyCoreConfig(node *structs.Node, cfg *Config) error {
	reserved, err := structs.ParseCPUList(cfg.Reserved.Cores)
	if err != nil {
		return fmt.Errorf("reserved cores: %w", err)
	}
	reservable, err := structs.ParseCPUList(cfg.ReservableCores)
	if err != nil {
		return fmt.Errorf("reservable_cores: %w", err)
	}
	if node.NodeResources == nil {
		return nil
	}
	cpu := &node.NodeResources.Cpu
	if len(reservable) > 0 {
		cpu.ReservableCpuCores = slices.DeleteFunc(cpu.ReservableCpuCores, func(c uint16) bool {
			return !slices.Contains(reservable, c)
		})
	}
	var kept []uint16
	for _, c := range reserved {
		if slices.Contains(cpu.ReservableCpuCores, c) {
			kept = append(kept, c)
		}
	}
	node.ReservedResources.Cpu.ReservedCpuCores = kept
	node.ReservedResources.Cpu.CpuShares += uint64(int64(len(kept)) * node.MHzPerCore())
	return nil
}
