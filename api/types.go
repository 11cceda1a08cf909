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

// More of the job specification's types, for the job file parser.
type (
	Action                       = nomad.Action
	ChangeScript                 = nomad.ChangeScript
	CheckRestart                 = nomad.CheckRestart
	Consul                       = nomad.Consul
	ConsulConnect                = nomad.ConsulConnect
	ConsulExposeConfig           = nomad.ConsulExposeConfig
	ConsulExposePath             = nomad.ConsulExposePath
	ConsulGateway                = nomad.ConsulGateway
	ConsulGatewayBindAddress     = nomad.ConsulGatewayBindAddress
	ConsulGatewayProxy           = nomad.ConsulGatewayProxy
	ConsulGatewayTLSConfig       = nomad.ConsulGatewayTLSConfig
	ConsulIngressConfigEntry     = nomad.ConsulIngressConfigEntry
	ConsulIngressListener        = nomad.ConsulIngressListener
	ConsulIngressService         = nomad.ConsulIngressService
	ConsulLinkedService          = nomad.ConsulLinkedService
	ConsulMeshConfigEntry        = nomad.ConsulMeshConfigEntry
	ConsulMeshGateway            = nomad.ConsulMeshGateway
	ConsulProxy                  = nomad.ConsulProxy
	ConsulSidecarService         = nomad.ConsulSidecarService
	ConsulTerminatingConfigEntry = nomad.ConsulTerminatingConfigEntry
	ConsulTransparentProxy       = nomad.ConsulTransparentProxy
	ConsulUpstream               = nomad.ConsulUpstream
	CSIMountOptions              = nomad.CSIMountOptions
	DNSConfig                    = nomad.DNSConfig
	DisconnectStrategy           = nomad.DisconnectStrategy
	DispatchPayloadConfig        = nomad.DispatchPayloadConfig
	JobUIConfig                  = nomad.JobUIConfig
	JobUILink                    = nomad.JobUILink
	Multiregion                  = nomad.Multiregion
	MultiregionRegion            = nomad.MultiregionRegion
	MultiregionStrategy          = nomad.MultiregionStrategy
	NUMAResource                 = nomad.NUMAResource
	ParameterizedJobConfig       = nomad.ParameterizedJobConfig
	ScalingPolicy                = nomad.ScalingPolicy
	ServiceCheck                 = nomad.ServiceCheck
	SidecarTask                  = nomad.SidecarTask
	SpreadTarget                 = nomad.SpreadTarget
	TaskArtifact                 = nomad.TaskArtifact
	TaskCSIPluginConfig          = nomad.TaskCSIPluginConfig
	TaskLifecycle                = nomad.TaskLifecycle
	Vault                        = nomad.Vault
	VolumeMount                  = nomad.VolumeMount
	VolumeRequest                = nomad.VolumeRequest
	WaitConfig                   = nomad.WaitConfig
	WorkloadIdentity             = nomad.WorkloadIdentity
)

// Remaining job specification types and constants used by the job parser.
type (
	CNIConfig                 = nomad.CNIConfig
	CSIPluginType             = nomad.CSIPluginType
	ConsulGatewayTLSSDSConfig = nomad.ConsulGatewayTLSSDSConfig
	ConsulHTTPHeaderModifiers = nomad.ConsulHTTPHeaderModifiers
	Secret                    = nomad.Secret
	ServiceWeights            = nomad.ServiceWeights
	TaskSchedule              = nomad.TaskSchedule
	TaskScheduleCron          = nomad.TaskScheduleCron
)

// Volume mount propagation modes.
const (
	VolumeMountPropagationBidirectional = nomad.VolumeMountPropagationBidirectional
	VolumeMountPropagationHostToTask    = nomad.VolumeMountPropagationHostToTask
	VolumeMountPropagationPrivate       = nomad.VolumeMountPropagationPrivate
)

// Cluster membership and raft operator types.
type (
	ServerMembers     = nomad.ServerMembers
	AgentMember       = nomad.AgentMember
	RaftConfiguration = nomad.RaftConfiguration
	RaftServer        = nomad.RaftServer
)

// Node drain and eligibility.
type (
	DrainSpec                     = nomad.DrainSpec
	DrainOptions                  = nomad.DrainOptions
	NodeUpdateDrainRequest        = nomad.NodeUpdateDrainRequest
	NodeDrainUpdateResponse       = nomad.NodeDrainUpdateResponse
	NodeUpdateEligibilityRequest  = nomad.NodeUpdateEligibilityRequest
	NodeEligibilityUpdateResponse = nomad.NodeEligibilityUpdateResponse
)

// Drain monitor message levels.
const (
	MonitorMsgLevelNormal = nomad.MonitorMsgLevelNormal
	MonitorMsgLevelInfo   = nomad.MonitorMsgLevelInfo
	MonitorMsgLevelWarn   = nomad.MonitorMsgLevelWarn
	MonitorMsgLevelError  = nomad.MonitorMsgLevelError
)

// Parameterized job dispatch.
type (
	JobDispatchRequest  = nomad.JobDispatchRequest
	JobDispatchResponse = nomad.JobDispatchResponse
	DispatchOptions     = nomad.DispatchOptions
)

// Dry runs (`job plan`) and registration with a modify-index check.
type (
	JobPlanRequest  = nomad.JobPlanRequest
	JobPlanResponse = nomad.JobPlanResponse
	PlanOptions     = nomad.PlanOptions
	RegisterOptions = nomad.RegisterOptions
	JobDiff         = nomad.JobDiff
	TaskGroupDiff   = nomad.TaskGroupDiff
	TaskDiff        = nomad.TaskDiff
	FieldDiff       = nomad.FieldDiff
	ObjectDiff      = nomad.ObjectDiff
	PlanAnnotations = nomad.PlanAnnotations
	DesiredUpdates  = nomad.DesiredUpdates
)

// Operations on a running allocation: exec, files, statistics.
type (
	TerminalSize        = nomad.TerminalSize
	AllocFileInfo       = nomad.AllocFileInfo
	ExecStreamingInput  = nomad.ExecStreamingInput
	ExecStreamingOutput = nomad.ExecStreamingOutput
	AllocResourceUsage  = nomad.AllocResourceUsage
	TaskResourceUsage   = nomad.TaskResourceUsage
	ResourceUsage       = nomad.ResourceUsage
	CpuStats            = nomad.CpuStats
	MemoryStats         = nomad.MemoryStats
	HostStats           = nomad.HostStats
	HostCPUStats        = nomad.HostCPUStats
	HostMemoryStats     = nomad.HostMemoryStats
	HostDiskStats       = nomad.HostDiskStats
)

// Node pools and the scheduler's configuration.
type (
	NodePool                          = nomad.NodePool
	NodePoolSchedulerConfiguration    = nomad.NodePoolSchedulerConfiguration
	SchedulerConfiguration            = nomad.SchedulerConfiguration
	SchedulerConfigurationResponse    = nomad.SchedulerConfigurationResponse
	SchedulerSetConfigurationResponse = nomad.SchedulerSetConfigurationResponse
	PreemptionConfig                  = nomad.PreemptionConfig
	SchedulerAlgorithm                = nomad.SchedulerAlgorithm
)

// Scheduler algorithms.
const (
	SchedulerAlgorithmBinpack = nomad.SchedulerAlgorithmBinpack
	SchedulerAlgorithmSpread  = nomad.SchedulerAlgorithmSpread
)
