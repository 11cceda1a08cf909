// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/droverhq/drover/client"
	"github.com/droverhq/drover/client/allocrunner/taskrunner"
	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// This file serves `alloc exec`: GET /v1/client/allocation/:id/exec
// ?task=&tty=&command=["..."], upgraded to a websocket that carries
// Nomad's JSON frames: {"stdin": {"data", "close"}} and {"tty_size":
// {"height", "width"}} from the caller; {"stdout"|"stderr": {"data"}}
// then {"exited": true, "result": {"exit_code"}} to it. A failure after
// the upgrade closes the websocket with the error as the close reason,
// which Nomad's client returns as the error. An allocation of this
// agent's client runs the command here; any other is relayed through the
// servers to its client as msgpack frames (structs/clientops_stream.go).

// AllocExecer runs commands inside the tasks of allocations this agent's
// client runs (client.Client implements it).
type AllocExecer interface {
	ExecAlloc(ctx context.Context, allocID, task string, cmd []string, tty bool,
		stdin io.Reader, stdout, stderr io.Writer, resize <-chan plugins.TerminalSize) (int, error)
}

// maxCloseReason is what fits in a websocket close frame after its code.
const maxCloseReason = 123

// execUpgrader upgrades exec requests. Its default origin check refuses
// cross-site browser pages: a shell must not be one link away.
var execUpgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}

// execIOOp, execTTYSize, execInput, execResult and execOutput are the
// JSON frames of Nomad's exec websocket.
type execIOOp struct {
	Data  []byte `json:"data,omitempty"`
	Close bool   `json:"close,omitempty"`
}

type execTTYSize struct {
	Height int `json:"height,omitempty"`
	Width  int `json:"width,omitempty"`
}

type execInput struct {
	Stdin   *execIOOp    `json:"stdin,omitempty"`
	TTYSize *execTTYSize `json:"tty_size,omitempty"`
}

type execResult struct {
	ExitCode int `json:"exit_code"`
}

type execOutput struct {
	Stdout *execIOOp   `json:"stdout,omitempty"`
	Stderr *execIOOp   `json:"stderr,omitempty"`
	Exited bool        `json:"exited,omitempty"`
	Result *execResult `json:"result,omitempty"`
}

// execQuery reads and checks the query of an exec request.
func execQuery(r *http.Request) (*structs.ClientExecRequest, error) {
	q := r.URL.Query()
	req := &structs.ClientExecRequest{Task: q.Get("task")}
	if req.Task == "" {
		return nil, errorf(http.StatusBadRequest, "missing task name")
	}
	if v := q.Get("tty"); v != "" {
		tty, err := strconv.ParseBool(v)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid tty %q", v)
		}
		req.Tty = tty
	}
	raw := q.Get("command")
	if raw == "" {
		return nil, errorf(http.StatusBadRequest, "missing command")
	}
	if err := json.Unmarshal([]byte(raw), &req.Command); err != nil {
		return nil, errorf(http.StatusBadRequest, "command must be a JSON array of strings: %v", err)
	}
	if len(req.Command) == 0 || req.Command[0] == "" {
		return nil, errorf(http.StatusBadRequest, "command is empty")
	}
	return req, nil
}

// allocExec serves the exec websocket. Everything that can be checked
// before the upgrade is answered with a plain HTTP error.
func (h *HTTPServer) allocExec(w http.ResponseWriter, r *http.Request) {
	h.setClusterHeaders(w)
	if err := h.serveAllocExec(w, r); err != nil {
		code := http.StatusInternalServerError
		var he *httpError
		if errors.As(err, &he) {
			code = he.code
		}
		http.Error(w, err.Error(), code)
	}
}

func (h *HTTPServer) serveAllocExec(w http.ResponseWriter, r *http.Request) error {
	req, err := execQuery(r)
	if err != nil {
		return err
	}
	allocID := r.PathValue("id")
	if ex, ok := h.allocs.(AllocExecer); ok {
		if _, local := h.allocs.AllocDir(allocID); local {
			ws, err := execUpgrader.Upgrade(w, r, nil)
			if err != nil {
				return nil // the upgrader answered the caller
			}
			h.localExec(r.Context(), newExecSocket(ws), ex, allocID, req)
			return nil
		}
	}
	if h.srv == nil {
		return errorf(http.StatusNotFound, "unknown allocation %q on this node", allocID)
	}
	alloc, err := h.srv.State().Snapshot().AllocByID(allocID)
	if err != nil {
		return err
	}
	if alloc == nil {
		return notFound("alloc")
	}
	if alloc.ClientTerminalStatus() {
		return errorf(http.StatusBadRequest, "allocation %q is not running", allocID)
	}
	if alloc.Job != nil {
		if tg := alloc.Job.LookupTaskGroup(alloc.TaskGroup); tg != nil && tg.LookupTask(req.Task) == nil {
			return errorf(http.StatusBadRequest, "unknown task name %q", req.Task)
		}
	}
	conn, hdr, err := h.srv.ClientStream(r.Context(), alloc.NodeID, &structs.ClientStreamRequest{
		Method: structs.ClientStreamAllocExec, AllocID: allocID, Task: req.Task})
	if err != nil {
		return errorf(http.StatusBadGateway, "exec on node %s: %v", alloc.NodeID, err)
	}
	defer conn.Close()
	if err := headerError(hdr); err != nil {
		return err
	}
	ws, err := execUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil
	}
	h.relayExec(newExecSocket(ws), conn, alloc.NodeID, req)
	return nil
}

// execSocket is the caller's websocket: one writer at a time, and the
// ending of the session (exit code or error) sent once.
type execSocket struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	done bool
}

func newExecSocket(ws *websocket.Conn) *execSocket { return &execSocket{ws: ws} }

func (s *execSocket) send(out *execOutput) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return errors.New("exec session ended")
	}
	return s.ws.WriteJSON(out)
}

// writer returns the command's stdout or stderr as frames.
func (s *execSocket) writer(stderr bool) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		op := &execIOOp{Data: p}
		out := &execOutput{Stdout: op}
		if stderr {
			out = &execOutput{Stderr: op}
		}
		if err := s.send(out); err != nil {
			return 0, err
		}
		return len(p), nil
	})
}

// finish sends the exit code, or the error, and closes the websocket.
func (s *execSocket) finish(code int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	if err == nil {
		_ = s.ws.WriteJSON(&execOutput{Exited: true, Result: &execResult{ExitCode: code}})
		_ = s.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	} else {
		reason := err.Error()
		if len(reason) > maxCloseReason {
			reason = reason[:maxCloseReason]
		}
		_ = s.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, reason))
	}
	_ = s.ws.Close()
}

// readInputs calls handle with each frame from the caller until the
// websocket fails or closes, or handle fails.
func (s *execSocket) readInputs(handle func(*execInput) error) error {
	for {
		var in execInput
		if err := s.ws.ReadJSON(&in); err != nil {
			return err
		}
		if err := handle(&in); err != nil {
			return err
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// execPipes feed a command run on this agent's client: stdin through a
// pipe, terminal sizes through a channel.
type execPipes struct {
	stdinR *io.PipeReader
	stdinW *io.PipeWriter
	resize chan plugins.TerminalSize
}

func newExecPipes() *execPipes {
	r, w := io.Pipe()
	return &execPipes{stdinR: r, stdinW: w, resize: make(chan plugins.TerminalSize, 8)}
}

// input routes one input: data blocks until the command reads it (or the
// session ends); a terminal size is dropped when sizes pile up unread.
func (p *execPipes) input(data []byte, closeStdin bool, size *plugins.TerminalSize) error {
	if len(data) > 0 {
		if _, err := p.stdinW.Write(data); err != nil {
			return err
		}
	}
	if closeStdin {
		_ = p.stdinW.Close()
	}
	if size != nil {
		select {
		case p.resize <- *size:
		default:
		}
	}
	return nil
}

// end releases whoever still writes stdin.
func (p *execPipes) end() { _ = p.stdinR.Close() }

// localExec runs the command on this agent's client.
func (h *HTTPServer) localExec(ctx context.Context, s *execSocket, ex AllocExecer, allocID string, req *structs.ClientExecRequest) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pipes := newExecPipes()
	defer pipes.end()
	go func() {
		err := s.readInputs(func(in *execInput) error {
			data, closeStdin, size := fromExecInput(in)
			return pipes.input(data, closeStdin, size)
		})
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) && !errors.Is(err, io.ErrClosedPipe) {
			// The caller went away: stop the command.
			cancel()
		}
		pipes.stdinW.CloseWithError(err)
	}()
	code, err := ex.ExecAlloc(ctx, allocID, req.Task, req.Command, req.Tty, pipes.stdinR,
		s.writer(false), s.writer(true), pipes.resize)
	if err != nil {
		h.logger.Debug("exec ended with an error", "alloc_id", allocID, "task", req.Task, "error", err)
	}
	s.finish(code, execError(err))
}

func fromExecInput(in *execInput) (data []byte, closeStdin bool, size *plugins.TerminalSize) {
	if in.Stdin != nil {
		data, closeStdin = in.Stdin.Data, in.Stdin.Close
	}
	if in.TTYSize != nil && in.TTYSize.Height > 0 && in.TTYSize.Width > 0 {
		size = &plugins.TerminalSize{Height: clampUint16(in.TTYSize.Height), Width: clampUint16(in.TTYSize.Width)}
	}
	return data, closeStdin, size
}

func clampUint16(n int) uint16 {
	return uint16(min(max(n, 0), 0xffff))
}

// execError words an exec failure for the caller; nil stays nil.
func execError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, client.ErrUnknownAlloc), errors.Is(err, client.ErrUnknownTask),
		errors.Is(err, taskrunner.ErrTaskNotRunning), errors.Is(err, taskrunner.ErrExecUnsupported):
		return err
	default:
		return fmt.Errorf("exec failed: %w", err)
	}
}

// relayExec carries an exec session between the caller's websocket and
// the allocation's client.
func (h *HTTPServer) relayExec(s *execSocket, conn io.ReadWriteCloser, nodeID string, req *structs.ClientExecRequest) {
	enc := codec.NewEncoder(conn, structs.MsgpackHandle)
	if err := enc.Encode(req); err != nil {
		s.finish(0, fmt.Errorf("exec on node %s: send request: %w", nodeID, err))
		return
	}
	go func() {
		err := s.readInputs(func(in *execInput) error {
			data, closeStdin, size := fromExecInput(in)
			frame := &structs.ClientExecInput{Stdin: data, StdinClose: closeStdin}
			if size != nil {
				frame.Resize, frame.Height, frame.Width = true, size.Height, size.Width
			}
			if len(frame.Stdin) == 0 && !frame.StdinClose && !frame.Resize {
				return nil // a heartbeat: the stream to the client needs none
			}
			return enc.Encode(frame)
		})
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			conn.Close() // the caller went away: the client stops the command
		}
	}()
	dec := codec.NewDecoder(conn, structs.MsgpackHandle)
	for {
		var out structs.ClientExecOutput
		if err := dec.Decode(&out); err != nil {
			s.finish(0, fmt.Errorf("exec on node %s: connection to the client lost: %w", nodeID, err))
			return
		}
		switch {
		case out.Error != "":
			s.finish(0, errors.New(out.Error))
			return
		case out.Exited:
			s.finish(out.ExitCode, nil)
			return
		case len(out.Stdout) > 0:
			_ = s.send(&execOutput{Stdout: &execIOOp{Data: out.Stdout}})
		case len(out.Stderr) > 0:
			_ = s.send(&execOutput{Stderr: &execIOOp{Data: out.Stderr}})
		}
	}
}

// serveClientExec runs an exec session a server relays to this agent's
// client.
func (a *Agent) serveClientExec(req *structs.ClientStreamRequest, conn io.ReadWriteCloser) {
	enc := codec.NewEncoder(conn, structs.MsgpackHandle)
	var encMu sync.Mutex
	send := func(out *structs.ClientExecOutput) error {
		encMu.Lock()
		defer encMu.Unlock()
		return enc.Encode(out)
	}
	if _, ok := a.client.AllocDir(req.AllocID); !ok {
		_ = enc.Encode(&structs.ClientStreamHeader{Code: http.StatusNotFound,
			Error: "unknown allocation " + strconv.Quote(req.AllocID) + " on node " + a.client.NodeID()})
		return
	}
	if err := enc.Encode(&structs.ClientStreamHeader{}); err != nil {
		return
	}
	dec := codec.NewDecoder(conn, structs.MsgpackHandle)
	var er structs.ClientExecRequest
	if err := dec.Decode(&er); err != nil {
		a.logger.Debug("read exec request", "alloc_id", req.AllocID, "error", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pipes := newExecPipes()
	defer pipes.end()
	go func() {
		for {
			var in structs.ClientExecInput
			if err := dec.Decode(&in); err != nil {
				// The server closed the stream: its caller left.
				cancel()
				pipes.stdinW.CloseWithError(err)
				return
			}
			var size *plugins.TerminalSize
			if in.Resize {
				size = &plugins.TerminalSize{Height: in.Height, Width: in.Width}
			}
			if err := pipes.input(in.Stdin, in.StdinClose, size); err != nil {
				return
			}
		}
	}()
	output := func(stderr bool) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			out := &structs.ClientExecOutput{Stdout: p}
			if stderr {
				out = &structs.ClientExecOutput{Stderr: p}
			}
			if err := send(out); err != nil {
				return 0, err
			}
			return len(p), nil
		})
	}
	code, err := a.client.ExecAlloc(ctx, req.AllocID, er.Task, er.Command, er.Tty, pipes.stdinR,
		output(false), output(true), pipes.resize)
	if err = execError(err); err != nil {
		_ = send(&structs.ClientExecOutput{Error: err.Error()})
		return
	}
	_ = send(&structs.ClientExecOutput{Exited: true, ExitCode: code})
}

// isExecFSMethod reports whether a client stream method is exec or a file
// system request, served by serveExecFS.
func isExecFSMethod(method string) bool {
	return method == structs.ClientStreamAllocExec || structs.IsClientFSMethod(method)
}

// serveExecFS answers an exec or file system stream a server opened to
// this agent's client.
func (a *Agent) serveExecFS(req *structs.ClientStreamRequest, conn io.ReadWriteCloser) {
	if req.Method == structs.ClientStreamAllocExec {
		a.serveClientExec(req, conn)
		return
	}
	a.serveClientFS(req, conn)
}
