// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package structs

// Interactive operations the servers relay to a client over a client
// stream (`alloc exec`, `alloc fs`). The server writes a
// ClientStreamRequest whose Method is one of the constants below and
// AllocID the allocation; the client answers a ClientStreamHeader (an
// error when it does not run the allocation). Then:
//
//   - exec: the server sends a ClientExecRequest, then ClientExecInput
//     frames; the client sends ClientExecOutput frames, the last one with
//     Exited (and the exit code) or Error set. All frames are msgpack.
//   - file system: the server sends a ClientFSRequest; the client answers
//     a second ClientStreamHeader with the request's outcome and, when it
//     is empty, the HTTP body exactly as the agent serving the allocation
//     would write it (JSON for List and Stat, raw bytes for Cat and
//     ReadAt, JSON frames for Stream) until it closes the stream.

// Client stream methods of exec and the allocation file system.
const (
	ClientStreamAllocExec = "Alloc.Exec"
	ClientStreamFSList    = "FileSystem.List"
	ClientStreamFSStat    = "FileSystem.Stat"
	ClientStreamFSCat     = "FileSystem.Cat"
	ClientStreamFSReadAt  = "FileSystem.ReadAt"
	ClientStreamFSStream  = "FileSystem.Stream"
)

// IsClientFSMethod reports whether method is a file system stream method.
func IsClientFSMethod(method string) bool {
	switch method {
	case ClientStreamFSList, ClientStreamFSStat, ClientStreamFSCat, ClientStreamFSReadAt, ClientStreamFSStream:
		return true
	}
	return false
}

// ClientExecRequest names the command to run in a task of the allocation.
type ClientExecRequest struct {
	Task    string
	Command []string
	Tty     bool
}

// ClientExecInput is one frame from the caller of an exec session: data
// for the command's stdin, the end of stdin, or (Resize) a new terminal
// size. An empty frame is a heartbeat.
type ClientExecInput struct {
	Stdin      []byte
	StdinClose bool
	Resize     bool
	Height     uint16
	Width      uint16
}

// ClientExecOutput is one frame to the caller of an exec session: output,
// or the end of the session: the command's exit code (Exited) or why it
// could not run (Error).
type ClientExecOutput struct {
	Stdout   []byte
	Stderr   []byte
	Exited   bool
	ExitCode int
	Error    string
}

// ClientFSRequest is a file system request on the allocation directory:
// Path is relative to it; Offset and Limit serve ReadAt, Offset, Origin
// ("start" or "end") and Follow serve Stream.
type ClientFSRequest struct {
	Path   string
	Offset int64
	Limit  int64
	Origin string
	Follow bool
}
