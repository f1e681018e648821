package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// The pass-through path of stateless calls. A 2026-07-28 tools/call to a
// /mcp/servers endpoint whose upstream speaks the same version over
// Streamable HTTP needs nothing of an MCP session on either side: the
// request means the same to the upstream as it does to the gateway, and the
// answer the same to the caller. Such a call is posted upstream as the
// caller sent it — through the prober, with the record's credentials and
// the address guard — and the answer streamed back as the upstream sent it,
// read only as far as the audit needs (which call it answers, whether it is
// an error). That costs one decode of the request's envelope instead of an
// SDK server session, an SDK client call and their re-encodings.
//
// Everything else takes the SDK path (proxy.go): other methods, other
// versions, pinned records (whose calls are judged against a live listing),
// stdio and SSE upstreams, agent endpoints, and any request the gateway
// would answer with an error of its own (a malformed body, missing or
// mismatched Mcp-Method or Mcp-Name headers, a wrong media type), so that
// the errors are the SDK's. So does the first call after the endpoint's
// last upstream handshake is a minute old: it opens an upstream session,
// which reads the upstream's version again.

// maxPassEventBytes bounds one message of an upstream's event stream, as the
// SDK path bounds it.
const maxPassEventBytes = 2 * probe.MaxListingBytes

// passHeaders are the request headers passed upstream: what the message
// needs to be understood, never the caller's credentials or session.
var passHeaders = []string{"Accept", "Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name"}

// passRequest is what the pass-through path reads of a request.
type passRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  struct {
		Name string `json:"name"`
	} `json:"params"`
}

// passAnswer is what it reads of a message the upstream sends back.
type passAnswer struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result *struct {
		IsError bool `json:"isError"`
	} `json:"result"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// passThrough serves r on the pass-through path when it can, and reports
// whether it did; when it did not, r is as it came (its body unread).
func (ep *endpoint) passThrough(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Mcp-Method") != "tools/call" || ep.agentID != nil {
		return false
	}
	row, ok := ep.passable(r.Header.Get("Mcp-Protocol-Version"))
	if !ok || !passMedia(r) {
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil || len(body) > MaxBodyBytes {
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req passRequest
	if json.Unmarshal(body, &req) != nil || req.JSONRPC != "2.0" || req.Method != "tools/call" || !validID(req.ID) ||
		req.Params.Name == "" || r.Header.Get("Mcp-Name") != req.Params.Name {
		return false
	}
	target, err := ep.passTarget(r.Context(), row)
	if err != nil {
		return false // the SDK path says why it cannot be reached
	}
	header := http.Header{}
	for _, k := range passHeaders {
		if vs := r.Header.Values(k); len(vs) > 0 {
			header[k] = vs
		}
	}
	for k, vs := range r.Header {
		if strings.HasPrefix(k, "Mcp-Param-") {
			header[k] = vs
		}
	}
	ep.relay(w, r, passCall{req: req, body: body, header: header, target: target, row: row})
	return true
}

// passCall is one call on the pass-through path.
type passCall struct {
	req    passRequest
	body   []byte
	header http.Header
	target probe.Target
	row    store.Server
}

// relay posts c upstream and streams the answer to w.
func (ep *endpoint) relay(w http.ResponseWriter, r *http.Request, c passCall) {
	g := ep.g
	au := ep.startAudit(callerOf(r.Context()), "tools/call")
	done := func(outcome contract.AuditOutcome, err error) {
		if au != nil {
			au.record(r.Context(), kindServer, c.row.ID, c.req.Params.Name, outcome, err)
		}
	}
	ctx, cancel := g.upstreamContext(r.Context())
	defer cancel()
	resp, err := g.dialer.Post(ctx, c.target, c.body, c.header)
	if err != nil {
		g.log.WarnContext(r.Context(), "gateway: cannot reach the upstream MCP server", "server", c.row.ID, "tenant", ep.key.tenant, "error", err)
		err = unavailable(err)
		if ctx.Err() != nil {
			err = upstreamError(ctx, ctx.Err())
		}
		done(contract.OutcomeUnavailable, err)
		writeRPCError(w, c.req.ID, err)
		return
	}
	defer resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		err := refused(resp)
		done(contract.OutcomeError, err)
		writeRPCError(w, c.req.ID, err)
	case ct == "application/json":
		data, err := io.ReadAll(resp.Body)
		var ans passAnswer
		if err == nil {
			err = json.Unmarshal(data, &ans)
		}
		if err == nil && (ans.Method != "" || !sameID(ans.ID, c.req.ID)) {
			err = errors.New("the upstream MCP server answered with a message that does not answer the call")
		}
		if err != nil {
			err = upstreamError(ctx, err)
			done(contract.OutcomeError, err)
			writeRPCError(w, c.req.ID, err)
			return
		}
		done(ans.outcome())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	case ct == "text/event-stream":
		ep.relayStream(ctx, w, resp.Body, c.req.ID, done)
	default:
		err := upstreamError(ctx, fmt.Errorf("the upstream MCP server answered with %q, not JSON or an event stream", ct))
		done(contract.OutcomeError, err)
		writeRPCError(w, c.req.ID, err)
	}
}

// relayStream passes an upstream's event stream on: each message as it
// comes (progress, logging, input requests of the call), the answer last,
// once its audit event is stored. A message answering another id is
// dropped; a stream that ends without the answer ends with an error.
func (ep *endpoint) relayStream(ctx context.Context, w http.ResponseWriter, body io.Reader, id json.RawMessage,
	done func(contract.AuditOutcome, error)) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(data []byte) bool {
		if _, err := fmt.Fprintf(w, "event: message\ndata: %s\n\n", data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	events := newEventReader(body)
	for {
		data, err := events.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the upstream MCP server ended its answer without a result")
			}
			err = upstreamError(ctx, err)
			done(contract.OutcomeError, err)
			send(rpcError(id, err))
			return
		}
		var ans passAnswer
		if json.Unmarshal(data, &ans) != nil {
			continue // not JSON-RPC: nothing the caller could use
		}
		if ans.Method != "" {
			if !send(data) {
				return // the caller went away; the call is cancelled with ctx
			}
			continue
		}
		if !sameID(ans.ID, id) {
			continue
		}
		done(ans.outcome())
		send(data)
		return
	}
}

// outcome is the audit outcome of an answer, and its error.
func (a passAnswer) outcome() (contract.AuditOutcome, error) {
	switch {
	case a.Error != nil:
		return contract.OutcomeError, &jsonrpc.Error{Message: a.Error.Message}
	case a.Result != nil && a.Result.IsError:
		return contract.OutcomeError, nil
	}
	return contract.OutcomeOK, nil
}

// passable is the endpoint's record when r's call can take the
// pass-through path: the caller speaks version, the upstream's last
// handshake (on the record as it is now, and recent) said the same, and
// the record is an unpinned Streamable HTTP one.
func (ep *endpoint) passable(version string) (store.Server, bool) {
	if version < statelessVersion {
		return store.Server{}, false
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	row := ep.row
	if ep.hello == nil || ep.hello.ProtocolVersion != version || !ep.helloVersion.Equal(row.UpdatedAt) ||
		time.Since(ep.helloAt) > helloMaxAge {
		return store.Server{}, false
	}
	if row.ApprovedToolsHash != nil || row.TransportType != string(contract.TransportHTTP) {
		return store.Server{}, false
	}
	return row, true
}

// passTarget is how to reach row, read once per version of the record.
func (ep *endpoint) passTarget(ctx context.Context, row store.Server) (probe.Target, error) {
	ep.mu.Lock()
	if ep.passAt.Equal(row.UpdatedAt) && ep.passTo.URL != "" {
		t := ep.passTo
		ep.mu.Unlock()
		return t, nil
	}
	ep.mu.Unlock()
	t, err := ep.g.targets.ServerTarget(ctx, row)
	if err != nil {
		return probe.Target{}, err
	}
	ep.mu.Lock()
	ep.passTo, ep.passAt = t, row.UpdatedAt
	ep.mu.Unlock()
	return t, nil
}

// passMedia reports whether r is a JSON request that takes both kinds of
// answer, as the SDK requires (it answers the others with its errors).
func passMedia(r *http.Request) bool {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return false
	}
	var json, stream bool
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
			switch mt {
			case "application/json", "application/*":
				json = true
			case "text/event-stream", "text/*":
				stream = true
			case "*/*":
				json, stream = true, true
			}
		}
	}
	return json && stream
}

// validID reports whether id is a JSON-RPC request id: a string or a number.
func validID(id json.RawMessage) bool {
	id = bytes.TrimSpace(id)
	if len(id) == 0 {
		return false
	}
	c := id[0]
	return c == '"' || c == '-' || (c >= '0' && c <= '9')
}

// sameID reports whether two ids are one: as sent, or as the same value
// written differently.
func sameID(a, b json.RawMessage) bool {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if bytes.Equal(a, b) {
		return len(a) > 0
	}
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && x != nil && reflect.DeepEqual(x, y)
}

// refused is the error of an upstream that answered the call with an HTTP
// error: its status, and the JSON-RPC message it gave if it gave one (never
// anything it said about the gateway's credentials beyond the status).
func refused(resp *http.Response) error {
	msg := fmt.Sprintf("upstream MCP server: it answered HTTP %d", resp.StatusCode)
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg + ": it does not accept the record's credentials"}
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, snippetBytes))
	var ans passAnswer
	if json.Unmarshal(head, &ans) == nil && ans.Error != nil && ans.Error.Message != "" {
		msg += ": " + ans.Error.Message
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg}
}

// snippetBytes is how much of an upstream's HTTP error is read for its message.
const snippetBytes = 1024

// rpcError is the JSON-RPC error response to id for err.
func rpcError(id json.RawMessage, err error) []byte {
	var je *jsonrpc.Error
	if !errors.As(err, &je) {
		je = &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: err.Error()}
	}
	data, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   *jsonrpc.Error  `json:"error"`
	}{"2.0", id, je})
	return data
}

// writeRPCError answers the call with err, as the SDK answers a handler's
// error: HTTP 200 and a JSON-RPC error.
func writeRPCError(w http.ResponseWriter, id json.RawMessage, err error) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(rpcError(id, err))
}

// eventReader reads the data of an event stream's events.
type eventReader struct {
	r    *bufio.Reader
	data []byte
}

func newEventReader(r io.Reader) *eventReader {
	return &eventReader{r: bufio.NewReaderSize(r, 16<<10)}
}

// next is the data of the next event that has some.
func (e *eventReader) next() ([]byte, error) {
	e.data = e.data[:0]
	has := false
	for {
		line, err := e.line()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			if has {
				return e.data, nil
			}
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if string(field) != "data" {
			continue // event, id, retry, comments: nothing the answer needs
		}
		value = bytes.TrimPrefix(value, []byte(" "))
		if has {
			e.data = append(e.data, '\n')
		}
		if len(e.data)+len(value) > maxPassEventBytes {
			return nil, fmt.Errorf("the upstream MCP server sent a message larger than %d bytes", maxPassEventBytes)
		}
		e.data = append(e.data, value...)
		has = true
	}
}

// line is the next line, without its end.
func (e *eventReader) line() ([]byte, error) {
	var long []byte
	for {
		frag, err := e.r.ReadSlice('\n')
		if err == nil || errors.Is(err, bufio.ErrBufferFull) {
			if long == nil && err == nil {
				return bytes.TrimRight(frag, "\r\n"), nil
			}
			if len(long)+len(frag) > maxPassEventBytes {
				return nil, fmt.Errorf("the upstream MCP server sent a line longer than %d bytes", maxPassEventBytes)
			}
			long = append(long, frag...)
			if err == nil {
				return bytes.TrimRight(long, "\r\n"), nil
			}
			continue
		}
		if len(frag) > 0 || len(long) > 0 {
			// A last line without its end is no event: the stream was cut.
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
}
