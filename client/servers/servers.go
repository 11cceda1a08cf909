// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package servers is the client's RPC connection to the control plane: it
// implements client.Servers over net/rpc with msgpack bodies on the
// servers' RPC port, failing over between the configured servers.
//
// The connection is one yamux session: the client's calls ride one stream,
// and the servers open further streams back to the client over the same
// connection to reach what only the client has (a task's logs), so a
// server can serve them to a user without dialling the client.
package servers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/yamux"

	"github.com/droverhq/drover/structs"
)

// First bytes of connections and streams (see the server's RPC listener).
const (
	rpcProtocolMsgpack byte = 0x01
	rpcMultiplex       byte = 0x03
	streamHello        byte = 0x05
)

// dialTimeout bounds connecting to one server.
const dialTimeout = 5 * time.Second

// Client calls the servers over RPC.
type Client struct {
	logger hclog.Logger

	mu      sync.Mutex
	servers []string
	next    int
	conn    *rpc.Client
	session *yamux.Session
	addr    string

	hello   *structs.ClientHello
	handler StreamHandler
}

// StreamHandler serves a stream a server opened to this client: it reads
// nothing more (req is decoded), writes a structs.ClientStreamHeader and
// the body to conn, and returns when done. conn is closed after it.
type StreamHandler func(req *structs.ClientStreamRequest, conn net.Conn)

// SetIdentity tells the servers, on every (re)connection, which node this
// connection belongs to, so they can stream from it.
func (c *Client) SetIdentity(nodeID, secretID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hello = &structs.ClientHello{NodeID: nodeID, SecretID: secretID}
	if c.session != nil {
		if err := c.sendHello(c.session); err != nil {
			c.logger.Warn("cannot introduce the node to its server", "error", err)
		}
	}
}

// sendHello tells the server at the other end of session which node it
// serves. Callers hold mu.
func (c *Client) sendHello(session *yamux.Session) error {
	hs, err := session.Open()
	if err != nil {
		return err
	}
	if _, err := hs.Write([]byte{streamHello}); err != nil {
		hs.Close()
		return err
	}
	if err := codec.NewEncoder(hs, structs.MsgpackHandle).Encode(c.hello); err != nil {
		hs.Close()
		return err
	}
	// The server reads the hello and closes its end.
	go func() { _, _ = io.Copy(io.Discard, hs); hs.Close() }()
	return nil
}

// SetStreamHandler sets what serves the streams servers open.
func (c *Client) SetStreamHandler(h StreamHandler) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handler = h
}

// New returns a client for the given server RPC addresses ("host:port").
func New(servers []string, logger hclog.Logger) (*Client, error) {
	if len(servers) == 0 {
		return nil, errors.New("no servers configured")
	}
	return &Client{servers: append([]string(nil), servers...), logger: logger.Named("client.rpc")}, nil
}

// SetServers replaces the server list (e.g. from a heartbeat response).
func (c *Client) SetServers(servers []string) {
	if len(servers) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.servers = append([]string(nil), servers...)
}

// Close drops the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		err := c.conn.Close()
		c.conn = nil
		if c.session != nil {
			c.session.Close()
			c.session = nil
		}
		return err
	}
	return nil
}

func (c *Client) connection(ctx context.Context) (*rpc.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		return c.conn, nil
	}
	var errs []error
	for range c.servers {
		addr := c.servers[c.next%len(c.servers)]
		c.next++
		d := net.Dialer{Timeout: dialTimeout}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rc, session, err := c.openSession(conn)
		if err != nil {
			conn.Close()
			errs = append(errs, fmt.Errorf("%s: %w", addr, err))
			continue
		}
		c.conn, c.session, c.addr = rc, session, addr
		c.logger.Debug("connected to server", "addr", addr)
		return c.conn, nil
	}
	return nil, fmt.Errorf("no server reachable: %w", errors.Join(errs...))
}

// openSession starts the yamux session on conn: the RPC stream, the hello
// stream when the node is known, and the loop accepting the servers'
// streams. Callers hold mu.
func (c *Client) openSession(conn net.Conn) (*rpc.Client, *yamux.Session, error) {
	if _, err := conn.Write([]byte{rpcMultiplex}); err != nil {
		return nil, nil, err
	}
	cfg := yamux.DefaultConfig()
	cfg.LogOutput = io.Discard
	session, err := yamux.Client(conn, cfg)
	if err != nil {
		return nil, nil, err
	}
	rpcStream, err := session.Open()
	if err != nil {
		session.Close()
		return nil, nil, err
	}
	if _, err := rpcStream.Write([]byte{rpcProtocolMsgpack}); err != nil {
		session.Close()
		return nil, nil, err
	}
	if c.hello != nil {
		if err := c.sendHello(session); err != nil {
			session.Close()
			return nil, nil, fmt.Errorf("send hello: %w", err)
		}
	}
	go c.acceptStreams(session)
	return rpc.NewClientWithCodec(codec.GoRpc.ClientCodec(structs.BufferedRPCConn(rpcStream), structs.MsgpackHandle)), session, nil
}

// acceptStreams serves the streams the server opens on session until it
// closes.
func (c *Client) acceptStreams(session *yamux.Session) {
	for {
		stream, err := session.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		handler := c.handler
		c.mu.Unlock()
		go func() {
			defer stream.Close()
			var req structs.ClientStreamRequest
			if err := codec.NewDecoder(stream, structs.MsgpackHandle).Decode(&req); err != nil {
				c.logger.Debug("bad stream request from server", "error", err)
				return
			}
			if handler == nil {
				_ = codec.NewEncoder(stream, structs.MsgpackHandle).Encode(&structs.ClientStreamHeader{
					Error: "this agent serves no streams", Code: 501,
				})
				return
			}
			handler(&req, stream)
		}()
	}
}

// drop forgets a broken connection so the next call dials again.
func (c *Client) drop(conn *rpc.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == conn {
		c.conn.Close()
		c.conn = nil
		if c.session != nil {
			c.session.Close()
			c.session = nil
		}
	}
}

// call makes one RPC, honouring ctx. A transport failure drops the
// connection (the next call tries the next server); an error the server
// returned is passed back as it is.
func (c *Client) call(ctx context.Context, method string, args, reply any) error {
	conn, err := c.connection(ctx)
	if err != nil {
		return err
	}
	call := conn.Go(method, args, reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		if call.Error == nil {
			return nil
		}
		var se rpc.ServerError
		if errors.As(call.Error, &se) {
			return fmt.Errorf("%s: %w", method, call.Error)
		}
		c.drop(conn)
		return fmt.Errorf("%s: %w", method, call.Error)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Register implements client.Servers.
func (c *Client) Register(ctx context.Context, req *structs.NodeRegisterRequest) (*structs.NodeUpdateResponse, error) {
	var resp structs.NodeUpdateResponse
	if err := c.call(ctx, "Node.Register", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// UpdateStatus implements client.Servers.
func (c *Client) UpdateStatus(ctx context.Context, req *structs.NodeUpdateStatusRequest) (*structs.NodeUpdateResponse, error) {
	var resp structs.NodeUpdateResponse
	if err := c.call(ctx, "Node.UpdateStatus", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// GetClientAllocIndexes implements client.AllocPuller: a blocking query
// of the node's allocation IDs and their AllocModifyIndex.
func (c *Client) GetClientAllocIndexes(ctx context.Context, req *structs.NodeAllocsRequest) (*structs.NodeClientAllocsResponse, error) {
	var resp structs.NodeClientAllocsResponse
	if err := c.call(ctx, "Node.GetClientAllocIndexes", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// GetAllocs implements client.AllocPuller: the allocations the client
// found changed.
func (c *Client) GetAllocs(ctx context.Context, req *structs.AllocsGetRequest) (*structs.AllocsGetResponse, error) {
	var resp structs.AllocsGetResponse
	if err := c.call(ctx, "Node.GetAllocs", req, &resp); err != nil {
		return nil, err
	}
	if err := resp.AttachJobs(); err != nil {
		return nil, fmt.Errorf("Node.GetAllocs: %w", err)
	}
	return &resp, nil
}

// UpdateAllocs implements client.Servers.
func (c *Client) UpdateAllocs(ctx context.Context, req *structs.AllocUpdateRequest) (*structs.GenericResponse, error) {
	var resp structs.GenericResponse
	if err := c.call(ctx, "Node.UpdateAlloc", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
