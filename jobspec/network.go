// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"fmt"

	"github.com/droverhq/drover/api"
	"github.com/hashicorp/hcl/v2"
)

// networkSpec is the network block: the networking mode and the ports an
// allocation asks for. Ports are port "label" blocks; normalize.go sorts
// them into reserved (static) and dynamic ports as Nomad's parser does.
var networkSpec = &spec[api.NetworkResource]{
	what: "network",
	attrs: map[string]attrFn[api.NetworkResource]{
		"mode":     strAttr(func(n *api.NetworkResource) *string { return &n.Mode }),
		"device":   strAttr(func(n *api.NetworkResource) *string { return &n.Device }),
		"cidr":     strAttr(func(n *api.NetworkResource) *string { return &n.CIDR }),
		"ip":       strAttr(func(n *api.NetworkResource) *string { return &n.IP }),
		"hostname": strAttr(func(n *api.NetworkResource) *string { return &n.Hostname }),
		"mbits":    intPtrAttr(func(n *api.NetworkResource) **int { return &n.MBits }),
	},
	blocks: map[string]blockRule[api.NetworkResource]{
		"port": portBlock(func(n *api.NetworkResource) *[]api.Port { return &n.DynamicPorts }),
		"dns": singleBlock(func(n *api.NetworkResource) **api.DNSConfig { return &n.DNS }, &spec[api.DNSConfig]{
			what: "dns",
			attrs: map[string]attrFn[api.DNSConfig]{
				"servers":  stringListAttr(func(c *api.DNSConfig) *[]string { return &c.Servers }),
				"searches": stringListAttr(func(c *api.DNSConfig) *[]string { return &c.Searches }),
				"options":  stringListAttr(func(c *api.DNSConfig) *[]string { return &c.Options }),
			},
		}),
		"cni": singleBlock(func(n *api.NetworkResource) **api.CNIConfig { return &n.CNI }, &spec[api.CNIConfig]{
			what: "cni",
			attrs: map[string]attrFn[api.CNIConfig]{
				"args": mapAttr(func(c *api.CNIConfig) *map[string]string { return &c.Args }),
			},
		}),
	},
}

var portSpec = &spec[api.Port]{
	what: "port",
	attrs: map[string]attrFn[api.Port]{
		"static":           portNumberAttr(func(p *api.Port) *int { return &p.Value }),
		"to":               portNumberAttr(func(p *api.Port) *int { return &p.To }),
		"host_network":     strAttr(func(p *api.Port) *string { return &p.HostNetwork }),
		"ignore_collision": boolAttr(func(p *api.Port) *bool { return &p.IgnoreCollision }),
	},
}

// portBlock decodes port "label" blocks; labels are unique in a network.
func portBlock[T any](f field[T, []api.Port]) blockRule[T] {
	return blockRule[T]{labels: []string{"label"}, decode: func(d *decoder, b *hcl.Block, out *T) hcl.Diagnostics {
		label := b.Labels[0]
		for _, p := range *f(out) {
			if p.Label == label {
				return hcl.Diagnostics{errorAt(b.LabelRanges[0], "Duplicate port",
					fmt.Sprintf("This network already has a port labelled %q.", label))}
			}
		}
		p := api.Port{Label: label}
		diags := portSpec.decode(d, b.Body, &p)
		*f(out) = append(*f(out), p)
		return diags
	}}
}

// portNumberAttr reads a port number. "to" may be -1, which Nomad reads as
// "the same as the allocated port".
func portNumberAttr[T any](f field[T, int]) attrFn[T] {
	return func(d *decoder, a *hcl.Attribute, out *T) hcl.Diagnostics {
		n, ok, diags := d.intOf(a)
		if !ok {
			return diags
		}
		if n < -1 || n > 65535 {
			return append(diags, errorAt(a.Expr.Range(), fmt.Sprintf("Invalid value for %q", a.Name),
				fmt.Sprintf("a port number from 0 to 65535 is required, not %d.", n)))
		}
		*f(out) = n
		return diags
	}
}
