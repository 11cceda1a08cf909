// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import "time"

// Lifecycle hooks of a task's `lifecycle` block.
const (
	TaskLifecycleHookPrestart  = "prestart"
	TaskLifecycleHookPoststart = "poststart"
	TaskLifecycleHookPoststop  = "poststop"
)

// TaskLifecycle is a task's `lifecycle` block: the task runs around the main
// tasks instead of alongside them.
type TaskLifecycle struct {
	Hook    string
	Sidecar bool
}

// Artifact getter modes.
const (
	GetterModeAny  = "any"
	GetterModeFile = "file"
	GetterModeDir  = "dir"
)

// TaskArtifact is an `artifact` block: something fetched into the task
// directory before the task starts.
type TaskArtifact struct {
	GetterSource   string
	GetterOptions  map[string]string
	GetterHeaders  map[string]string
	GetterMode     string
	GetterInsecure bool
	RelativeDest   string
	Chown          bool
}

// Template change modes, also used by the vault and identity blocks.
const (
	TemplateChangeModeNoop    = "noop"
	TemplateChangeModeSignal  = "signal"
	TemplateChangeModeRestart = "restart"
	TemplateChangeModeScript  = "script"
)

// Template is a `template` block: a file (or environment) rendered from
// Consul, Vault and Nomad data, re-rendered on change.
type Template struct {
	SourcePath    string
	DestPath      string
	EmbeddedTmpl  string
	ChangeMode    string
	ChangeScript  *ChangeScript
	ChangeSignal  string
	Once          bool
	Splay         time.Duration
	Perms         string
	Uid           *int
	Gid           *int
	LeftDelim     string
	RightDelim    string
	Envvars       bool
	VaultGrace    time.Duration
	Wait          *WaitConfig
	ErrMissingKey bool
}

// ChangeScript is a template's `change_script` block.
type ChangeScript struct {
	Command          string
	Args             []string
	Timeout          time.Duration
	FailOnError      bool
	RunOnFirstRender bool
}

// WaitConfig is a template's `wait` block: quiescence bounds before a
// re-render.
type WaitConfig struct {
	Min *time.Duration
	Max *time.Duration
}

// Vault is a task's `vault` block: the task gets a Vault token.
type Vault struct {
	Policies             []string
	Role                 string
	Namespace            string
	Cluster              string
	Env                  bool
	DisableFile          bool
	ChangeMode           string
	ChangeSignal         string
	AllowTokenExpiration bool
}

// Secret is a task `secret` block: a secret fetched by a provider and
// exposed to the task.
type Secret struct {
	Name     string
	Provider string
	Path     string
	Config   map[string]any
	Env      map[string]string
}

// DispatchPayloadConfig is a task's `dispatch_payload` block: where the
// dispatched payload is written, relative to the task's local directory.
type DispatchPayloadConfig struct {
	File string
}

// WorkloadIdentityDefaultName is the name of the identity every task gets.
const WorkloadIdentityDefaultName = "default"

// WorkloadIdentity is an `identity` block: a signed JWT the task (or a
// service) receives to authenticate to Nomad, Consul or Vault.
type WorkloadIdentity struct {
	Name         string
	Audience     []string
	ChangeMode   string
	ChangeSignal string
	Env          bool
	File         bool
	Filepath     string
	ServiceName  string
	TTL          time.Duration
	ExtraClaims  []string
}

// Action is a task `action` block: a named command users may run in the
// task with `job action`.
type Action struct {
	Name    string
	Command string
	Args    []string
}
