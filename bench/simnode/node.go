// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package simnode

import (
	"fmt"
	"time"

	"github.com/droverhq/drover/structs"
)

// NodeShape is what every simulated node offers the scheduler: big enough
// that 200 small allocations fit on each (1,000,000 over 5,000 nodes).
var NodeShape = structs.NodeResources{
	Cpu:    structs.NodeCpuResources{CpuShares: 32 * 2000, TotalCpuCores: 32},
	Memory: structs.NodeMemoryResources{MemoryMB: 256 * 1024},
	Disk:   structs.NodeDiskResources{DiskMB: 1024 * 1024},
}

// Driver is the one task driver every simulated node advertises as
// detected and healthy; jobs of the benchmark use it.
const Driver = "raw_exec"

// NewNode builds simulated node number i of a cluster: a deterministic ID
// (so runs are comparable), rack meta for spread and constraints, and the
// attributes a real Linux client fingerprints that jobs commonly constrain
// on.
func NewNode(i int, datacenter string, racks int) *structs.Node {
	if racks <= 0 {
		racks = 1
	}
	res := NodeShape
	return &structs.Node{
		ID:         nodeUUID(i, 0x5a),
		SecretID:   nodeUUID(i, 0xa5),
		Name:       fmt.Sprintf("sim-%05d", i),
		Datacenter: datacenter,
		NodeClass:  "sim",
		NodePool:   structs.DefaultNodePool,
		Attributes: map[string]string{
			"kernel.name":            "linux",
			"cpu.arch":               "amd64",
			"os.name":                "debian",
			"unique.hostname":        fmt.Sprintf("sim-%05d", i),
			"driver." + Driver:       "1",
			"nomad.version":          "1.10.0",
			"cpu.numcores":           fmt.Sprint(res.Cpu.TotalCpuCores),
			"memory.totalbytes":      fmt.Sprint(res.Memory.MemoryMB << 20),
			"unique.storage.volume":  "/dev/sim",
			"unique.network.ip-addr": fmt.Sprintf("127.%d.%d.%d", 1+i>>16&0xff, i>>8&0xff, i&0xff),
		},
		Meta:                  map[string]string{"rack": fmt.Sprintf("r%d", i%racks)},
		NodeResources:         &res,
		ReservedResources:     &structs.NodeReservedResources{},
		SchedulingEligibility: structs.NodeSchedulingEligible,
		Status:                structs.NodeStatusReady,
		StatusUpdatedAt:       time.Now().Unix(),
		Drivers: map[string]*structs.DriverInfo{
			Driver: {Detected: true, Healthy: true, HealthDescription: "Healthy", UpdateTime: time.Now()},
		},
	}
}

// nodeUUID is a UUID-shaped ID derived from i and a salt, spread over the
// ID space like random UUIDs are (the scheduler sees ID order).
func nodeUUID(i int, salt uint64) string {
	h := uint64(i+1)*0x9e3779b97f4a7c15 ^ salt*0xbf58476d1ce4e5b9
	h ^= h >> 31
	l := h*0x94d049bb133111eb ^ uint64(i)
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", h>>32, h>>16&0xffff, h&0xfff, l>>48&0xfff, l&0xffffffffffff)
}
