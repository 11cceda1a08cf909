// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"time"

	"github.com/droverhq/drover/api"
)

// This file holds the blocks that put files into a task's directory:
// template and artifact.

var templateSpec = &spec[api.Template]{
	what: "template",
	attrs: map[string]attrFn[api.Template]{
		"source":               strPtrAttr(func(t *api.Template) **string { return &t.SourcePath }),
		"destination":          strPtrAttr(func(t *api.Template) **string { return &t.DestPath }),
		"data":                 strPtrAttr(func(t *api.Template) **string { return &t.EmbeddedTmpl }),
		"change_mode":          oneOfPtrAttr(func(t *api.Template) **string { return &t.ChangeMode }, "noop", "restart", "signal", "script"),
		"change_signal":        strPtrAttr(func(t *api.Template) **string { return &t.ChangeSignal }),
		"once":                 boolPtrAttr(func(t *api.Template) **bool { return &t.Once }),
		"splay":                durationPtrAttr(func(t *api.Template) **time.Duration { return &t.Splay }),
		"perms":                strPtrAttr(func(t *api.Template) **string { return &t.Perms }),
		"uid":                  intPtrAttr(func(t *api.Template) **int { return &t.Uid }),
		"gid":                  intPtrAttr(func(t *api.Template) **int { return &t.Gid }),
		"left_delimiter":       strPtrAttr(func(t *api.Template) **string { return &t.LeftDelim }),
		"right_delimiter":      strPtrAttr(func(t *api.Template) **string { return &t.RightDelim }),
		"env":                  boolPtrAttr(func(t *api.Template) **bool { return &t.Envvars }),
		"vault_grace":          durationPtrAttr(func(t *api.Template) **time.Duration { return &t.VaultGrace }),
		"error_on_missing_key": boolPtrAttr(func(t *api.Template) **bool { return &t.ErrMissingKey }),
	},
	blocks: map[string]blockRule[api.Template]{
		"change_script": singleBlock(func(t *api.Template) **api.ChangeScript { return &t.ChangeScript }, changeScriptSpec),
		"wait":          singleBlock(func(t *api.Template) **api.WaitConfig { return &t.Wait }, waitSpec),
	},
}

var changeScriptSpec = &spec[api.ChangeScript]{
	what: "change_script",
	attrs: map[string]attrFn[api.ChangeScript]{
		"command":             strPtrAttr(func(c *api.ChangeScript) **string { return &c.Command }),
		"args":                stringListAttr(func(c *api.ChangeScript) *[]string { return &c.Args }),
		"timeout":             durationPtrAttr(func(c *api.ChangeScript) **time.Duration { return &c.Timeout }),
		"fail_on_error":       boolPtrAttr(func(c *api.ChangeScript) **bool { return &c.FailOnError }),
		"run_on_first_render": boolPtrAttr(func(c *api.ChangeScript) **bool { return &c.RunOnFirstRender }),
	},
	required: []string{"command"},
}

var waitSpec = &spec[api.WaitConfig]{
	what: "wait",
	attrs: map[string]attrFn[api.WaitConfig]{
		"min": durationPtrAttr(func(w *api.WaitConfig) **time.Duration { return &w.Min }),
		"max": durationPtrAttr(func(w *api.WaitConfig) **time.Duration { return &w.Max }),
	},
}

var artifactSpec = &spec[api.TaskArtifact]{
	what: "artifact",
	attrs: map[string]attrFn[api.TaskArtifact]{
		"source":      strPtrAttr(func(a *api.TaskArtifact) **string { return &a.GetterSource }),
		"destination": strPtrAttr(func(a *api.TaskArtifact) **string { return &a.RelativeDest }),
		"mode":        oneOfPtrAttr(func(a *api.TaskArtifact) **string { return &a.GetterMode }, "any", "file", "dir"),
		"insecure":    boolPtrAttr(func(a *api.TaskArtifact) **bool { return &a.GetterInsecure }),
		"chown":       boolAttr(func(a *api.TaskArtifact) *bool { return &a.Chown }),
		"options":     mapAttr(func(a *api.TaskArtifact) *map[string]string { return &a.GetterOptions }),
		"headers":     mapAttr(func(a *api.TaskArtifact) *map[string]string { return &a.GetterHeaders }),
	},
	blocks: map[string]blockRule[api.TaskArtifact]{
		"options": mapBlock(func(a *api.TaskArtifact) *map[string]string { return &a.GetterOptions }),
		"headers": mapBlock(func(a *api.TaskArtifact) *map[string]string { return &a.GetterHeaders }),
	},
}
