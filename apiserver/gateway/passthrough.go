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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sjson "github.com/segmentio/encoding/json"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
)

// The pass-through path of stateless calls. A 2026-07-28 tools/call whose
// upstream speaks the same version over Streamable HTTP needs nothing of an
// MCP session on either side: the request means the same to the upstream as
// it does to the gateway, and the answer the same to the caller. Such a
// call is posted upstream as the caller sent it (at an agent endpoint, with
// the tool's prefix taken off its name) — through the prober, with the
// record's credentials and the address guard — and the answer passed back
// as the upstream sent it (an answer alone on an event stream as a JSON
// body), read only as far as the audit needs (which call it answers,
// whether it is an error). That costs one decode of the
// request's envelope instead of an SDK server session, an SDK client call
// and their re-encodings.
//
// Everything else takes the SDK path (proxy.go, agent.go): other methods,
// other versions, pinned records (whose calls are judged against a live
// listing), stdio and SSE upstreams, and any request the gateway would
// answer with an error of its own (a malformed body, missing or mismatched
// Mcp-Method or Mcp-Name headers, a wrong media type, a tool no assignment
// has or allows), so that the errors and their audit events are the SDK
// path's. So does a record's first call after its upstream's last
// handshake is a minute old: it opens an upstream session, which reads the
// upstream's version again.

// maxPassEventBytes bounds one message of an upstream's event stream, as the
// SDK path bounds it.
const maxPassEventBytes = 2 * probe.MaxListingBytes

// passHeaders are the request headers passed upstream: what the message
// needs to be understood, never the caller's credentials or session.
var passHeaders = []string{"Accept", "Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name"}

// passRequest is what the pass-through path reads of a request.
type passRequest struct {
	JSONRPC string                     `json:"jsonrpc"`
	ID      json.RawMessage            `json:"id"`
	Method  string                     `json:"method"`
	Params  map[string]json.RawMessage `json:"params"`
}

// passEnvelope is what it reads of a request it passes on unchanged.
type passEnvelope struct {
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
	if r.Method != http.MethodPost || r.Header.Get("Mcp-Method") != "tools/call" {
		return false
	}
	version := r.Header.Get("Mcp-Protocol-Version")
	if version < statelessVersion || !passMedia(r) {
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil || len(body) > MaxBodyBytes {
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req passRequest
	var name string
	if ep.agentID == nil {
		// Nothing of the request is rewritten: read only what routes it.
		var slim passEnvelope
		if decodeJSON(body, &slim) != nil {
			return false
		}
		req.JSONRPC, req.ID, req.Method, name = slim.JSONRPC, slim.ID, slim.Method, slim.Params.Name
	} else if decodeJSON(body, &req) != nil || decodeJSON(req.Params["name"], &name) != nil {
		return false
	}
	if req.JSONRPC != "2.0" || req.Method != "tools/call" || !validID(req.ID) || name == "" || r.Header.Get("Mcp-Name") != name {
		return false
	}
	c, ok := ep.passLeg(r.Context(), name, version)
	if !ok {
		return false
	}
	c.id, c.body = req.ID, body
	c.header = http.Header{}
	for _, k := range passHeaders {
		if vs := r.Header.Values(k); len(vs) > 0 {
			c.header[k] = vs
		}
	}
	for k, vs := range r.Header {
		if strings.HasPrefix(k, "Mcp-Param-") {
			c.header[k] = vs
		}
	}
	if c.tool != name {
		// An agent's name for the tool: the upstream knows it by its own.
		c.header.Set("Mcp-Name", c.tool)
		req.Params["name"], _ = sjson.Marshal(c.tool)
		if c.body, err = sjson.Marshal(req); err != nil {
			return false
		}
	}
	ep.relay(w, r, c)
	return true
}

// passLeg is the call of name on the pass-through path — the record it
// goes to and the upstream's name for the tool — when it can take it: the
// record is an unpinned Streamable HTTP one whose upstream last spoke
// version (on the record as it is now), and for an agent, name is one of
// its assignments' tools that it may call. Anything else takes the SDK
// path, which says what is wrong.
func (ep *endpoint) passLeg(ctx context.Context, name, version string) (passCall, bool) {
	var l *leg
	tool := name
	if ep.agentID == nil {
		l = &leg{kind: kindServer, id: ep.record().ID, resolve: ep.serverRecord}
	} else {
		if l, tool = route(ep.passLegs(), name); l == nil || (l.allowed != nil && !slices.Contains(l.allowed, tool)) {
			return passCall{}, false
		}
	}
	key := recordKey{ep.key.tenant, l.kind, l.id}
	rec, ok := ep.g.readForPass(ctx, key, l.resolve)
	if !ok || rec.approved != nil || rec.target.Transport != contract.TransportHTTP || ep.g.spokenVersion(key, rec.version) != version {
		return passCall{}, false
	}
	return passCall{kind: l.kind, record: l.id, tool: tool, target: rec.target}, true
}

// passLegs are the legs of the agent's assignments as last read, made once
// per version of the agent (they only route and resolve: no session of
// theirs is ever opened).
func (ep *endpoint) passLegs() []*leg {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.legsOf.Equal(ep.agent.UpdatedAt) && ep.legs != nil {
		return ep.legs
	}
	legs := make([]*leg, 0, len(ep.agent.Assignments))
	for _, as := range ep.agent.Assignments {
		legs = append(legs, ep.assignmentLeg(nil, as))
	}
	ep.legs, ep.legsOf = legs, ep.agent.UpdatedAt
	return legs
}

// recordKey names a record the gateway reaches.
type recordKey struct {
	tenant   uuid.UUID
	kind, id string
}

// readRecord is a record as read for the pass-through path, at readAt.
type readRecord struct {
	rec    legRecord
	readAt time.Time
}

// spokenVersion is the protocol version a record's upstream agreed to in
// its last handshake, on the record's version record, at at.
type spokenVersion struct {
	protocol string
	record   time.Time
	at       time.Time
}

// readForPass is key's record by resolve, read again once it is recordTTL
// old (a PATCH or DELETE reaches the path within that bound, as it reaches
// new sessions); false when it cannot be read.
func (g *Gateway) readForPass(ctx context.Context, key recordKey, resolve func(context.Context) (legRecord, error)) (legRecord, bool) {
	g.passMu.Lock()
	e, ok := g.passRecord[key]
	g.passMu.Unlock()
	if ok && time.Since(e.readAt) < recordTTL {
		return e.rec, true
	}
	rec, err := resolve(ctx)
	if err != nil {
		return legRecord{}, false
	}
	g.passMu.Lock()
	defer g.passMu.Unlock()
	if g.passRecord == nil {
		g.passRecord = map[recordKey]readRecord{}
	}
	g.passRecord[key] = readRecord{rec: rec, readAt: time.Now()}
	if len(g.passRecord) > maxPassRecords {
		for k, e := range g.passRecord {
			if time.Since(e.readAt) >= recordTTL {
				delete(g.passRecord, k)
			}
		}
	}
	return rec, true
}

// maxPassRecords is how many records the pass-through path keeps before it
// drops those it would read again anyway.
const maxPassRecords = 1024

// rememberSpoken keeps the version an upstream session of key agreed to.
func (g *Gateway) rememberSpoken(key recordKey, record time.Time, protocol string) {
	g.passMu.Lock()
	defer g.passMu.Unlock()
	if g.spoken == nil {
		g.spoken = map[recordKey]spokenVersion{}
	}
	now := time.Now()
	g.spoken[key] = spokenVersion{protocol: protocol, record: record, at: now}
	if len(g.spoken) > maxPassRecords {
		for k, v := range g.spoken {
			if now.Sub(v.at) > helloMaxAge {
				delete(g.spoken, k)
			}
		}
	}
}

// spokenVersion is the version key's upstream last agreed to on the record's
// version record, if that was less than helloMaxAge ago; else "".
func (g *Gateway) spokenVersion(key recordKey, record time.Time) string {
	g.passMu.Lock()
	defer g.passMu.Unlock()
	v, ok := g.spoken[key]
	if !ok || !v.record.Equal(record) || time.Since(v.at) > helloMaxAge {
		return ""
	}
	return v.protocol
}

// passCall is one call on the pass-through path.
type passCall struct {
	// kind and record name the record, tool the upstream's name of the tool.
	kind, record, tool string
	target             probe.Target
	id                 json.RawMessage
	body               []byte
	header             http.Header
}

// relay posts c upstream and streams the answer to w.
func (ep *endpoint) relay(w http.ResponseWriter, r *http.Request, c passCall) {
	g := ep.g
	au := ep.startAudit(callerOf(r.Context()), "tools/call")
	done := func(outcome contract.AuditOutcome, err error) {
		if au != nil {
			au.record(r.Context(), c.kind, c.record, c.tool, outcome, err)
		}
	}
	ctx, cancel := g.upstreamContext(r.Context())
	defer cancel()
	resp, err := g.dialer.Post(ctx, c.target, c.body, c.header)
	if err != nil {
		g.log.WarnContext(r.Context(), "gateway: cannot reach the upstream MCP server", c.kind, c.record, "tenant", ep.key.tenant, "error", err)
		err = unavailable(err)
		if ctx.Err() != nil {
			err = upstreamError(ctx, ctx.Err())
		}
		done(contract.OutcomeUnavailable, err)
		writeRPCError(w, c.id, err)
		return
	}
	defer resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		err := refused(resp)
		done(contract.OutcomeError, err)
		writeRPCError(w, c.id, err)
	case ct == "application/json":
		data, err := io.ReadAll(resp.Body)
		var ans passAnswer
		if err == nil {
			err = decodeJSON(data, &ans)
		}
		if err == nil && (ans.Method != "" || !sameID(ans.ID, c.id)) {
			err = errors.New("the upstream MCP server answered with a message that does not answer the call")
		}
		if err != nil {
			err = upstreamError(ctx, err)
			done(contract.OutcomeError, err)
			writeRPCError(w, c.id, err)
			return
		}
		done(ans.outcome())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	case ct == "text/event-stream":
		ep.relayStream(ctx, cancel, w, resp.Body, c.id, done)
	default:
		err := upstreamError(ctx, fmt.Errorf("the upstream MCP server answered with %q, not JSON or an event stream", ct))
		done(contract.OutcomeError, err)
		writeRPCError(w, c.id, err)
	}
}

// relayStream passes an upstream's event stream on: each message as it
// comes (progress, logging, input requests of the call), the answer last,
// once its audit event is stored. A message answering another id is
// dropped; a stream that ends without the answer ends with an error. When
// nothing came before the answer (or the error), it goes back as a JSON
// body instead of a stream of one event: the caller accepted both (see
// passMedia), and a JSON body costs it, and the gateway, less to handle.
func (ep *endpoint) relayStream(ctx context.Context, cancel context.CancelFunc, w http.ResponseWriter, body io.Reader,
	id json.RawMessage, done func(contract.AuditOutcome, error)) {
	// The stream starts with the first message that is not the answer.
	streaming := false
	start := func() {
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache, no-transform")
		w.WriteHeader(http.StatusOK)
		streaming = true
	}
	rc := http.NewResponseController(w)
	write := func(data []byte) bool {
		if !streaming {
			start()
		}
		// Three writes into the response's buffer, not a formatted copy.
		_, err := io.WriteString(w, "event: message\ndata: ")
		if err == nil {
			_, err = w.Write(data)
		}
		if err == nil {
			_, err = io.WriteString(w, "\n\n")
		}
		return err == nil
	}
	// What comes before the answer is flushed as it comes; the answer goes
	// with the end of the response (one write, not two).
	send := func(data []byte) bool { return write(data) && rc.Flush() == nil }
	events := newEventReader(body)
	defer events.release()
	for {
		data, err := events.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the upstream MCP server ended its answer without a result")
			}
			err = upstreamError(ctx, err)
			done(contract.OutcomeError, err)
			if streaming {
				write(rpcError(id, err))
			} else {
				writeRPCError(w, id, err)
			}
			return
		}
		var ans passAnswer
		if decodeJSON(data, &ans) != nil {
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
		if streaming {
			write(data)
		} else {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(data)
		}
		events.drain(cancel)
		return
	}
}

// drainWait bounds how long an upstream's stream may take to end once the
// answer is in: read to its end, its connection serves the next call
// instead of being closed (a new TCP connection per call cost the API a
// seventh of its CPU).
const drainWait = 100 * time.Millisecond

// drain reads what is left of the stream (its end, as a rule), at most 64
// KiB of it; after drainWait, cancel (of the upstream request) ends the
// read and the connection is closed instead. The read happens here, not
// in a goroutine of its own: one fewer goroutine handoff per call.
func (e *eventReader) drain(cancel context.CancelFunc) {
	t := time.AfterFunc(drainWait, cancel)
	_, _ = io.Copy(io.Discard, io.LimitReader(e.r, 64<<10))
	t.Stop()
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
	if decodeJSON(head, &ans) == nil && ans.Error != nil && ans.Error.Message != "" {
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

// eventBuffers are the readers of finished streams, for the next ones: a
// 16 KiB buffer cleared for each call was a tenth of the path's allocation.
var eventBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

func newEventReader(r io.Reader) *eventReader {
	br, ok := eventBuffers.Get().(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(nil, 16<<10)
	}
	br.Reset(r)
	return &eventReader{r: br}
}

// release gives the reader's buffer back; e is not used after it.
func (e *eventReader) release() {
	e.r.Reset(nil)
	eventBuffers.Put(e.r)
	e.r = nil
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

// decodeJSON decodes data into v as the Go SDK does (segmentio's decoder,
// object keys matched case-sensitively), so that what the path reads of a
// message — the tool a call routes by, the id an answer is for — is what an
// SDK server or client makes of it; it also costs a fifth of encoding/json
// here. Data after the value, or nesting deeper than maxJSONDepth, is an
// error (the decoder recurses: a body of 4 MiB of "[" must not reach it).
func decodeJSON(data []byte, v any) error {
	if !shallowJSON(data, maxJSONDepth) {
		return fmt.Errorf("the message nests deeper than %d levels", maxJSONDepth)
	}
	rest, err := sjson.Parse(data, v, sjson.DontMatchCaseInsensitiveStructFields)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return errors.New("the message has data after its JSON value")
	}
	return nil
}

// maxJSONDepth bounds the nesting decodeJSON accepts, as the SDK bounds it.
const maxJSONDepth = 1000

// shallowJSON reports whether data nests objects and arrays at most limit
// levels deep (outside strings).
func shallowJSON(data []byte, limit int) bool {
	depth, inString, escaped := 0, false, false
	for _, b := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			if depth++; depth > limit {
				return false
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return true
}
