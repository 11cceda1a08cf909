// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/droverhq/drover/structs"
)

// The first byte of a connection to the RPC port says what it carries.
const (
	// RPCProtocolMsgpack is net/rpc with msgpack bodies (clients, CLI
	// forwarding).
	RPCProtocolMsgpack byte = 0x01
	rpcRaft            byte = 0x02
)

type rpcServer struct {
	srv *rpc.Server
}

// startRPC binds the RPC port and registers the endpoints; serveRPC
// serves it.
func (s *Server) startRPC() error {
	ln, err := net.Listen("tcp", s.cfg.RPCAddr)
	if err != nil {
		return fmt.Errorf("listen for RPC on %s: %w", s.cfg.RPCAddr, err)
	}
	s.rpcListener = ln
	adv, err := advertiseAddr("rpc", s.cfg.RPCAdvertise, ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	advTCP, err := net.ResolveTCPAddr("tcp", adv)
	if err != nil {
		ln.Close()
		return fmt.Errorf("advertise address for rpc %q: %w", adv, err)
	}
	s.rpcAdvertise = adv
	// Raft's address is the advertised RPC address: it is what peers dial
	// and what the leader's address (used for forwarding) resolves to.
	s.raftLayer = newRaftLayer(advTCP)
	srv := rpc.NewServer()
	endpoints := map[string]any{
		"Node":     &NodeEndpoint{srv: s},
		"Job":      &JobEndpoint{srv: s},
		"Eval":     &EvalEndpoint{srv: s},
		"Plan":     &PlanEndpoint{srv: s},
		"Operator": &OperatorEndpoint{srv: s},
		"Status":   &StatusEndpoint{srv: s},
		"Alloc":    &AllocEndpoint{srv: s},
		"NodePool": &NodePoolEndpoint{srv: s},
	}
	for name, e := range endpoints {
		if err := srv.RegisterName(name, e); err != nil {
			ln.Close()
			return fmt.Errorf("register %s endpoint: %w", name, err)
		}
	}
	s.rpcServer = &rpcServer{srv: srv}
	// Connections are accepted only once raft is set up (serveRPC): the
	// endpoints need it, and raft's own connections wait in the listener.
	return nil
}

// serveRPC starts accepting connections on the RPC port.
func (s *Server) serveRPC() {
	s.wg.Add(1)
	go s.acceptRPC()
}

func (s *Server) acceptRPC() {
	defer s.wg.Done()
	for {
		conn, err := s.rpcListener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			s.logger.Error("accept RPC connection", "error", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		go s.handleConn(conn)
	}
}

func (s *Server) handleConn(conn net.Conn) {
	var first [1]byte
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(first[:]); err != nil {
		conn.Close()
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	switch first[0] {
	case RPCProtocolMsgpack:
		s.rpcServer.srv.ServeCodec(codec.GoRpc.ServerCodec(structs.BufferedRPCConn(conn), structs.MsgpackHandle))
	case rpcRaft:
		s.raftLayer.handoff(s.ctx, conn)
	case rpcMultiplex:
		s.serveMultiplex(conn)
	case rpcClientStreamBridge:
		s.serveBridge(conn)
	default:
		s.logger.Warn("unknown RPC protocol byte", "byte", first[0], "remote", conn.RemoteAddr())
		conn.Close()
	}
}

// advertiseAddr picks the address other agents reach a listener at: the
// configured one (a missing port means the bound port), else the bound
// address, else, when bound to 0.0.0.0 or ::, the host's first private
// IPv4 address, as Nomad does. An unspecified advertise IP is refused:
// peers would dial themselves.
func advertiseAddr(what, configured string, bound net.Addr) (string, error) {
	_, boundPort, err := net.SplitHostPort(bound.String())
	if err != nil {
		return "", fmt.Errorf("%s listener address %s: %w", what, bound, err)
	}
	if configured != "" {
		host, port, err := net.SplitHostPort(configured)
		if err != nil {
			host, port = configured, boundPort
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			return "", fmt.Errorf("advertise address for %s is %s: an unspecified address cannot be reached by other servers; set advertise { %s = \"<reachable IP>\" }", what, configured, what)
		}
		return net.JoinHostPort(host, port), nil
	}
	host, _, _ := net.SplitHostPort(bound.String())
	if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
		return bound.String(), nil
	}
	ip, err := privateIP()
	if err != nil {
		return "", fmt.Errorf("%s is bound to %s and no advertise address is set: %w; set advertise { %s = \"<reachable IP>\" }", what, bound, err, what)
	}
	return net.JoinHostPort(ip.String(), boundPort), nil
}

// privateIP returns the host's first private (RFC 1918) IPv4 address, or
// its first global unicast IPv4 address when it has no private one.
func privateIP() (net.IP, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list interface addresses: %w", err)
	}
	var global net.IP
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.To4() == nil || !ipn.IP.IsGlobalUnicast() {
			continue
		}
		if ipn.IP.IsPrivate() {
			return ipn.IP, nil
		}
		if global == nil {
			global = ipn.IP
		}
	}
	if global == nil {
		return nil, errors.New("the host has no routable IPv4 address")
	}
	return global, nil
}
