// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package fingerprint

// This file fingerprints the node's networks: the default one (the
// address other machines reach the node on, where host-mode ports are
// bound) and the named `host_network` blocks of the client configuration.
// The scheduler hands out ports on these addresses.

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/droverhq/drover/structs"
)

// HostNetwork is a client `host_network "NAME" { ... }` block: the address
// of the node within CIDR and/or on Interface, which ports select with
// `host_network = "NAME"`. ReservedPorts are kept back on it.
type HostNetwork struct {
	Name          string
	CIDR          string
	Interface     string
	ReservedPorts string
}

// loopbackDevice is Linux's loopback interface, a dev agent's network.
const loopbackDevice = "lo"

// nodeAddress picks the address other machines reach this node on, and
// its interface: the named interface's first IPv4 address; loopback in dev
// mode; else the address of the interface carrying the default route,
// else the first non-loopback IPv4 address of an up interface, else
// loopback.
func nodeAddress(opts Options) (ip, device string, err error) {
	if opts.NetworkInterface != "" {
		ip, err := interfaceIPv4(opts.NetworkInterface)
		if err != nil {
			return "", "", fmt.Errorf("interface %q: %w", opts.NetworkInterface, err)
		}
		return ip, opts.NetworkInterface, nil
	}
	if opts.DevMode {
		return "127.0.0.1", loopbackDevice, nil
	}
	if name := defaultRouteInterface(opts.path("/proc/net/route")); name != "" {
		if ip, err := interfaceIPv4(name); err == nil {
			return ip, name, nil
		}
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", "", fmt.Errorf("list interfaces: %w", err)
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		if ip, err := interfaceIPv4(iface.Name); err == nil {
			return ip, iface.Name, nil
		}
	}
	return "127.0.0.1", loopbackDevice, nil
}

// networks builds the node's networks from its default address and the
// configured host networks. A host network that matches no address of the
// node is left out (ports asking for it make the node infeasible), as
// Nomad does; a malformed one is an error.
func networks(ip, device string, hostNets []HostNetwork) ([]*structs.NetworkResource, []*structs.NodeNetworkResource, error) {
	def := &structs.NetworkResource{Mode: structs.NetworkModeHost, Device: device, IP: ip, CIDR: ip + "/32"}
	byDevice := map[string]*structs.NodeNetworkResource{}
	var order []string
	addAddr := func(dev string, a structs.NodeNetworkAddress) {
		nn := byDevice[dev]
		if nn == nil {
			nn = &structs.NodeNetworkResource{Mode: structs.NetworkModeHost, Device: dev}
			if iface, err := net.InterfaceByName(dev); err == nil {
				nn.MacAddress = iface.HardwareAddr.String()
			}
			byDevice[dev] = nn
			order = append(order, dev)
		}
		nn.Addresses = append(nn.Addresses, a)
	}
	addAddr(device, structs.NodeNetworkAddress{Family: "ipv4", Alias: structs.DefaultHostNetwork, Address: ip})
	for _, hn := range hostNets {
		addr, dev, err := hostNetworkAddress(hn)
		if err != nil {
			return nil, nil, fmt.Errorf("host_network %q: %w", hn.Name, err)
		}
		if addr == "" {
			continue
		}
		if _, err := structs.ParsePortSpec(hn.ReservedPorts); err != nil {
			return nil, nil, fmt.Errorf("host_network %q: %w", hn.Name, err)
		}
		addAddr(dev, structs.NodeNetworkAddress{Family: "ipv4", Alias: hn.Name, Address: addr, ReservedPorts: hn.ReservedPorts})
	}
	nns := make([]*structs.NodeNetworkResource, 0, len(order))
	for _, d := range order {
		nns = append(nns, byDevice[d])
	}
	return []*structs.NetworkResource{def}, nns, nil
}

// hostNetworkAddress finds the first IPv4 address of the node that lies
// in hn.CIDR (when set) on hn.Interface (when set), or "" when none does.
func hostNetworkAddress(hn HostNetwork) (addr, device string, err error) {
	var cidr *net.IPNet
	if hn.CIDR != "" {
		if _, cidr, err = net.ParseCIDR(hn.CIDR); err != nil {
			return "", "", fmt.Errorf("cidr: %w", err)
		}
	}
	if hn.CIDR == "" && hn.Interface == "" {
		return "", "", fmt.Errorf("needs a cidr or an interface")
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", "", fmt.Errorf("list interfaces: %w", err)
	}
	for _, iface := range ifaces {
		if hn.Interface != "" && iface.Name != hn.Interface {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil || (cidr != nil && !cidr.Contains(ipn.IP)) {
				continue
			}
			return ipn.IP.String(), iface.Name, nil
		}
	}
	return "", "", nil
}

func interfaceIPv4(name string) (string, error) {
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return "", err
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return "", fmt.Errorf("addresses: %w", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			return ipn.IP.String(), nil
		}
	}
	return "", fmt.Errorf("no IPv4 address")
}

// defaultRouteInterface reads /proc/net/route for the 0.0.0.0/0 entry.
func defaultRouteInterface(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 8 && fields[1] == "00000000" && fields[7] == "00000000" {
			return fields[0]
		}
	}
	return ""
}
