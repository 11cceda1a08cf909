// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"reflect"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// MsgpackHandle is the codec for raft log entries, snapshots and RPC. Free-
// form maps (task config) decode as map[string]any, as they came in.
var MsgpackHandle = func() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	h.RawToString = true
	h.WriteExt = true
	h.MapType = reflect.TypeOf(map[string]any(nil))
	return h
}()

// Encode returns a raft log entry: the type byte, then msg as msgpack.
func Encode(t MessageType, msg any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(uint8(t))
	if err := codec.NewEncoder(&buf, MsgpackHandle).Encode(msg); err != nil {
		return nil, fmt.Errorf("encode message type %d: %w", t, err)
	}
	return buf.Bytes(), nil
}

// Decode decodes msgpack from buf into out.
func Decode(buf []byte, out any) error {
	return codec.NewDecoderBytes(buf, MsgpackHandle).Decode(out)
}

// rpcReadBuffer is the read buffer of an RPC connection.
const rpcReadBuffer = 64 << 10

// BufferedRPCConn wraps an RPC connection so the msgpack codec's many
// small reads hit a buffer, not the socket (go-msgpack's net/rpc codecs
// read unbuffered: one system call per few bytes otherwise).
func BufferedRPCConn(c io.ReadWriteCloser) io.ReadWriteCloser {
	return &bufferedReadConn{ReadWriteCloser: c, r: bufio.NewReaderSize(c, rpcReadBuffer)}
}

type bufferedReadConn struct {
	io.ReadWriteCloser
	r *bufio.Reader
}

func (b *bufferedReadConn) Read(p []byte) (int, error) { return b.r.Read(p) }
