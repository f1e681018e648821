package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// How the raw list results are captured.
//
// The SDK decodes a tools/list result into mcp.Tool values, which drop every
// field the SDK does not model, yet a tool's hash must cover all of them. So
// the list requests go through the SDK as usual (it keeps the protocol
// right: the 2026-07-28 request _meta, headers, sessions, version
// negotiation), and the raw result is read off the wire underneath it, before
// the SDK sees it:
//
//   - Streamable HTTP and SSE: in the check's http.RoundTripper, which
//     already sees every request and response. A POST carrying the list
//     request arms the capture with its JSON-RPC id; the answer is read from
//     the JSON body, or from the SSE events of the POST response or (legacy
//     SSE) of the event stream, as the SDK reads those bytes.
//   - stdio: by wrapping the mcp.Connection, whose Read hands over each
//     jsonrpc.Response with its raw Result bytes.
//
// Wrapping the mcp.Connection is not used for HTTP on purpose: the
// Streamable HTTP connection implements an unexported SDK interface
// (clientConnection.sessionUpdated) through which it learns the negotiated
// version for its Mcp-Protocol-Version header; a wrapper hides it, and
// initialize-era sessions would then send requests without that header.
// The wire underneath the SDK is the protocol itself and does not change
// with SDK internals.
//
// List requests are made one at a time, so the capture holds at most one
// page, and never more than maxMessageBytes of it.

// rawCapture is the raw-result capture of one check.
type rawCapture struct {
	mu sync.Mutex
	// method is the list method armed for the next request; id is the
	// JSON-RPC id of the request once it has been seen going out.
	method, id string
	result     json.RawMessage
	got        bool
	// over is set once an answer larger than maxMessageBytes was cut off.
	over atomic.Bool
	// notices counts the progress and logging notifications a session's
	// event streams carried (Session.Notices).
	notices atomic.Uint64
}

// arm readies the capture for the next request of method.
func (c *rawCapture) arm(method string) {
	c.mu.Lock()
	c.method, c.id, c.result, c.got = method, "", nil, false
	c.mu.Unlock()
}

// armed reports whether a list request is about to go out.
func (c *rawCapture) armed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.method != "" && c.id == ""
}

// waiting reports whether an answer is awaited.
func (c *rawCapture) waiting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id != "" && !c.got
}

// sent notes a request going out, and reports whether its answer will be
// captured: the first request of the armed method is, and the same request
// sent again (where a redirect points) while its answer is awaited.
func (c *rawCapture) sent(method, id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.method == "" || method != c.method || id == "" {
		return false
	}
	if c.id == "" {
		c.id = id
		return true
	}
	return id == c.id && !c.got
}

// received offers the result of the response to id; it is kept (copied,
// since the caller's buffer is reused) when it answers the captured request.
func (c *rawCapture) received(id string, result []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.id == "" || id != c.id || c.got {
		return
	}
	c.got = true
	if len(result) > maxMessageBytes {
		c.over.Store(true)
		return
	}
	c.result = bytes.Clone(result)
}

// take returns the captured result and disarms the capture.
func (c *rawCapture) take() (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.result, c.got && c.result != nil
	c.method, c.id, c.result, c.got = "", "", nil, false
	return r, ok
}

func (c *rawCapture) overflow()        { c.over.Store(true) }
func (c *rawCapture) overflowed() bool { return c.over.Load() }

// idKey is a JSON-RPC id in a form that compares equal however it was
// spelled: from the SDK's jsonrpc.ID (int64 or string) or from the wire.
func idKey(v any) string {
	switch v := v.(type) {
	case string:
		return "s:" + v
	case int64:
		return "n:" + strconv.FormatInt(v, 10)
	case json.Number:
		return "n:" + v.String()
	}
	return ""
}

// wireIDKey is idKey of a raw JSON id.
func wireIDKey(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return ""
	}
	return idKey(v)
}

// capturingConn feeds a stdio connection's traffic to the capture.
type capturingConn struct {
	mcp.Connection
	wire *rawCapture
}

func (c *capturingConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if req, ok := msg.(*jsonrpc.Request); ok && req.IsCall() {
		c.wire.sent(req.Method, idKey(req.ID.Raw()))
	}
	return c.Connection.Write(ctx, msg)
}

func (c *capturingConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	if resp, ok := msg.(*jsonrpc.Response); ok && err == nil && resp.Error == nil {
		c.wire.received(idKey(resp.ID.Raw()), resp.Result)
	}
	return msg, err
}

// wireMessage is the part of a JSON-RPC message the capture looks at.
type wireMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
}

// offerMessage hands one JSON-RPC message from the wire to the capture.
func (c *rawCapture) offerMessage(data []byte) {
	if !c.waiting() {
		return
	}
	var m wireMessage
	if json.Unmarshal(data, &m) != nil || m.Method != "" || m.Result == nil {
		return
	}
	c.received(wireIDKey(m.ID), m.Result)
}

// noteRequest notes an outgoing HTTP request body, and reports whether it
// is the armed list request.
func (c *rawCapture) noteRequest(body []byte) bool {
	var m wireMessage
	if json.Unmarshal(body, &m) != nil || m.Method == "" || m.ID == nil {
		return false
	}
	return c.sent(m.Method, wireIDKey(m.ID))
}

// errBodyTooLarge is what a limited body returns past its limit.
var errBodyTooLarge = errors.New("response body exceeds the probe's size limit")

// limitedBody fails a read past limit bytes, and marks the capture, since the
// SDK reports body errors as text only.
type limitedBody struct {
	io.ReadCloser
	left int64
	wire *rawCapture
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		n = int(b.left)
		b.left = 0
		b.wire.overflow()
		return n, errBodyTooLarge
	}
	b.left -= int64(n)
	return n, err
}

// tapBody shows the bytes the SDK reads from a response body to the
// capture, before the SDK sees them: a JSON body whole at its end, an event
// stream event by event.
type tapBody struct {
	io.ReadCloser
	wire *rawCapture
	sse  bool
	// buf is the JSON body so far, or the event stream's unfinished line.
	buf []byte
	// data is the current event's data.
	data []byte
	// skip drops the rest of a line or event that grew past maxMessageBytes.
	skipLine, skipEvent bool
	done                bool
}

func (b *tapBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.sse {
		b.feedSSE(p[:n])
	} else if !b.done {
		if len(b.buf)+n <= maxMessageBytes {
			b.buf = append(b.buf, p[:n]...)
		} else {
			b.done = true // the limited body below fails this read soon
			b.buf = nil
		}
		if err == io.EOF {
			b.done = true
			b.wire.offerMessage(b.buf)
			b.buf = nil
		}
	}
	return n, err
}

// feedSSE splits the stream into lines and lines into events (the
// text/event-stream format: "data:" lines, a blank line ends an event).
func (b *tapBody) feedSSE(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if !b.skipLine {
				if len(b.buf)+len(p) > maxMessageBytes {
					b.skipLine, b.buf = true, nil
				} else {
					b.buf = append(b.buf, p...)
				}
			}
			return
		}
		chunk := p[:i]
		p = p[i+1:]
		if b.skipLine {
			b.skipLine, b.skipEvent = false, true
			continue
		}
		line := chunk
		if len(b.buf) > 0 {
			line = append(b.buf, chunk...)
		}
		b.line(bytes.TrimSuffix(line, []byte("\r")))
		b.buf = b.buf[:0]
	}
}

// line handles one complete event-stream line.
func (b *tapBody) line(l []byte) {
	if len(l) == 0 {
		if !b.skipEvent && len(b.data) > 0 {
			b.wire.offerMessage(b.data)
		}
		b.data, b.skipEvent = b.data[:0], false
		return
	}
	v, ok := bytes.CutPrefix(l, []byte("data:"))
	if !ok || b.skipEvent {
		return
	}
	v = bytes.TrimPrefix(v, []byte(" "))
	if len(b.data)+len(v)+1 > maxMessageBytes {
		b.skipEvent, b.data = true, b.data[:0]
		return
	}
	if len(b.data) > 0 {
		b.data = append(b.data, '\n')
	}
	b.data = append(b.data, v...)
}
