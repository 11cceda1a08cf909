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

// startRPC binds the RPC port, registers the endpoints and serves it.
func (s *Server) startRPC() error {
	ln, err := net.Listen("tcp", s.cfg.RPCAddr)
	if err != nil {
		return fmt.Errorf("listen for RPC on %s: %w", s.cfg.RPCAddr, err)
	}
	s.rpcListener = ln
	s.raftLayer = newRaftLayer(ln.Addr())
	srv := rpc.NewServer()
	if err := srv.RegisterName("Node", &NodeEndpoint{srv: s}); err != nil {
		ln.Close()
		return fmt.Errorf("register Node endpoint: %w", err)
	}
	s.rpcServer = &rpcServer{srv: srv}
	s.wg.Add(1)
	go s.acceptRPC()
	return nil
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
		s.rpcServer.srv.ServeCodec(codec.GoRpc.ServerCodec(conn, structs.MsgpackHandle))
	case rpcRaft:
		s.raftLayer.handoff(s.ctx, conn)
	default:
		s.logger.Warn("unknown RPC protocol byte", "byte", first[0], "remote", conn.RemoteAddr())
		conn.Close()
	}
}
