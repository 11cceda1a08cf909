// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package simnode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"sync"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/yamux"

	"github.com/droverhq/drover/structs"
)

// First bytes on the servers' RPC port, as client/servers sends them: a
// client opens a yamux session (0x03), runs its RPC on one stream that
// starts with 0x01, and announces each node on a stream that starts with
// 0x05 (the hello), so servers can open streams back to it.
const (
	rpcMultiplex       byte = 0x03
	rpcProtocolMsgpack byte = 0x01
	streamHello        byte = 0x05
)

// conn is one multiplexed connection shared by many simulated nodes. It
// speaks what client/servers speaks (yamux, an RPC stream of net/rpc with
// structs.MsgpackHandle bodies, a hello per node) but reads the RPC stream
// through a buffer: go-msgpack's rpc codec leaves reads unbuffered when it
// wraps the writer itself, and a call per byte would make the harness, not
// the server, the bottleneck on a 2-core machine.
type conn struct {
	addr string

	mu      sync.Mutex
	rc      *rpc.Client
	session *yamux.Session
	// hellos are the nodes announced on this connection, announced
	// again on every new session as the real client does on reconnect.
	hellos []structs.ClientHello
}

// bufferedConn reads through a buffer and writes and closes the stream.
type bufferedConn struct {
	*bufio.Reader
	io.Writer
	io.Closer
}

func (c *conn) client(ctx context.Context) (*rpc.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rc != nil {
		return c.rc, nil
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, fmt.Errorf("dial server %s: %w", c.addr, err)
	}
	if _, err := nc.Write([]byte{rpcMultiplex}); err != nil {
		nc.Close()
		return nil, fmt.Errorf("rpc handshake with %s: %w", c.addr, err)
	}
	cfg := yamux.DefaultConfig()
	cfg.LogOutput = io.Discard
	session, err := yamux.Client(nc, cfg)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("yamux session with %s: %w", c.addr, err)
	}
	stream, err := session.Open()
	if err == nil {
		_, err = stream.Write([]byte{rpcProtocolMsgpack})
	}
	if err != nil {
		session.Close()
		return nil, fmt.Errorf("rpc stream to %s: %w", c.addr, err)
	}
	go refuseStreams(session)
	if len(c.hellos) > 0 {
		hellos := append([]structs.ClientHello(nil), c.hellos...)
		go func() {
			for i := range hellos {
				_ = sendHello(session, &hellos[i]) // a failure drops the session; the next call redials
			}
		}()
	}
	rw := bufferedConn{Reader: bufio.NewReaderSize(stream, 64<<10), Writer: stream, Closer: stream}
	c.rc = rpc.NewClientWithCodec(codec.GoRpc.ClientCodec(rw, structs.MsgpackHandle))
	c.session = session
	return c.rc, nil
}

// refuseStreams closes every stream a server opens to the simulated
// nodes (log and file requests): there is nothing behind them.
func refuseStreams(session *yamux.Session) {
	for {
		stream, err := session.Accept()
		if err != nil {
			return
		}
		stream.Close()
	}
}

// hello announces a node on the connection's session, as a real client
// does after it registers.
func (c *conn) hello(ctx context.Context, nodeID, secretID string) error {
	if _, err := c.client(ctx); err != nil {
		return err
	}
	h := structs.ClientHello{NodeID: nodeID, SecretID: secretID}
	c.mu.Lock()
	c.hellos = append(c.hellos, h)
	session := c.session
	c.mu.Unlock()
	if session == nil {
		return fmt.Errorf("hello for node %s: connection closed", nodeID)
	}
	return sendHello(session, &h)
}

func sendHello(session *yamux.Session, h *structs.ClientHello) error {
	hs, err := session.Open()
	if err != nil {
		return fmt.Errorf("hello for node %s: %w", h.NodeID, err)
	}
	defer hs.Close()
	if _, err := hs.Write([]byte{streamHello}); err != nil {
		return fmt.Errorf("hello for node %s: %w", h.NodeID, err)
	}
	if err := codec.NewEncoder(hs, structs.MsgpackHandle).Encode(h); err != nil {
		return fmt.Errorf("hello for node %s: %w", h.NodeID, err)
	}
	return nil
}

// drop forgets a broken connection so the next call dials again.
func (c *conn) drop(rc *rpc.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rc == rc {
		c.rc.Close()
		c.session.Close()
		c.rc, c.session = nil, nil
	}
}

func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rc != nil {
		c.rc.Close()
		c.session.Close()
		c.rc, c.session = nil, nil
	}
}

// call makes one RPC, honouring ctx; a transport failure drops the
// connection, an error the server returned is passed back.
func (c *conn) call(ctx context.Context, method string, args, reply any) error {
	rc, err := c.client(ctx)
	if err != nil {
		return err
	}
	call := rc.Go(method, args, reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		if call.Error == nil {
			return nil
		}
		var se rpc.ServerError
		if !errors.As(call.Error, &se) {
			c.drop(rc)
		}
		return fmt.Errorf("%s: %w", method, call.Error)
	case <-ctx.Done():
		return ctx.Err()
	}
}
