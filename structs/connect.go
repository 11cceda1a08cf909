// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import "time"

// The types below model a service's `connect` block (Consul service mesh):
// sidecar service and task, native integration and gateways. Drover stores
// them so a Nomad job file round-trips unchanged; running them needs the
// Consul integration.

// ConsulConnect is a service's `connect` block.
type ConsulConnect struct {
	Native         bool
	Gateway        *ConsulGateway
	SidecarService *ConsulSidecarService
	SidecarTask    *SidecarTask
}

// ConsulSidecarService is a `sidecar_service` block.
type ConsulSidecarService struct {
	Tags                   []string
	Port                   string
	Proxy                  *ConsulProxy
	DisableDefaultTCPCheck bool
	Meta                   map[string]string
}

// SidecarTask is a `sidecar_task` block: overrides for the injected proxy
// task.
type SidecarTask struct {
	Name          string
	Driver        string
	User          string
	Config        map[string]any
	Env           map[string]string
	Resources     *Resources
	Meta          map[string]string
	KillTimeout   time.Duration
	LogConfig     *LogConfig
	ShutdownDelay time.Duration
	KillSignal    string
	VolumeMounts  []*VolumeMount
	Identities    []*WorkloadIdentity
}

// ConsulProxy is a `proxy` block.
type ConsulProxy struct {
	LocalServiceAddress string
	LocalServicePort    int
	Expose              *ConsulExposeConfig
	Upstreams           []*ConsulUpstream
	TransparentProxy    *ConsulTransparentProxy
	Config              map[string]any
}

// ConsulMeshGateway is a `mesh_gateway` block.
type ConsulMeshGateway struct {
	Mode string
}

// ConsulUpstream is an `upstreams` block.
type ConsulUpstream struct {
	DestinationName      string
	DestinationNamespace string
	DestinationPeer      string
	DestinationPartition string
	DestinationType      string
	LocalBindPort        int
	Datacenter           string
	LocalBindAddress     string
	LocalBindSocketPath  string
	LocalBindSocketMode  string
	MeshGateway          *ConsulMeshGateway
	Config               map[string]any
}

// ConsulTransparentProxy is a `transparent_proxy` block.
type ConsulTransparentProxy struct {
	UID                  string
	OutboundPort         uint16
	ExcludeInboundPorts  []string
	ExcludeOutboundPorts []uint16
	ExcludeOutboundCIDRs []string
	ExcludeUIDs          []string
	NoDNS                bool
}

// ConsulExposeConfig is an `expose` block.
type ConsulExposeConfig struct {
	Paths []*ConsulExposePath
}

// ConsulExposePath is an expose `path` block.
type ConsulExposePath struct {
	Path          string
	Protocol      string
	LocalPathPort int
	ListenerPort  string
}

// ConsulGateway is a `gateway` block.
type ConsulGateway struct {
	Proxy       *ConsulGatewayProxy
	Ingress     *ConsulIngressConfigEntry
	Terminating *ConsulTerminatingConfigEntry
	Mesh        *ConsulMeshConfigEntry
}

// ConsulGatewayBindAddress is an Envoy bind address of a gateway proxy.
type ConsulGatewayBindAddress struct {
	Name    string
	Address string
	Port    int
}

// ConsulGatewayProxy is a gateway's `proxy` block.
type ConsulGatewayProxy struct {
	ConnectTimeout                  *time.Duration
	EnvoyGatewayBindTaggedAddresses bool
	EnvoyGatewayBindAddresses       map[string]*ConsulGatewayBindAddress
	EnvoyGatewayNoDefaultBind       bool
	EnvoyDNSDiscoveryType           string
	Config                          map[string]any
}

// ConsulGatewayTLSSDSConfig is a gateway TLS `sds` block.
type ConsulGatewayTLSSDSConfig struct {
	ClusterName  string
	CertResource string
}

// ConsulGatewayTLSConfig is a gateway `tls` block.
type ConsulGatewayTLSConfig struct {
	Enabled       bool
	TLSMinVersion string
	TLSMaxVersion string
	CipherSuites  []string
	SDS           *ConsulGatewayTLSSDSConfig
}

// ConsulHTTPHeaderModifiers is a `request_headers`/`response_headers` block.
type ConsulHTTPHeaderModifiers struct {
	Add    map[string]string
	Set    map[string]string
	Remove []string
}

// ConsulIngressService is an ingress listener's `service` block.
type ConsulIngressService struct {
	Name                  string
	Hosts                 []string
	TLS                   *ConsulGatewayTLSConfig
	RequestHeaders        *ConsulHTTPHeaderModifiers
	ResponseHeaders       *ConsulHTTPHeaderModifiers
	MaxConnections        *uint32
	MaxPendingRequests    *uint32
	MaxConcurrentRequests *uint32
}

// ConsulIngressListener is an ingress `listener` block.
type ConsulIngressListener struct {
	Port     int
	Protocol string
	Services []*ConsulIngressService
}

// ConsulIngressConfigEntry is a gateway's `ingress` block.
type ConsulIngressConfigEntry struct {
	TLS       *ConsulGatewayTLSConfig
	Listeners []*ConsulIngressListener
}

// ConsulLinkedService is a terminating gateway's `service` block.
type ConsulLinkedService struct {
	Name     string
	CAFile   string
	CertFile string
	KeyFile  string
	SNI      string
}

// ConsulTerminatingConfigEntry is a gateway's `terminating` block.
type ConsulTerminatingConfigEntry struct {
	Services []*ConsulLinkedService
}

// ConsulMeshConfigEntry is a gateway's `mesh` block; it has no settings.
type ConsulMeshConfigEntry struct{}
