// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"time"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

// This file holds the service block and its health checks. Connect (the
// service mesh) is in connect.go.

var serviceSpec = &spec[api.Service]{
	what: "service",
	attrs: map[string]attrFn[api.Service]{
		"name":                strAttr(func(s *api.Service) *string { return &s.Name }),
		"tags":                stringListAttr(func(s *api.Service) *[]string { return &s.Tags }),
		"canary_tags":         stringListAttr(func(s *api.Service) *[]string { return &s.CanaryTags }),
		"enable_tag_override": boolAttr(func(s *api.Service) *bool { return &s.EnableTagOverride }),
		"port":                strAttr(func(s *api.Service) *string { return &s.PortLabel }),
		"address_mode":        oneOfAttr(func(s *api.Service) *string { return &s.AddressMode }, "alloc", "auto", "driver", "host"),
		"address":             strAttr(func(s *api.Service) *string { return &s.Address }),
		"task":                strAttr(func(s *api.Service) *string { return &s.TaskName }),
		"on_update":           oneOfAttr(func(s *api.Service) *string { return &s.OnUpdate }, "require_healthy", "ignore_warnings", "ignore"),
		"provider":            oneOfAttr(func(s *api.Service) *string { return &s.Provider }, "consul", "nomad"),
		"cluster":             strAttr(func(s *api.Service) *string { return &s.Cluster }),
		"kind":                strAttr(func(s *api.Service) *string { return &s.Kind }),
		"meta":                mapAttr(func(s *api.Service) *map[string]string { return &s.Meta }),
		"canary_meta":         mapAttr(func(s *api.Service) *map[string]string { return &s.CanaryMeta }),
		"tagged_addresses":    mapAttr(func(s *api.Service) *map[string]string { return &s.TaggedAddresses }),
	},
	blocks: map[string]blockRule[api.Service]{
		"check":            valueListBlock(func(s *api.Service) *[]api.ServiceCheck { return &s.Checks }, checkSpec),
		"check_restart":    singleBlock(func(s *api.Service) **api.CheckRestart { return &s.CheckRestart }, checkRestartSpec),
		"connect":          singleBlock(func(s *api.Service) **api.ConsulConnect { return &s.Connect }, connectSpec),
		"meta":             mapBlock(func(s *api.Service) *map[string]string { return &s.Meta }),
		"canary_meta":      mapBlock(func(s *api.Service) *map[string]string { return &s.CanaryMeta }),
		"tagged_addresses": mapBlock(func(s *api.Service) *map[string]string { return &s.TaggedAddresses }),
		"identity":         singleBlock(func(s *api.Service) **api.WorkloadIdentity { return &s.Identity }, identitySpec),
		"weights": singleBlock(func(s *api.Service) **api.ServiceWeights { return &s.Weights }, &spec[api.ServiceWeights]{
			what: "weights",
			attrs: map[string]attrFn[api.ServiceWeights]{
				"passing": intAttr(func(w *api.ServiceWeights) *int { return &w.Passing }),
				"warning": intAttr(func(w *api.ServiceWeights) *int { return &w.Warning }),
			},
		}),
	},
}

var checkSpec = &spec[api.ServiceCheck]{
	what: "check",
	attrs: map[string]attrFn[api.ServiceCheck]{
		"name":                     strAttr(func(c *api.ServiceCheck) *string { return &c.Name }),
		"type":                     oneOfAttr(func(c *api.ServiceCheck) *string { return &c.Type }, "grpc", "http", "script", "tcp"),
		"command":                  strAttr(func(c *api.ServiceCheck) *string { return &c.Command }),
		"args":                     stringListAttr(func(c *api.ServiceCheck) *[]string { return &c.Args }),
		"path":                     strAttr(func(c *api.ServiceCheck) *string { return &c.Path }),
		"protocol":                 strAttr(func(c *api.ServiceCheck) *string { return &c.Protocol }),
		"port":                     strAttr(func(c *api.ServiceCheck) *string { return &c.PortLabel }),
		"expose":                   boolAttr(func(c *api.ServiceCheck) *bool { return &c.Expose }),
		"address_mode":             oneOfAttr(func(c *api.ServiceCheck) *string { return &c.AddressMode }, "alloc", "driver", "host"),
		"advertise":                strAttr(func(c *api.ServiceCheck) *string { return &c.Advertise }),
		"interval":                 durationAttr(func(c *api.ServiceCheck) *time.Duration { return &c.Interval }),
		"timeout":                  durationAttr(func(c *api.ServiceCheck) *time.Duration { return &c.Timeout }),
		"initial_status":           oneOfAttr(func(c *api.ServiceCheck) *string { return &c.InitialStatus }, "passing", "warning", "critical"),
		"notes":                    strAttr(func(c *api.ServiceCheck) *string { return &c.Notes }),
		"tls_server_name":          strAttr(func(c *api.ServiceCheck) *string { return &c.TLSServerName }),
		"tls_skip_verify":          boolAttr(func(c *api.ServiceCheck) *bool { return &c.TLSSkipVerify }),
		"method":                   strAttr(func(c *api.ServiceCheck) *string { return &c.Method }),
		"body":                     strAttr(func(c *api.ServiceCheck) *string { return &c.Body }),
		"grpc_service":             strAttr(func(c *api.ServiceCheck) *string { return &c.GRPCService }),
		"grpc_use_tls":             boolAttr(func(c *api.ServiceCheck) *bool { return &c.GRPCUseTLS }),
		"task":                     strAttr(func(c *api.ServiceCheck) *string { return &c.TaskName }),
		"success_before_passing":   intAttr(func(c *api.ServiceCheck) *int { return &c.SuccessBeforePassing }),
		"failures_before_critical": intAttr(func(c *api.ServiceCheck) *int { return &c.FailuresBeforeCritical }),
		"failures_before_warning":  intAttr(func(c *api.ServiceCheck) *int { return &c.FailuresBeforeWarning }),
		"on_update":                oneOfAttr(func(c *api.ServiceCheck) *string { return &c.OnUpdate }, "require_healthy", "ignore_warnings", "ignore"),
	},
	blocks: map[string]blockRule[api.ServiceCheck]{
		"header":        stringListMapBlock(func(c *api.ServiceCheck) *map[string][]string { return &c.Header }),
		"check_restart": singleBlock(func(c *api.ServiceCheck) **api.CheckRestart { return &c.CheckRestart }, checkRestartSpec),
	},
}

var checkRestartSpec = &spec[api.CheckRestart]{
	what: "check_restart",
	attrs: map[string]attrFn[api.CheckRestart]{
		"limit":           intAttr(func(c *api.CheckRestart) *int { return &c.Limit }),
		"grace":           durationPtrAttr(func(c *api.CheckRestart) **time.Duration { return &c.Grace }),
		"ignore_warnings": boolAttr(func(c *api.CheckRestart) *bool { return &c.IgnoreWarnings }),
	},
}

func intAttr[T any](f field[T, int]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		n, ok, diags := d.intOf(a)
		if ok {
			*f(out) = n
		}
		return diags
	}
}
