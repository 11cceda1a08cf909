// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

import (
	"bufio"
	"fmt"
	"io"
	"reflect"
	"sync"

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
// It encodes into a reused scratch buffer and returns an exact-size copy:
// a plan's entry runs to megabytes, and growing a fresh buffer to that
// size by doubling made three times its size in garbage per entry.
func Encode(t MessageType, msg any) ([]byte, error) {
	scratch := encodeScratch.Get().(*[]byte)
	b := (*scratch)[:0]
	err := codec.NewEncoderBytes(&b, MsgpackHandle).Encode(msg)
	var out []byte
	if err == nil {
		out = make([]byte, 1+len(b))
		out[0] = uint8(t)
		copy(out[1:], b)
	}
	if cap(b) <= maxEncodeScratch {
		*scratch = b
		encodeScratch.Put(scratch)
	}
	if err != nil {
		return nil, fmt.Errorf("encode message type %d: %w", t, err)
	}
	return out, nil
}

// maxEncodeScratch bounds the scratch buffers Encode keeps for reuse.
const maxEncodeScratch = 16 << 20

var encodeScratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

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

// codecOmitEmpty, as the type of a field named _struct, makes go-msgpack
// leave every zero field of the struct out of its encoding. Allocations
// and their parts cross raft, snapshots and RPC by the million, and most
// of their fields are empty when placed: each empty field would cost its
// name on the wire and a lookup when decoded. Decoding always starts from
// a zero value here, so an absent field decodes as it was sent, except
// that an empty map or slice comes back nil. Being zero-sized and first,
// the field adds nothing to the struct.
type codecOmitEmpty struct{}
