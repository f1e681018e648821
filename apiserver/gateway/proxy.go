package gateway

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// proxy is one downstream session and the upstream sessions it opened, one
// per leg: the MCP server the SDK serves it with, whose receiving
// middleware forwards requests upstream, and the upstream clients'
// handlers, which send what an upstream says back to this session only.
//
// A /mcp/servers session has one leg whose names pass as they are; an
// agent session has a leg per assignment, whose names carry its prefix.
type proxy struct {
	ep     *endpoint
	server *mcp.Server
	// caller opened the session (its other requests are the same
	// principal's, sessions.go sees to that); audit events name it.
	caller Caller
	legs   []*leg
	// agent is set for the sessions of an agent endpoint: the aggregate
	// of its legs, whose upstreams come and go without ending it.
	agent bool
	// shared is set for a pooled proxy of stateless requests
	// (stateless.go): each request has a temporary session of its own,
	// so there is no downstream session to follow or end, and server is nil.
	shared bool
	// instructions are the agent's composed instructions.
	instructions *string

	mu sync.Mutex
	ss *mcp.ServerSession
	// calls are the downstream requests in progress, oldest first: what
	// an upstream sends between them belongs to one of them.
	calls []*call
	// gone is set once the downstream session ended.
	gone bool
}

// call is one downstream request in progress.
type call struct {
	ctx   context.Context
	ss    *mcp.ServerSession
	token string // its progress token, "" when it has none
	// upToken is the progress token sent upstream in its place by a pooled
	// proxy, whose callers choose their tokens independently.
	upToken string
	// orig is the progress token as the downstream sent it.
	orig any
}

// leg is one record a downstream session reaches, and its upstream
// session, opened on first use.
type leg struct {
	p *proxy
	// prefix namespaces the leg's tools and prompts as <prefix>__<name>;
	// empty for the single leg of /mcp/servers.
	prefix string
	// allowed are the tools the agent may use; nil means all.
	allowed []string
	// kind and id name the record, as audit events do.
	kind string
	id   string
	// resolve reads the record: how to reach it and its approved catalog.
	resolve func(ctx context.Context) (legRecord, error)

	// dial serialises opening the upstream.
	dial sync.Mutex
	mu   sync.Mutex
	up   *probe.Session
	pin  *pinning
	// handled counts what up's notification handlers passed on (settle).
	handled *atomic.Uint64
}

// settleWait bounds how long an answer waits for the notifications before it.
const settleWait = time.Second

// settle waits until the handlers of up have passed on every progress and
// logging notification up has read so far: the SDK hands those to their
// handlers apart from the answer that follows them on the wire, and the
// downstream must hear them before that answer, as the upstream sent them.
// One the SDK never handed on (it could not decode it) is given up on after
// settleWait, and not waited for again.
func (l *leg) settle(up *probe.Session) {
	l.mu.Lock()
	handled := l.handled
	if l.up != up {
		handled = nil
	}
	l.mu.Unlock()
	want := up.Notices()
	if handled == nil || handled.Load() >= want {
		return
	}
	for deadline := time.Now().Add(settleWait); handled.Load() < want; {
		if time.Now().After(deadline) {
			for n := handled.Load(); n < want && !handled.CompareAndSwap(n, want); n = handled.Load() {
			}
			return
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// legRecord is what a leg needs of its record when it opens.
type legRecord struct {
	target   probe.Target
	kind     store.RecordKind
	approved *string
	// version is the record's own (its updated_at).
	version time.Time
}

// Audit record kinds of the two kinds of legs.
const (
	kindServer     = "server"
	kindConnection = "connection"
)

// newProxy is the proxy of a downstream session of caller at ep, or with
// shared, a pooled proxy of its stateless requests (which the endpoint's
// shared server serves, so it has no server of its own).
func newProxy(ep *endpoint, caller Caller, shared bool) *proxy {
	p := &proxy{ep: ep, caller: caller, shared: shared}
	opts := &mcp.ServerOptions{Logger: ep.g.log}
	if ep.agentID == nil {
		row := ep.record()
		p.legs = []*leg{{p: p, kind: kindServer, id: row.ID, resolve: ep.serverRecord}}
		// resources/subscribe reaches the SDK (which keeps the
		// subscription, so resource updates reach this session) only
		// once the upstream has taken it.
		opts.SubscribeHandler = func(context.Context, *mcp.SubscribeRequest) error { return nil }
		opts.UnsubscribeHandler = func(context.Context, *mcp.UnsubscribeRequest) error { return nil }
	} else {
		p.agent = true
		a := ep.agentRecord()
		p.instructions = a.Instructions()
		for _, as := range a.Assignments {
			p.legs = append(p.legs, ep.assignmentLeg(p, as))
		}
	}
	if !shared {
		p.server = mcp.NewServer(gatewayInfo, opts)
		p.server.AddReceivingMiddleware(p.middleware)
	}
	return p
}

// receive is the receiving middleware of a /mcp/servers session: the
// handshake and the session's own bookkeeping stay with the SDK, the rest
// goes to its one upstream.
func (p *proxy) receive(next mcp.MethodHandler) mcp.MethodHandler {
	l := p.legs[0]
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		ss := p.session(req)
		switch method {
		case "initialize", "server/discover":
			return handshake(ctx, next, method, req, func(res mcp.Result) error {
				// The upstream's own handshake describes the session; the
				// endpoint's last one will do, so that a session opens its
				// upstream (connection, stdio process) on its first request
				// rather than holding one while it idles.
				hello := p.ep.lastHello()
				if hello == nil {
					up, _, err := l.upstream(ctx, ss)
					if err != nil {
						return err
					}
					hello = up.InitializeResult()
				}
				describe(res, hello)
				return nil
			})
		case "notifications/initialized", "notifications/cancelled", "notifications/progress",
			"notifications/roots/list_changed":
			// Cancellation ends the handler's context, which cancels
			// the upstream call it is waiting for.
			return next(ctx, method, req)
		}
		au := p.startAudit(method)
		up, pin, err := l.upstream(ctx, ss)
		if err != nil {
			au.done(ctx, l, auditName(req.GetParams()), contract.OutcomeUnavailable, err)
			return nil, err
		}
		done := p.begin(ctx, ss, req.GetParams())
		defer done()
		dctx := ctx // the downstream request's, for the SDK's own handlers
		ctx, cancel := p.ep.g.upstreamContext(ctx)
		defer cancel()
		switch method {
		case "ping":
			if v := up.InitializeResult().ProtocolVersion; v >= statelessVersion {
				return next(dctx, method, req) // the upstream has no ping; we answer
			}
			res, err := next(dctx, method, req)
			if err == nil {
				err = up.Ping(ctx, nil)
			}
			return res, upstreamError(ctx, err)
		case "logging/setLevel":
			// The SDK keeps the level (it filters what is sent down), the
			// upstream gets it too.
			params, ok := req.GetParams().(*mcp.SetLoggingLevelParams) //nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
			if !ok {
				return nil, errParams
			}
			if err := up.SetLoggingLevel(ctx, params); err != nil { //nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
				return nil, upstreamError(ctx, err)
			}
			return next(dctx, method, req)
		case "resources/subscribe", "resources/unsubscribe":
			// The SDK keeps the subscription (so updates reach this
			// session) once the upstream has taken it.
			if err := subscribe(ctx, up, req.GetParams()); err != nil {
				return nil, err
			}
			return next(dctx, method, req)
		case "tools/call":
			params, ok := req.GetParams().(*mcp.CallToolParamsRaw)
			if !ok || params == nil {
				return nil, errParams
			}
			if err := pin.callable(ctx, up, params.Name); err != nil {
				au.done(dctx, l, params.Name, contract.OutcomeBlocked, err)
				return nil, err
			}
		}
		res, err := forward(ctx, up.ClientSession, method, req.GetParams())
		l.settle(up)
		err = upstreamError(ctx, err)
		if lt, ok := res.(*mcp.ListToolsResult); ok && err == nil && pin != nil {
			// A copy: the SDK client may keep lt in its list cache.
			out := *lt
			out.Tools = pin.listed(lt.Tools)
			res = &out
		}
		au.done(dctx, l, auditName(req.GetParams()), outcomeOf(res, err), err)
		return res, err
	}
}

// session is the downstream session of req, which p attaches to on its
// first request.
func (p *proxy) session(req mcp.Request) *mcp.ServerSession {
	ss, _ := req.GetSession().(*mcp.ServerSession)
	p.attach(ss)
	return ss
}

// handshake is the SDK's answer to an initialize or server/discover, made
// the gateway's by describe.
func handshake(ctx context.Context, next mcp.MethodHandler, method string, req mcp.Request, describe func(mcp.Result) error) (mcp.Result, error) {
	res, err := next(ctx, method, req)
	if err != nil {
		return res, err
	}
	if err := describe(res); err != nil {
		return nil, err
	}
	return res, nil
}

// errParams answers a request whose parameters the SDK did not decode to
// their type (it never happens with the SDK's own method table).
var errParams = &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid params"}

// attach remembers the downstream session on its first request, and
// releases every upstream session once it ends.
func (p *proxy) attach(ss *mcp.ServerSession) {
	if ss == nil || p.shared {
		return
	}
	p.mu.Lock()
	first := p.ss == nil
	if first {
		p.ss = ss
	}
	p.mu.Unlock()
	if !first {
		return
	}
	p.ep.g.endings.onEnd(ss, func() {
		p.mu.Lock()
		p.gone = true
		p.mu.Unlock()
		for _, l := range p.legs {
			l.close()
		}
	})
}

// upstream is the leg's upstream session and its pinning, opened on first
// use with the downstream's capabilities mirrored. Once the downstream
// session ends the upstream is closed. Once the upstream ends, so does the
// downstream of /mcp/servers; an agent's leg opens again on its next use.
func (l *leg) upstream(ctx context.Context, ss *mcp.ServerSession) (*probe.Session, *pinning, error) {
	p := l.p
	l.mu.Lock()
	up, pin := l.up, l.pin
	l.mu.Unlock()
	if up != nil {
		pin, err := l.repin(ctx, up, pin)
		if err != nil {
			return nil, nil, err
		}
		return up, pin, nil
	}
	p.mu.Lock()
	gone := p.gone
	p.mu.Unlock()
	if gone || ss == nil {
		return nil, nil, errors.New("the MCP session has ended")
	}
	l.dial.Lock()
	defer l.dial.Unlock()
	l.mu.Lock()
	up, pin = l.up, l.pin
	l.mu.Unlock()
	if up != nil {
		return up, pin, nil
	}
	g := p.ep.g
	rec, err := l.resolve(ctx)
	if err != nil {
		g.log.WarnContext(ctx, "gateway: cannot reach the record of an upstream MCP session", l.attrs("error", err)...)
		return nil, nil, unavailable(err)
	}
	// Its error is the JSON-RPC error to answer with; it logs what it must.
	pin, err = g.pinningFor(ctx, rec.kind, p.ep.key.tenant, l.id, rec.approved)
	if err != nil {
		return nil, nil, err
	}
	if pin != nil && p.shared {
		// A pooled session hears of no list change (it opens no stream
		// for them): every call is judged on a listing read for it.
		pin.maxAge = 0
	}
	handled := new(atomic.Uint64)
	client := mcp.NewClient(clientInfo, l.clientOptions(ss.InitializeParams(), handled))
	client.AddReceivingMiddleware(p.serverRequests)
	up, err = g.connect(ctx, rec.target, client, p.shared)
	if err != nil {
		g.log.WarnContext(ctx, "gateway: cannot open the upstream MCP session", l.attrs("error", err)...)
		return nil, nil, unavailable(err)
	}
	p.mu.Lock()
	gone = p.gone
	p.mu.Unlock()
	if gone {
		_ = up.Close()
		return nil, nil, errors.New("the MCP session has ended")
	}
	l.mu.Lock()
	l.up, l.pin, l.handled = up, pin, handled
	if !p.agent {
		p.ep.rememberHello(up.InitializeResult())
	}
	l.mu.Unlock()
	g.rememberSpoken(recordKey{p.ep.key.tenant, l.kind, l.id}, rec.version, up.InitializeResult().ProtocolVersion)
	go func() {
		_ = up.Wait()
		l.mu.Lock()
		if l.up == up {
			l.up, l.pin = nil, nil
		}
		l.mu.Unlock()
		if !p.agent && !p.shared {
			_ = ss.Close()
		}
	}()
	return up, pin, nil
}

// repin is the pinning of the leg's record as it is now, read at most once
// per recordTTL: a session opened before its record's approvedToolsHash
// was set, changed or removed is held to the new one within that bound.
// A record that cannot be read keeps the pinning the session has.
func (l *leg) repin(ctx context.Context, up *probe.Session, pin *pinning) (*pinning, error) {
	g, tenant := l.p.ep.g, l.p.ep.key.tenant
	rec, ok := g.readForPass(ctx, recordKey{tenant, l.kind, l.id}, l.resolve)
	if !ok {
		return pin, nil
	}
	approved := ""
	if rec.approved != nil {
		approved = *rec.approved
	}
	if (pin == nil && approved == "") || (pin != nil && pin.approvedHash == approved) {
		return pin, nil
	}
	next, err := g.pinningFor(ctx, rec.kind, tenant, l.id, rec.approved)
	if err != nil {
		return nil, err
	}
	if next != nil && l.p.shared {
		next.maxAge = 0
	}
	l.mu.Lock()
	if l.up == up {
		l.pin = next
	}
	l.mu.Unlock()
	return next, nil
}

// close ends the leg's upstream session, if it has one.
func (l *leg) close() {
	l.dial.Lock() // after a dial in progress, which then sees the session gone
	defer l.dial.Unlock()
	l.mu.Lock()
	up := l.up
	l.up, l.pin = nil, nil
	l.mu.Unlock()
	if up != nil {
		_ = up.Close()
	}
}

// attrs are the log attributes naming the leg, then kv.
func (l *leg) attrs(kv ...any) []any {
	out := []any{l.kind, l.id, "tenant", l.p.ep.key.tenant}
	if l.p.agent {
		out = append(out, "agent", l.p.ep.key.id, "prefix", l.prefix)
	}
	return append(out, kv...)
}

// clientInfo is how the gateway introduces itself to upstream servers.
var clientInfo = &mcp.Implementation{Name: "mcpconn-gateway", Version: "1.0.0"}

// clientOptions mirror the downstream client: the upstream may ask for
// sampling, elicitation or roots exactly when the downstream offers them,
// and gets the answer from it.
//
// handled counts the notifications of the request's kind (progress,
// logging) the handlers have passed on, for settle.
func (l *leg) clientOptions(ip *mcp.InitializeParams, handled *atomic.Uint64) *mcp.ClientOptions {
	p := l.p
	caps := &mcp.ClientCapabilities{}
	version := ""
	if ip != nil {
		version = ip.ProtocolVersion
		if ip.Capabilities != nil {
			*caps = *ip.Capabilities
		}
	}
	opts := &mcp.ClientOptions{
		Logger:       p.ep.g.log,
		Capabilities: caps,
		//nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
		LoggingMessageHandler: func(ctx context.Context, r *mcp.LoggingMessageRequest) {
			p.logMessage(ctx, r)
			handled.Add(1)
		},
		ProgressNotificationHandler: func(ctx context.Context, r *mcp.ProgressNotificationClientRequest) {
			p.progress(ctx, r)
			handled.Add(1)
		},
	}
	if !p.shared {
		// A pooled session has no downstream session to tell, and a
		// list_changed handler would make the SDK client hold a
		// subscriptions/listen request open on a 2026-07-28 upstream.
		opts.ToolListChangedHandler = func(context.Context, *mcp.ToolListChangedRequest) {
			l.mu.Lock()
			pin := l.pin
			l.mu.Unlock()
			pin.changed()
			p.listChanged(toolsChanged)
		}
		opts.PromptListChangedHandler = func(context.Context, *mcp.PromptListChangedRequest) { p.listChanged(promptsChanged) }
	}
	if !p.agent && !p.shared {
		// Agents are not offered resources.
		opts.ResourceListChangedHandler = func(context.Context, *mcp.ResourceListChangedRequest) { p.listChanged(resourcesChanged) }
		opts.ResourceUpdatedHandler = p.resourceUpdated
	}
	if caps.Sampling != nil { //nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
		opts.CreateMessageWithToolsHandler = p.createMessage //nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
	}
	if caps.Elicitation != nil {
		// elicitation/create requests are answered in serverRequests; the
		// handler answers the input requests of a 2026-07-28 upstream.
		opts.ElicitationHandler = p.elicit
	}
	if version >= statelessVersion {
		// A 2026-07-28 downstream answers input requests itself, in its
		// retry: pass them down rather than fulfil them here.
		opts.MultiRoundTrip = &mcp.MultiRoundTripOptions{Disabled: true}
	}
	return opts
}

// begin records a downstream request in progress until done is called.
func (p *proxy) begin(ctx context.Context, ss *mcp.ServerSession, params mcp.Params) (done func()) {
	c := &call{ctx: ctx, ss: ss}
	// Params are pointers, nil for a request that sent none.
	if hasParams(params) {
		if tok := params.GetMeta()["progressToken"]; tok != nil {
			c.token, c.orig = fmt.Sprint(tok), tok
			if p.shared {
				// Two callers' requests may carry the same token on one
				// upstream session: it gets one of the gateway's own.
				c.upToken = fmt.Sprintf("mcpconn-%d", progressTokens.Add(1))
				params.GetMeta()["progressToken"] = c.upToken
			}
		}
	}
	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		if i := slices.Index(p.calls, c); i >= 0 {
			p.calls = slices.Delete(p.calls, i, i+1)
		}
		p.mu.Unlock()
	}
}

// hasParams reports whether a request sent parameters: they are pointers,
// nil (in a non-nil interface) for a request that sent none.
func hasParams(params mcp.Params) bool {
	return params != nil && !reflect.ValueOf(params).IsNil()
}

// progressTokens numbers the progress tokens pooled proxies send upstream.
var progressTokens atomic.Int64

// origin is the context of the downstream request something an upstream
// sent belongs to — the one whose progress token it carries, else the
// latest in progress — so that the SDK sends it on that request's stream;
// with none in progress, the session's own stream. token is the progress
// token to send down in place of the one the upstream sent.
func (p *proxy) origin(upToken any) (ctx context.Context, ss *mcp.ServerSession, token any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if upToken != nil {
		key := fmt.Sprint(upToken)
		for _, c := range p.calls {
			if (c.upToken == "" && c.token == key) || (c.upToken != "" && c.upToken == key) {
				return c.ctx, c.ss, c.orig
			}
		}
	}
	// A pooled proxy's requests are separate requests of one caller: what
	// carries a token of none of them (a finished call's) goes nowhere,
	// what carries none goes to one only when it is alone.
	if p.shared && upToken != nil {
		return context.Background(), nil, upToken
	}
	if n := len(p.calls); n > 0 && (!p.shared || n == 1) {
		return p.calls[n-1].ctx, p.calls[n-1].ss, upToken
	}
	// A pooled proxy has no session of its own to send on.
	return context.Background(), p.ss, upToken
}
