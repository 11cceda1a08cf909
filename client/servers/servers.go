// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

// Package servers is the client's RPC connection to the control plane: it
// implements client.Servers over net/rpc with msgpack bodies on the
// servers' RPC port, failing over between the configured servers.
package servers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/droverhq/drover/structs"
)

// rpcProtocolMsgpack is the first byte of an RPC connection (see the
// server's RPC listener).
const rpcProtocolMsgpack byte = 0x01

// dialTimeout bounds connecting to one server.
const dialTimeout = 5 * time.Second

// Client calls the servers over RPC.
type Client struct {
	logger hclog.Logger

	mu      sync.Mutex
	servers []string
	next    int
	conn    *rpc.Client
	addr    string
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
		if _, err := conn.Write([]byte{rpcProtocolMsgpack}); err != nil {
			conn.Close()
			errs = append(errs, err)
			continue
		}
		c.conn = rpc.NewClientWithCodec(codec.GoRpc.ClientCodec(conn, structs.MsgpackHandle))
		c.addr = addr
		c.logger.Debug("connected to server", "addr", addr)
		return c.conn, nil
	}
	return nil, fmt.Errorf("no server reachable: %w", errors.Join(errs...))
}

// drop forgets a broken connection so the next call dials again.
func (c *Client) drop(conn *rpc.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == conn {
		c.conn.Close()
		c.conn = nil
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

// GetClientAllocs implements client.Servers.
func (c *Client) GetClientAllocs(ctx context.Context, req *structs.NodeAllocsRequest) (*structs.NodeAllocsResponse, error) {
	var resp structs.NodeAllocsResponse
	if err := c.call(ctx, "Node.GetClientAllocs", req, &resp); err != nil {
		return nil, err
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
