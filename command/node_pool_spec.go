// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

// The node pool specification file of `node pool apply`, Nomad's format:
//
//	node_pool "dev" {
//	  description = "Nodes for the development environment."
//	  meta {
//	    owner = "sre"
//	  }
//	  scheduler_config {
//	    scheduler_algorithm             = "spread"
//	    memory_oversubscription_enabled = true
//	  }
//	}
//
// in HCL, or the same structure in JSON (a file ending in .json).

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/droverhq/drover/api"
)

type nodePoolFile struct {
	Pools []*nodePoolSpec `hcl:"node_pool,block"`
}

type nodePoolSpec struct {
	Name            string                   `hcl:"name,label"`
	Description     string                   `hcl:"description,optional"`
	Meta            *freeformBlock           `hcl:"meta,block"`
	SchedulerConfig *nodePoolSchedulerConfig `hcl:"scheduler_config,block"`
}

// freeformBlock is a block of arbitrary string attributes (meta).
type freeformBlock struct {
	Body hcl.Body `hcl:",remain"`
}

type nodePoolSchedulerConfig struct {
	SchedulerAlgorithm            string `hcl:"scheduler_algorithm,optional"`
	MemoryOversubscriptionEnabled *bool  `hcl:"memory_oversubscription_enabled,optional"`
}

// parseNodePoolSpec reads the one node_pool block of a specification file.
// Errors name the file, line and column.
func parseNodePoolSpec(filename string, src []byte) (*api.NodePool, error) {
	p := hclparse.NewParser()
	var (
		f     *hcl.File
		diags hcl.Diagnostics
	)
	if strings.HasSuffix(filename, ".json") {
		f, diags = p.ParseJSON(src, filename)
	} else {
		f, diags = p.ParseHCL(src, filename)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	var file nodePoolFile
	if diags := gohcl.DecodeBody(f.Body, nil, &file); diags.HasErrors() {
		return nil, diags
	}
	if len(file.Pools) != 1 {
		return nil, fmt.Errorf("%s: expected exactly one node_pool block, found %d", filename, len(file.Pools))
	}
	spec := file.Pools[0]
	pool := &api.NodePool{Name: spec.Name, Description: spec.Description}
	if spec.Meta != nil {
		attrs, diags := spec.Meta.Body.JustAttributes()
		if diags.HasErrors() {
			return nil, diags
		}
		pool.Meta = make(map[string]string, len(attrs))
		for name, attr := range attrs {
			v, diags := attr.Expr.Value(nil)
			if diags.HasErrors() {
				return nil, diags
			}
			s, err := metaString(v)
			if err != nil {
				return nil, fmt.Errorf("%s: meta %q: %w", attr.Range.String(), name, err)
			}
			pool.Meta[name] = s
		}
	}
	if sc := spec.SchedulerConfig; sc != nil {
		pool.SchedulerConfiguration = &api.NodePoolSchedulerConfiguration{
			SchedulerAlgorithm:            api.SchedulerAlgorithm(sc.SchedulerAlgorithm),
			MemoryOversubscriptionEnabled: sc.MemoryOversubscriptionEnabled,
		}
	}
	return pool, nil
}

// metaString turns a meta value into its string, as Nomad stores meta:
// strings as they are, numbers and booleans in their usual spelling.
func metaString(v cty.Value) (string, error) {
	if v.IsNull() || !v.IsKnown() {
		return "", fmt.Errorf("value must be set")
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), nil
	case cty.Number:
		return v.AsBigFloat().Text('f', -1), nil
	case cty.Bool:
		if v.True() {
			return "true", nil
		}
		return "false", nil
	}
	return "", fmt.Errorf("want a string, number or bool, got %s", v.Type().FriendlyName())
}
