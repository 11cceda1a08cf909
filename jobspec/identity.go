// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"time"

	"github.com/droverhq/drover/api"
)

// This file holds the blocks that give a task credentials: vault,
// identity (workload identities) and secret.

var vaultSpec = &spec[api.Vault]{
	what: "vault",
	attrs: map[string]attrFn[api.Vault]{
		"policies":               stringListAttr(func(v *api.Vault) *[]string { return &v.Policies }),
		"role":                   strAttr(func(v *api.Vault) *string { return &v.Role }),
		"namespace":              strPtrAttr(func(v *api.Vault) **string { return &v.Namespace }),
		"cluster":                strAttr(func(v *api.Vault) *string { return &v.Cluster }),
		"env":                    boolPtrAttr(func(v *api.Vault) **bool { return &v.Env }),
		"disable_file":           boolPtrAttr(func(v *api.Vault) **bool { return &v.DisableFile }),
		"change_mode":            oneOfPtrAttr(func(v *api.Vault) **string { return &v.ChangeMode }, "noop", "restart", "signal"),
		"change_signal":          strPtrAttr(func(v *api.Vault) **string { return &v.ChangeSignal }),
		"allow_token_expiration": boolPtrAttr(func(v *api.Vault) **bool { return &v.AllowTokenExpiration }),
	},
}

var identitySpec = &spec[api.WorkloadIdentity]{
	what: "identity",
	attrs: map[string]attrFn[api.WorkloadIdentity]{
		"name":          strAttr(func(w *api.WorkloadIdentity) *string { return &w.Name }),
		"aud":           stringListAttr(func(w *api.WorkloadIdentity) *[]string { return &w.Audience }),
		"change_mode":   oneOfAttr(func(w *api.WorkloadIdentity) *string { return &w.ChangeMode }, "noop", "restart", "signal"),
		"change_signal": strAttr(func(w *api.WorkloadIdentity) *string { return &w.ChangeSignal }),
		"env":           boolAttr(func(w *api.WorkloadIdentity) *bool { return &w.Env }),
		"file":          boolAttr(func(w *api.WorkloadIdentity) *bool { return &w.File }),
		"filepath":      strAttr(func(w *api.WorkloadIdentity) *string { return &w.Filepath }),
		"service_name":  strAttr(func(w *api.WorkloadIdentity) *string { return &w.ServiceName }),
		"ttl":           durationAttr(func(w *api.WorkloadIdentity) *time.Duration { return &w.TTL }),
		"extra_claims":  stringListAttr(func(w *api.WorkloadIdentity) *[]string { return &w.ExtraClaims }),
	},
}

// secretSpec is a task's secret "name" block: where a secret comes from
// (the provider and path) and provider-specific config, which stays
// free-form.
var secretSpec = &spec[api.Secret]{
	what: "secret",
	attrs: map[string]attrFn[api.Secret]{
		"provider": strAttr(func(s *api.Secret) *string { return &s.Provider }),
		"path":     strAttr(func(s *api.Secret) *string { return &s.Path }),
		"env":      mapAttr(func(s *api.Secret) *map[string]string { return &s.Env }),
	},
	blocks: map[string]blockRule[api.Secret]{
		"config": freeFormBlock(func(s *api.Secret) *map[string]interface{} { return &s.Config }),
		"env":    mapBlock(func(s *api.Secret) *map[string]string { return &s.Env }),
	},
}
