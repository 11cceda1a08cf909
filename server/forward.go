// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"sync"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/droverhq/drover/structs"
)

// This file is the forwarding prologue of every write endpoint: a server
// that is not the leader sends the call, unchanged, to the leader's RPC
// address over a pooled connection, and waits out short leaderless gaps
// (elections) before giving up.

const (
	// rpcHoldTimeout is how long a call waits for a leader to appear (or
	// for a broken connection to the leader to be replaced).
	rpcHoldTimeout = 7 * time.Second
	// rpcHoldPoll is the pause between two looks for a leader.
	rpcHoldPoll = 50 * time.Millisecond
	// rpcCallTimeout bounds one forwarded call; the longest legitimate
	// call is an eval dequeue long poll (evalDequeueWait).
	rpcCallTimeout = time.Minute
	// poolDialTimeout bounds connecting to another server.
	poolDialTimeout = 3 * time.Second
)

// forward runs method on the leader when this server is not the leader.
// done reports whether it did (err is then the call's result); when done
// is false the caller is the leader and handles the request itself.
func (s *Server) forward(method string, args, reply any) (done bool, err error) {
	deadline := time.Now().Add(rpcHoldTimeout)
	var lastErr error
	for {
		if s.IsLeader() {
			return false, nil
		}
		if leader := s.Leader(); leader != "" && leader != s.RPCAddr() {
			ctx, cancel := context.WithTimeout(s.ctx, rpcCallTimeout)
			err := s.pool.call(ctx, leader, method, args, reply)
			cancel()
			if err == nil || !isTransportError(err) {
				return true, err
			}
			lastErr = fmt.Errorf("forward %s to leader %s: %w", method, leader, err)
		}
		if time.Now().After(deadline) {
			if lastErr != nil {
				return true, lastErr
			}
			return true, fmt.Errorf("%s: %w", method, errNotLeader)
		}
		select {
		case <-time.After(rpcHoldPoll):
		case <-s.ctx.Done():
			return true, fmt.Errorf("%s: server shutting down", method)
		}
	}
}

// isTransportError tells connection failures (worth retrying on another
// connection) from errors the remote endpoint returned.
func isTransportError(err error) bool {
	var se rpc.ServerError
	return !errors.As(err, &se)
}

// connPool keeps one multiplexed net/rpc connection per server address;
// net/rpc runs concurrent calls over one connection.
type connPool struct {
	mu     sync.Mutex
	conns  map[string]*rpc.Client
	closed bool
}

func newConnPool() *connPool { return &connPool{conns: map[string]*rpc.Client{}} }

func (p *connPool) get(ctx context.Context, addr string) (*rpc.Client, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("connection pool closed")
	}
	if c, ok := p.conns[addr]; ok {
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()

	d := net.Dialer{Timeout: poolDialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial server %s: %w", addr, err)
	}
	if _, err := conn.Write([]byte{RPCProtocolMsgpack}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("write protocol byte to %s: %w", addr, err)
	}
	c := rpc.NewClientWithCodec(codec.GoRpc.ClientCodec(structs.BufferedRPCConn(conn), structs.MsgpackHandle))
	p.mu.Lock()
	defer p.mu.Unlock()
	if existing, ok := p.conns[addr]; ok {
		c.Close()
		return existing, nil
	}
	if p.closed {
		c.Close()
		return nil, errors.New("connection pool closed")
	}
	p.conns[addr] = c
	return c, nil
}

// call makes one RPC to addr. A transport error drops the connection so
// the next call dials again.
func (p *connPool) call(ctx context.Context, addr, method string, args, reply any) error {
	c, err := p.get(ctx, addr)
	if err != nil {
		return err
	}
	call := c.Go(method, args, reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		if call.Error != nil && isTransportError(call.Error) {
			p.drop(addr, c)
		}
		return call.Error
	case <-ctx.Done():
		// The connection may be stuck (a partitioned peer): drop it.
		p.drop(addr, c)
		return ctx.Err()
	}
}

func (p *connPool) drop(addr string, c *rpc.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[addr] == c {
		delete(p.conns, addr)
	}
	c.Close()
}

func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, c := range p.conns {
		c.Close()
		delete(p.conns, addr)
	}
}
