// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/yamux"

	"github.com/droverhq/drover/structs"
)

// A client keeps one multiplexed (yamux) connection to a server. Its RPC
// calls ride one stream; the server opens further streams back over the
// same connection to reach what only the client has, such as a task's log
// files, so the servers never dial clients. Any server can reach any
// client: a server without the node's connection asks the others to
// bridge a stream to it.

// More first bytes of connections and streams on the RPC port.
const (
	rpcMultiplex          byte = 0x03
	rpcClientStreamBridge byte = 0x06
	streamHello           byte = 0x05
)

// clientConnTimeout bounds opening a stream to a client and reading its
// answer's header.
const clientConnTimeout = 10 * time.Second

// errNotConnectedHere is what a server answers a bridge request for a node
// whose connection it does not hold.
var errNotConnectedHere = errors.New("node is not connected to this server")

type clientSession struct {
	session  *yamux.Session
	secretID string
}

// clientConns maps node IDs to their live multiplexed connections here.
type clientConns struct {
	mu    sync.Mutex
	nodes map[string]*clientSession
}

func (c *clientConns) add(hello *structs.ClientHello, session *yamux.Session) {
	c.mu.Lock()
	if c.nodes == nil {
		c.nodes = map[string]*clientSession{}
	}
	c.nodes[hello.NodeID] = &clientSession{session: session, secretID: hello.SecretID}
	c.mu.Unlock()
	go func() {
		<-session.CloseChan()
		c.mu.Lock()
		defer c.mu.Unlock()
		if cs, ok := c.nodes[hello.NodeID]; ok && cs.session == session {
			delete(c.nodes, hello.NodeID)
		}
	}()
}

func (c *clientConns) get(nodeID string) *clientSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[nodeID]
}

// serveMultiplex serves a client's yamux session: the RPC stream, hello
// streams, and nothing else (streams to the client are opened by us).
func (s *Server) serveMultiplex(conn net.Conn) {
	cfg := yamux.DefaultConfig()
	cfg.LogOutput = io.Discard
	session, err := yamux.Server(conn, cfg)
	if err != nil {
		conn.Close()
		return
	}
	go func() {
		<-s.ctx.Done()
		session.Close()
	}()
	for {
		stream, err := session.Accept()
		if err != nil {
			return
		}
		go s.serveClientStream(session, stream)
	}
}

func (s *Server) serveClientStream(session *yamux.Session, stream net.Conn) {
	var first [1]byte
	if _, err := io.ReadFull(stream, first[:]); err != nil {
		stream.Close()
		return
	}
	switch first[0] {
	case RPCProtocolMsgpack:
		s.rpcServer.srv.ServeCodec(codec.GoRpc.ServerCodec(structs.BufferedRPCConn(stream), structs.MsgpackHandle))
	case streamHello:
		var hello structs.ClientHello
		err := codec.NewDecoder(stream, structs.MsgpackHandle).Decode(&hello)
		stream.Close()
		if err != nil || hello.NodeID == "" {
			s.logger.Debug("bad client hello", "error", err)
			return
		}
		s.clientConns.add(&hello, session)
	default:
		s.logger.Warn("unknown client stream type", "byte", first[0])
		stream.Close()
	}
}

// ClientStream opens a stream to the node's client, sends req and reads
// the client's answer header. On success the caller reads the body from
// the returned connection and closes it. The node's connection may be on
// another server: then one of them bridges the stream.
func (s *Server) ClientStream(ctx context.Context, nodeID string, req *structs.ClientStreamRequest) (net.Conn, *structs.ClientStreamHeader, error) {
	conn, hdr, err := s.localClientStream(nodeID, req)
	if !errors.Is(err, errNotConnectedHere) {
		return conn, hdr, err
	}
	for _, m := range s.Members() {
		if m.RPCAddr == s.RPCAddr() || m.Status != MemberAlive {
			continue
		}
		conn, hdr, err := s.bridgedClientStream(ctx, m.RPCAddr, nodeID, req)
		if errors.Is(err, errNotConnectedHere) {
			continue
		}
		return conn, hdr, err
	}
	return nil, nil, fmt.Errorf("node %s is not connected to any server", nodeID)
}

// localClientStream opens the stream on this server's connection to the
// node, after checking that the connection really is the node's.
func (s *Server) localClientStream(nodeID string, req *structs.ClientStreamRequest) (net.Conn, *structs.ClientStreamHeader, error) {
	cs := s.clientConns.get(nodeID)
	if cs == nil {
		return nil, nil, errNotConnectedHere
	}
	node, err := s.state.Snapshot().NodeByID(nodeID)
	if err != nil {
		return nil, nil, err
	}
	if node == nil || node.SecretID != cs.secretID {
		return nil, nil, fmt.Errorf("node %s: its connection did not prove the node's identity", nodeID)
	}
	stream, err := cs.session.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open stream to node %s: %w", nodeID, err)
	}
	hdr, err := exchangeHeader(stream, req)
	if err != nil {
		stream.Close()
		return nil, nil, fmt.Errorf("stream to node %s: %w", nodeID, err)
	}
	return stream, hdr, nil
}

// exchangeHeader writes req on conn and reads the answer's header.
func exchangeHeader(conn net.Conn, req any) (*structs.ClientStreamHeader, error) {
	_ = conn.SetDeadline(time.Now().Add(clientConnTimeout))
	if err := codec.NewEncoder(conn, structs.MsgpackHandle).Encode(req); err != nil {
		return nil, err
	}
	var hdr structs.ClientStreamHeader
	if err := decodeOne(conn, &hdr); err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return &hdr, nil
}

// decodeOne decodes exactly one msgpack value from conn without reading
// past it: the body that follows belongs to the caller.
func decodeOne(conn net.Conn, out any) error {
	return codec.NewDecoder(&byteReader{r: conn}, structs.MsgpackHandle).Decode(out)
}

// byteReader reads one byte at a time, so a decoder never buffers bytes
// past the value it decodes.
type byteReader struct{ r io.Reader }

func (b *byteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return b.r.Read(p[:1])
}

// bridgeRequest asks another server to bridge a stream to a node.
type bridgeRequest struct {
	NodeID  string
	Request *structs.ClientStreamRequest
}

func (s *Server) bridgedClientStream(ctx context.Context, addr, nodeID string, req *structs.ClientStreamRequest) (net.Conn, *structs.ClientStreamHeader, error) {
	d := net.Dialer{Timeout: clientConnTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, errNotConnectedHere
	}
	if _, err := conn.Write([]byte{rpcClientStreamBridge}); err != nil {
		conn.Close()
		return nil, nil, errNotConnectedHere
	}
	hdr, err := exchangeHeader(conn, &bridgeRequest{NodeID: nodeID, Request: req})
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("bridge through %s: %w", addr, err)
	}
	if hdr.Error == errNotConnectedHere.Error() {
		conn.Close()
		return nil, nil, errNotConnectedHere
	}
	return conn, hdr, nil
}

// serveBridge answers another server's bridge request: it opens the stream
// to the node over its connection here and copies bytes both ways.
func (s *Server) serveBridge(conn net.Conn) {
	defer conn.Close()
	var br bridgeRequest
	if err := decodeOne(conn, &br); err != nil || br.Request == nil {
		return
	}
	stream, hdr, err := s.localClientStream(br.NodeID, br.Request)
	enc := codec.NewEncoder(conn, structs.MsgpackHandle)
	if err != nil {
		_ = enc.Encode(&structs.ClientStreamHeader{Error: err.Error(), Code: 404})
		return
	}
	defer stream.Close()
	if err := enc.Encode(hdr); err != nil || hdr.Error != "" {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(conn, stream); done <- struct{}{} }()
	go func() { _, _ = io.Copy(stream, conn); done <- struct{}{} }()
	<-done
}
