// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package fingerprint

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
)

// nodeAddress picks the address other machines reach this node on: loopback
// in dev mode, the named interface's first IPv4 address, else the address
// of the interface carrying the default route, else the first non-loopback
// IPv4 address of an up interface, else loopback.
func nodeAddress(opts Options) (string, error) {
	if opts.DevMode {
		return "127.0.0.1", nil
	}
	if opts.NetworkInterface != "" {
		ip, err := interfaceIPv4(opts.NetworkInterface)
		if err != nil {
			return "", fmt.Errorf("interface %q: %w", opts.NetworkInterface, err)
		}
		return ip, nil
	}
	if name := defaultRouteInterface(opts.path("/proc/net/route")); name != "" {
		if ip, err := interfaceIPv4(name); err == nil {
			return ip, nil
		}
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("list interfaces: %w", err)
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		if ip, err := interfaceIPv4(iface.Name); err == nil {
			return ip, nil
		}
	}
	return "127.0.0.1", nil
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
