// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package config

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// This file maps the file's layout onto Config. A section is the schema
// of one block body with, for each argument and nested block, the code
// that stores it; the same code serves HCL and JSON files, since both
// come out of the hcl package as hcl.Body.

// section describes one block body.
type section struct {
	what   string
	attrs  map[string]func(a *hcl.Attribute) hcl.Diagnostics
	blocks map[string]subBlock
}

// subBlock is a nested block: its labels, whether it may repeat, and its
// decoder.
type subBlock struct {
	labels []string
	repeat bool
	decode func(b *hcl.Block) hcl.Diagnostics
}

func (s section) decode(body hcl.Body) hcl.Diagnostics {
	schema := &hcl.BodySchema{}
	for name := range s.attrs {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: name})
	}
	for name, b := range s.blocks {
		schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: name, LabelNames: b.labels})
	}
	content, diags := body.Content(schema)
	if content == nil {
		return diags
	}
	for _, a := range sortedAttrs(content.Attributes) {
		diags = append(diags, s.attrs[a.Name](a)...)
	}
	seen := map[string]hcl.Range{}
	for _, b := range content.Blocks {
		sb := s.blocks[b.Type]
		if prev, dup := seen[b.Type]; dup && !sb.repeat {
			r := b.DefRange
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Duplicate %s block", b.Type),
				Detail: fmt.Sprintf("Only one %s block is allowed in %s; another was defined at line %d.", b.Type, s.what, prev.Start.Line), Subject: &r})
			continue
		}
		seen[b.Type] = b.DefRange
		diags = append(diags, sb.decode(b)...)
	}
	return diags
}

func topSection(c *Config) section {
	return section{
		what: "the agent configuration",
		attrs: map[string]func(*hcl.Attribute) hcl.Diagnostics{
			"name":                 setString(&c.Name),
			"region":               setString(&c.Region),
			"datacenter":           setString(&c.Datacenter),
			"data_dir":             setString(&c.DataDir),
			"plugin_dir":           setString(&c.PluginDir),
			"bind_addr":            setString(&c.BindAddr),
			"log_level":            setString(&c.LogLevel),
			"log_json":             setBool(&c.LogJSON),
			"enable_debug":         setBool(&c.EnableDebug),
			"disable_update_check": setBool(&c.DisableUpdateCheck),
			"leave_on_interrupt":   setBool(&c.LeaveOnInterrupt),
			"leave_on_terminate":   setBool(&c.LeaveOnTerminate),
		},
		blocks: map[string]subBlock{
			"ports": body(section{what: "ports", attrs: map[string]func(*hcl.Attribute) hcl.Diagnostics{
				"http": setInt(&c.Ports.HTTP), "rpc": setInt(&c.Ports.RPC), "serf": setInt(&c.Ports.Serf),
			}}),
			"addresses": body(addrSection("addresses", &c.Addresses)),
			"advertise": body(addrSection("advertise", &c.Advertise)),
			"server":    body(serverSection(&c.Server)),
			"client":    body(clientSection(&c.Client)),
			"plugin": {labels: []string{"name"}, repeat: true, decode: func(b *hcl.Block) hcl.Diagnostics {
				return decodePlugin(c, b)
			}},
		},
	}
}

func addrSection(what string, a *Addresses) section {
	return section{what: what, attrs: map[string]func(*hcl.Attribute) hcl.Diagnostics{
		"http": setString(&a.HTTP), "rpc": setString(&a.RPC), "serf": setString(&a.Serf),
	}}
}

func serverSection(s *Server) section {
	return section{
		what: "server",
		attrs: map[string]func(*hcl.Attribute) hcl.Diagnostics{
			"enabled":          setBool(&s.Enabled),
			"bootstrap_expect": setInt(&s.BootstrapExpect),
			"num_schedulers":   setInt(&s.NumSchedulers),
		},
		blocks: map[string]subBlock{
			"server_join": body(section{what: "server_join", attrs: map[string]func(*hcl.Attribute) hcl.Diagnostics{
				"retry_join":     setStrings(&s.ServerJoin.RetryJoin),
				"retry_max":      setInt(&s.ServerJoin.RetryMax),
				"retry_interval": setDuration(&s.ServerJoin.RetryInterval),
			}}),
		},
	}
}

func clientSection(c *Client) section {
	return section{
		what: "client",
		attrs: map[string]func(*hcl.Attribute) hcl.Diagnostics{
			"enabled":    setBool(&c.Enabled),
			"state_dir":  setString(&c.StateDir),
			"alloc_dir":  setString(&c.AllocDir),
			"servers":    setStrings(&c.Servers),
			"node_class": setString(&c.NodeClass),
			"node_pool":  setString(&c.NodePool),
			"meta":       setStringMap(&c.Meta),
		},
		blocks: map[string]subBlock{
			"meta": {decode: func(b *hcl.Block) hcl.Diagnostics {
				attrs, diags := b.Body.JustAttributes()
				for _, a := range sortedAttrs(attrs) {
					if c.Meta == nil {
						c.Meta = map[string]string{}
					}
					var s string
					diags = append(diags, setString(&s)(a)...)
					c.Meta[a.Name] = s
				}
				return diags
			}},
			"reserved": body(section{what: "reserved", attrs: map[string]func(*hcl.Attribute) hcl.Diagnostics{
				"cpu": setInt(&c.Reserved.CPU), "memory": setInt(&c.Reserved.MemoryMB), "disk": setInt(&c.Reserved.DiskMB),
			}}),
		},
	}
}

// decodePlugin reads plugin "NAME" { args = [...] config { ... } }.
func decodePlugin(c *Config, b *hcl.Block) hcl.Diagnostics {
	p := &Plugin{Name: b.Labels[0]}
	if c.Plugins == nil {
		c.Plugins = map[string]*Plugin{}
	}
	if _, dup := c.Plugins[p.Name]; dup {
		r := b.LabelRanges[0]
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Duplicate plugin block",
			Detail: fmt.Sprintf("Plugin %q is configured twice in this file.", p.Name), Subject: &r}}
	}
	c.Plugins[p.Name] = p
	return section{
		what:  "plugin",
		attrs: map[string]func(*hcl.Attribute) hcl.Diagnostics{"args": setStrings(&p.Args)},
		blocks: map[string]subBlock{"config": {decode: func(cb *hcl.Block) hcl.Diagnostics {
			cfg, diags := freeForm(cb.Body)
			p.Config = cfg
			return diags
		}}},
	}.decode(b.Body)
}

// body is a block without labels decoded by s.
func body(s section) subBlock {
	return subBlock{decode: func(b *hcl.Block) hcl.Diagnostics { return s.decode(b.Body) }}
}

// value evaluates a (agent files have no variables or functions) and
// converts it to ty, with an error at the value's place when it cannot.
func value(a *hcl.Attribute, ty cty.Type) (cty.Value, hcl.Diagnostics) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	cv, err := convert.Convert(v, ty)
	if err == nil && cv.IsNull() {
		err = fmt.Errorf("a value is required")
	}
	if err != nil {
		r := a.Expr.Range()
		return cty.NilVal, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError,
			Summary: fmt.Sprintf("Invalid value for %q", a.Name), Detail: err.Error() + ".", Subject: &r})
	}
	return cv, diags
}

func setInto(a *hcl.Attribute, ty cty.Type, dst interface{}) hcl.Diagnostics {
	v, diags := value(a, ty)
	if diags.HasErrors() {
		return diags
	}
	if err := gocty.FromCtyValue(v, dst); err != nil {
		r := a.Expr.Range()
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError,
			Summary: fmt.Sprintf("Invalid value for %q", a.Name), Detail: err.Error() + ".", Subject: &r})
	}
	return diags
}

func setString(dst *string) func(*hcl.Attribute) hcl.Diagnostics {
	return func(a *hcl.Attribute) hcl.Diagnostics { return setInto(a, cty.String, dst) }
}

func setInt(dst *int) func(*hcl.Attribute) hcl.Diagnostics {
	return func(a *hcl.Attribute) hcl.Diagnostics { return setInto(a, cty.Number, dst) }
}

func setBool(dst *bool) func(*hcl.Attribute) hcl.Diagnostics {
	return func(a *hcl.Attribute) hcl.Diagnostics { return setInto(a, cty.Bool, dst) }
}

func setStrings(dst *[]string) func(*hcl.Attribute) hcl.Diagnostics {
	return func(a *hcl.Attribute) hcl.Diagnostics { return setInto(a, cty.List(cty.String), dst) }
}

func setStringMap(dst *map[string]string) func(*hcl.Attribute) hcl.Diagnostics {
	return func(a *hcl.Attribute) hcl.Diagnostics {
		var m map[string]string
		diags := setInto(a, cty.Map(cty.String), &m)
		if *dst == nil && len(m) > 0 {
			*dst = map[string]string{}
		}
		for k, v := range m {
			(*dst)[k] = v
		}
		return diags
	}
}

// setDuration reads a Go duration string such as "30s".
func setDuration(dst *time.Duration) func(*hcl.Attribute) hcl.Diagnostics {
	return func(a *hcl.Attribute) hcl.Diagnostics {
		var s string
		diags := setInto(a, cty.String, &s)
		if diags.HasErrors() {
			return diags
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			r := a.Expr.Range()
			return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Invalid duration for %q", a.Name),
				Detail: fmt.Sprintf("%q is not a duration; use a number with a unit, such as \"30s\".", s), Subject: &r})
		}
		*dst = d
		return diags
	}
}
