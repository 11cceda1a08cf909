// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package api

import nomad "github.com/hashicorp/nomad/api"

// Job specification types, as the job file parser produces them and
// PUT /v1/jobs accepts them.
type (
	Job                   = nomad.Job
	JobSummary            = nomad.JobSummary
	JobListStub           = nomad.JobListStub
	JobRegisterRequest    = nomad.JobRegisterRequest
	JobsParseRequest      = nomad.JobsParseRequest
	JobValidateRequest    = nomad.JobValidateRequest
	JobValidateResponse   = nomad.JobValidateResponse
	JobRegisterResponse   = nomad.JobRegisterResponse
	JobDeregisterResponse = nomad.JobDeregisterResponse
	TaskGroupSummary      = nomad.TaskGroupSummary
	DeregisterOptions     = nomad.DeregisterOptions
	Service               = nomad.Service
	Template              = nomad.Template
	UpdateStrategy        = nomad.UpdateStrategy
	PeriodicConfig        = nomad.PeriodicConfig
	Affinity              = nomad.Affinity
	Spread                = nomad.Spread
	MigrateStrategy       = nomad.MigrateStrategy
	RequestedDevice       = nomad.RequestedDevice
	TaskGroup             = nomad.TaskGroup
	Task                  = nomad.Task
	Resources             = nomad.Resources
	Constraint            = nomad.Constraint
	RestartPolicy         = nomad.RestartPolicy
	ReschedulePolicy      = nomad.ReschedulePolicy
	EphemeralDisk         = nomad.EphemeralDisk
	LogConfig             = nomad.LogConfig
	NetworkResource       = nomad.NetworkResource
	Port                  = nomad.Port
)

// Runtime objects the API returns.
type (
	Allocation         = nomad.Allocation
	AllocationListStub = nomad.AllocationListStub
	AllocationMetric   = nomad.AllocationMetric
	TaskState          = nomad.TaskState
	TaskEvent          = nomad.TaskEvent
	Evaluation         = nomad.Evaluation
	Node               = nomad.Node
	NodeListStub       = nomad.NodeListStub
	NodeEvent          = nomad.NodeEvent
	AgentSelf          = nomad.AgentSelf
	PortMapping        = nomad.PortMapping
	AllocatedResources = nomad.AllocatedResources
	StreamFrame        = nomad.StreamFrame
)

// Job types, as in a job's Type field.
const (
	JobTypeService  = nomad.JobTypeService
	JobTypeBatch    = nomad.JobTypeBatch
	JobTypeSystem   = nomad.JobTypeSystem
	JobTypeSysbatch = nomad.JobTypeSysbatch
)

// Ptr returns a pointer to v, for the pointer fields of the wire types.
func Ptr[T any](v T) *T { return &v }
