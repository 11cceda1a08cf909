// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"time"

	"github.com/droverhq/drover/api"
)

// This file holds a service's connect block (Consul service mesh): the
// sidecar service and its proxy, the sidecar task, native integration and
// gateways. Envoy's escape-hatch config blocks stay free-form.

var connectSpec = &spec[api.ConsulConnect]{
	what: "connect",
	attrs: map[string]attrFn[api.ConsulConnect]{
		"native": boolAttr(func(c *api.ConsulConnect) *bool { return &c.Native }),
	},
	blocks: map[string]blockRule[api.ConsulConnect]{
		"sidecar_service": singleBlock(func(c *api.ConsulConnect) **api.ConsulSidecarService { return &c.SidecarService }, sidecarServiceSpec),
		"sidecar_task":    singleBlock(func(c *api.ConsulConnect) **api.SidecarTask { return &c.SidecarTask }, sidecarTaskSpec),
		"gateway":         singleBlock(func(c *api.ConsulConnect) **api.ConsulGateway { return &c.Gateway }, gatewaySpec),
	},
}

var sidecarServiceSpec = &spec[api.ConsulSidecarService]{
	what: "sidecar_service",
	attrs: map[string]attrFn[api.ConsulSidecarService]{
		"tags":                      stringListAttr(func(s *api.ConsulSidecarService) *[]string { return &s.Tags }),
		"port":                      strAttr(func(s *api.ConsulSidecarService) *string { return &s.Port }),
		"disable_default_tcp_check": boolAttr(func(s *api.ConsulSidecarService) *bool { return &s.DisableDefaultTCPCheck }),
		"meta":                      mapAttr(func(s *api.ConsulSidecarService) *map[string]string { return &s.Meta }),
	},
	blocks: map[string]blockRule[api.ConsulSidecarService]{
		"proxy": singleBlock(func(s *api.ConsulSidecarService) **api.ConsulProxy { return &s.Proxy }, proxySpec),
		"meta":  mapBlock(func(s *api.ConsulSidecarService) *map[string]string { return &s.Meta }),
	},
}

var proxySpec = &spec[api.ConsulProxy]{
	what: "proxy",
	attrs: map[string]attrFn[api.ConsulProxy]{
		"local_service_address": strAttr(func(p *api.ConsulProxy) *string { return &p.LocalServiceAddress }),
		"local_service_port":    intAttr(func(p *api.ConsulProxy) *int { return &p.LocalServicePort }),
	},
	blocks: map[string]blockRule[api.ConsulProxy]{
		"upstreams":         listBlock(func(p *api.ConsulProxy) *[]*api.ConsulUpstream { return &p.Upstreams }, upstreamSpec),
		"expose":            singleBlock(func(p *api.ConsulProxy) **api.ConsulExposeConfig { return &p.Expose }, exposeSpec),
		"transparent_proxy": singleBlock(func(p *api.ConsulProxy) **api.ConsulTransparentProxy { return &p.TransparentProxy }, transparentProxySpec),
		"config":            freeFormBlock(func(p *api.ConsulProxy) *map[string]interface{} { return &p.Config }),
	},
}

var upstreamSpec = &spec[api.ConsulUpstream]{
	what: "upstreams",
	attrs: map[string]attrFn[api.ConsulUpstream]{
		"destination_name":       strAttr(func(u *api.ConsulUpstream) *string { return &u.DestinationName }),
		"destination_namespace":  strAttr(func(u *api.ConsulUpstream) *string { return &u.DestinationNamespace }),
		"destination_peer":       strAttr(func(u *api.ConsulUpstream) *string { return &u.DestinationPeer }),
		"destination_partition":  strAttr(func(u *api.ConsulUpstream) *string { return &u.DestinationPartition }),
		"destination_type":       strAttr(func(u *api.ConsulUpstream) *string { return &u.DestinationType }),
		"local_bind_port":        intAttr(func(u *api.ConsulUpstream) *int { return &u.LocalBindPort }),
		"local_bind_address":     strAttr(func(u *api.ConsulUpstream) *string { return &u.LocalBindAddress }),
		"local_bind_socket_path": strAttr(func(u *api.ConsulUpstream) *string { return &u.LocalBindSocketPath }),
		"local_bind_socket_mode": strAttr(func(u *api.ConsulUpstream) *string { return &u.LocalBindSocketMode }),
		"datacenter":             strAttr(func(u *api.ConsulUpstream) *string { return &u.Datacenter }),
	},
	blocks: map[string]blockRule[api.ConsulUpstream]{
		"mesh_gateway": singleBlock(func(u *api.ConsulUpstream) **api.ConsulMeshGateway { return &u.MeshGateway }, &spec[api.ConsulMeshGateway]{
			what: "mesh_gateway",
			attrs: map[string]attrFn[api.ConsulMeshGateway]{
				"mode": oneOfAttr(func(m *api.ConsulMeshGateway) *string { return &m.Mode }, "local", "remote", "none"),
			},
		}),
		"config": freeFormBlock(func(u *api.ConsulUpstream) *map[string]interface{} { return &u.Config }),
	},
}

var exposeSpec = &spec[api.ConsulExposeConfig]{
	what: "expose",
	blocks: map[string]blockRule[api.ConsulExposeConfig]{
		"path": listBlock(func(e *api.ConsulExposeConfig) *[]*api.ConsulExposePath { return &e.Paths }, &spec[api.ConsulExposePath]{
			what: "path",
			attrs: map[string]attrFn[api.ConsulExposePath]{
				"path":            strAttr(func(p *api.ConsulExposePath) *string { return &p.Path }),
				"protocol":        strAttr(func(p *api.ConsulExposePath) *string { return &p.Protocol }),
				"local_path_port": intAttr(func(p *api.ConsulExposePath) *int { return &p.LocalPathPort }),
				"listener_port":   strAttr(func(p *api.ConsulExposePath) *string { return &p.ListenerPort }),
			},
		}),
	},
}

var transparentProxySpec = &spec[api.ConsulTransparentProxy]{
	what: "transparent_proxy",
	attrs: map[string]attrFn[api.ConsulTransparentProxy]{
		"uid":                    strAttr(func(t *api.ConsulTransparentProxy) *string { return &t.UID }),
		"outbound_port":          numAttr(func(t *api.ConsulTransparentProxy) *uint16 { return &t.OutboundPort }),
		"exclude_inbound_ports":  stringListAttr(func(t *api.ConsulTransparentProxy) *[]string { return &t.ExcludeInboundPorts }),
		"exclude_outbound_ports": numListAttr(func(t *api.ConsulTransparentProxy) *[]uint16 { return &t.ExcludeOutboundPorts }),
		"exclude_outbound_cidrs": stringListAttr(func(t *api.ConsulTransparentProxy) *[]string { return &t.ExcludeOutboundCIDRs }),
		"exclude_uids":           stringListAttr(func(t *api.ConsulTransparentProxy) *[]string { return &t.ExcludeUIDs }),
		"no_dns":                 boolAttr(func(t *api.ConsulTransparentProxy) *bool { return &t.NoDNS }),
	},
}

// sidecarTaskSpec overrides parts of the Envoy task Nomad injects.
var sidecarTaskSpec = &spec[api.SidecarTask]{
	what: "sidecar_task",
	attrs: map[string]attrFn[api.SidecarTask]{
		"name":           strAttr(func(t *api.SidecarTask) *string { return &t.Name }),
		"driver":         strAttr(func(t *api.SidecarTask) *string { return &t.Driver }),
		"user":           strAttr(func(t *api.SidecarTask) *string { return &t.User }),
		"kill_timeout":   durationPtrAttr(func(t *api.SidecarTask) **time.Duration { return &t.KillTimeout }),
		"shutdown_delay": durationPtrAttr(func(t *api.SidecarTask) **time.Duration { return &t.ShutdownDelay }),
		"kill_signal":    strAttr(func(t *api.SidecarTask) *string { return &t.KillSignal }),
		"env":            mapAttr(func(t *api.SidecarTask) *map[string]string { return &t.Env }),
		"meta":           mapAttr(func(t *api.SidecarTask) *map[string]string { return &t.Meta }),
	},
	blocks: map[string]blockRule[api.SidecarTask]{
		"config":       freeFormBlock(func(t *api.SidecarTask) *map[string]interface{} { return &t.Config }),
		"env":          mapBlock(func(t *api.SidecarTask) *map[string]string { return &t.Env }),
		"meta":         mapBlock(func(t *api.SidecarTask) *map[string]string { return &t.Meta }),
		"resources":    resourcesBlock(func(t *api.SidecarTask) **api.Resources { return &t.Resources }),
		"logs":         logsBlock(func(t *api.SidecarTask) **api.LogConfig { return &t.LogConfig }),
		"volume_mount": listBlock(func(t *api.SidecarTask) *[]*api.VolumeMount { return &t.VolumeMounts }, volumeMountSpec),
		"identity":     listBlock(func(t *api.SidecarTask) *[]*api.WorkloadIdentity { return &t.Identities }, identitySpec),
	},
}

var gatewaySpec = &spec[api.ConsulGateway]{
	what: "gateway",
	blocks: map[string]blockRule[api.ConsulGateway]{
		"proxy":       singleBlock(func(g *api.ConsulGateway) **api.ConsulGatewayProxy { return &g.Proxy }, gatewayProxySpec),
		"ingress":     singleBlock(func(g *api.ConsulGateway) **api.ConsulIngressConfigEntry { return &g.Ingress }, ingressSpec),
		"terminating": singleBlock(func(g *api.ConsulGateway) **api.ConsulTerminatingConfigEntry { return &g.Terminating }, terminatingSpec),
		"mesh":        singleBlock(func(g *api.ConsulGateway) **api.ConsulMeshConfigEntry { return &g.Mesh }, &spec[api.ConsulMeshConfigEntry]{what: "mesh"}),
	},
}

var gatewayProxySpec = &spec[api.ConsulGatewayProxy]{
	what: "proxy",
	attrs: map[string]attrFn[api.ConsulGatewayProxy]{
		"connect_timeout":                     durationPtrAttr(func(p *api.ConsulGatewayProxy) **time.Duration { return &p.ConnectTimeout }),
		"envoy_gateway_bind_tagged_addresses": boolAttr(func(p *api.ConsulGatewayProxy) *bool { return &p.EnvoyGatewayBindTaggedAddresses }),
		"envoy_gateway_no_default_bind":       boolAttr(func(p *api.ConsulGatewayProxy) *bool { return &p.EnvoyGatewayNoDefaultBind }),
		"envoy_dns_discovery_type":            oneOfAttr(func(p *api.ConsulGatewayProxy) *string { return &p.EnvoyDNSDiscoveryType }, "LOGICAL_DNS", "STRICT_DNS"),
	},
	blocks: map[string]blockRule[api.ConsulGatewayProxy]{
		"envoy_gateway_bind_addresses": labelledMapBlock(func(p *api.ConsulGatewayProxy) *map[string]*api.ConsulGatewayBindAddress {
			return &p.EnvoyGatewayBindAddresses
		}, &spec[api.ConsulGatewayBindAddress]{
			what: "envoy_gateway_bind_addresses",
			attrs: map[string]attrFn[api.ConsulGatewayBindAddress]{
				"address": strAttr(func(b *api.ConsulGatewayBindAddress) *string { return &b.Address }),
				"port":    intAttr(func(b *api.ConsulGatewayBindAddress) *int { return &b.Port }),
			},
		}, "name", func(b *api.ConsulGatewayBindAddress, name string) { b.Name = name }),
		"config": freeFormBlock(func(p *api.ConsulGatewayProxy) *map[string]interface{} { return &p.Config }),
	},
}

var gatewayTLSSpec = &spec[api.ConsulGatewayTLSConfig]{
	what: "tls",
	attrs: map[string]attrFn[api.ConsulGatewayTLSConfig]{
		"enabled":         boolAttr(func(t *api.ConsulGatewayTLSConfig) *bool { return &t.Enabled }),
		"tls_min_version": strAttr(func(t *api.ConsulGatewayTLSConfig) *string { return &t.TLSMinVersion }),
		"tls_max_version": strAttr(func(t *api.ConsulGatewayTLSConfig) *string { return &t.TLSMaxVersion }),
		"cipher_suites":   stringListAttr(func(t *api.ConsulGatewayTLSConfig) *[]string { return &t.CipherSuites }),
	},
	blocks: map[string]blockRule[api.ConsulGatewayTLSConfig]{
		"sds": singleBlock(func(t *api.ConsulGatewayTLSConfig) **api.ConsulGatewayTLSSDSConfig { return &t.SDS }, &spec[api.ConsulGatewayTLSSDSConfig]{
			what: "sds",
			attrs: map[string]attrFn[api.ConsulGatewayTLSSDSConfig]{
				"cluster_name":  strAttr(func(s *api.ConsulGatewayTLSSDSConfig) *string { return &s.ClusterName }),
				"cert_resource": strAttr(func(s *api.ConsulGatewayTLSSDSConfig) *string { return &s.CertResource }),
			},
		}),
	},
}

var ingressSpec = &spec[api.ConsulIngressConfigEntry]{
	what: "ingress",
	blocks: map[string]blockRule[api.ConsulIngressConfigEntry]{
		"tls": singleBlock(func(i *api.ConsulIngressConfigEntry) **api.ConsulGatewayTLSConfig { return &i.TLS }, gatewayTLSSpec),
		"listener": listBlock(func(i *api.ConsulIngressConfigEntry) *[]*api.ConsulIngressListener { return &i.Listeners }, &spec[api.ConsulIngressListener]{
			what: "listener",
			attrs: map[string]attrFn[api.ConsulIngressListener]{
				"port":     intAttr(func(l *api.ConsulIngressListener) *int { return &l.Port }),
				"protocol": strAttr(func(l *api.ConsulIngressListener) *string { return &l.Protocol }),
			},
			blocks: map[string]blockRule[api.ConsulIngressListener]{
				"service": listBlock(func(l *api.ConsulIngressListener) *[]*api.ConsulIngressService { return &l.Services }, ingressServiceSpec),
			},
		}),
	},
}

var ingressServiceSpec = &spec[api.ConsulIngressService]{
	what: "service",
	attrs: map[string]attrFn[api.ConsulIngressService]{
		"name":                    strAttr(func(s *api.ConsulIngressService) *string { return &s.Name }),
		"hosts":                   stringListAttr(func(s *api.ConsulIngressService) *[]string { return &s.Hosts }),
		"max_connections":         numPtrAttr(func(s *api.ConsulIngressService) **uint32 { return &s.MaxConnections }),
		"max_pending_requests":    numPtrAttr(func(s *api.ConsulIngressService) **uint32 { return &s.MaxPendingRequests }),
		"max_concurrent_requests": numPtrAttr(func(s *api.ConsulIngressService) **uint32 { return &s.MaxConcurrentRequests }),
	},
	blocks: map[string]blockRule[api.ConsulIngressService]{
		"tls":              singleBlock(func(s *api.ConsulIngressService) **api.ConsulGatewayTLSConfig { return &s.TLS }, gatewayTLSSpec),
		"request_headers":  singleBlock(func(s *api.ConsulIngressService) **api.ConsulHTTPHeaderModifiers { return &s.RequestHeaders }, headerModifiersSpec),
		"response_headers": singleBlock(func(s *api.ConsulIngressService) **api.ConsulHTTPHeaderModifiers { return &s.ResponseHeaders }, headerModifiersSpec),
	},
}

var headerModifiersSpec = &spec[api.ConsulHTTPHeaderModifiers]{
	what: "headers",
	attrs: map[string]attrFn[api.ConsulHTTPHeaderModifiers]{
		"remove": stringListAttr(func(h *api.ConsulHTTPHeaderModifiers) *[]string { return &h.Remove }),
		"add":    mapAttr(func(h *api.ConsulHTTPHeaderModifiers) *map[string]string { return &h.Add }),
		"set":    mapAttr(func(h *api.ConsulHTTPHeaderModifiers) *map[string]string { return &h.Set }),
	},
	blocks: map[string]blockRule[api.ConsulHTTPHeaderModifiers]{
		"add": mapBlock(func(h *api.ConsulHTTPHeaderModifiers) *map[string]string { return &h.Add }),
		"set": mapBlock(func(h *api.ConsulHTTPHeaderModifiers) *map[string]string { return &h.Set }),
	},
}

var terminatingSpec = &spec[api.ConsulTerminatingConfigEntry]{
	what: "terminating",
	blocks: map[string]blockRule[api.ConsulTerminatingConfigEntry]{
		"service": listBlock(func(t *api.ConsulTerminatingConfigEntry) *[]*api.ConsulLinkedService { return &t.Services }, &spec[api.ConsulLinkedService]{
			what: "service",
			attrs: map[string]attrFn[api.ConsulLinkedService]{
				"name":      strAttr(func(s *api.ConsulLinkedService) *string { return &s.Name }),
				"ca_file":   strAttr(func(s *api.ConsulLinkedService) *string { return &s.CAFile }),
				"cert_file": strAttr(func(s *api.ConsulLinkedService) *string { return &s.CertFile }),
				"key_file":  strAttr(func(s *api.ConsulLinkedService) *string { return &s.KeyFile }),
				"sni":       strAttr(func(s *api.ConsulLinkedService) *string { return &s.SNI }),
			},
		}),
	},
}
